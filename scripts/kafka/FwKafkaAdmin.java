import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Small admin helper used by scripts/kafka-*.sh so that waiting for the broker and
 * creating every topic takes a single JVM launch.
 *
 * <pre>
 * FwKafkaAdmin --bootstrap HOST:PORT [--wait SECONDS] [--partitions N] COMMAND [ARGS]
 *   ping                      succeed once the cluster answers (cluster id + topic list)
 *   list                      topic names, one per line (internal topics excluded)
 *   describe [NAME...]        "NAME PARTITIONS" per topic (all topics without NAME)
 *   create NAME[:PARTITIONS]...  create missing topics (replication factor 1);
 *                             existing topics are left alone (if-not-exists)
 *   delete NAME...            delete topics; missing ones are ignored
 * </pre>
 *
 * Exit codes: 0 ok, 1 failure, 2 usage, 3 cluster not reachable within --wait.
 */
public final class FwKafkaAdmin {
    private static final int EXIT_FAIL = 1;
    private static final int EXIT_USAGE = 2;
    private static final int EXIT_UNREACHABLE = 3;

    private FwKafkaAdmin() {
    }

    public static void main(String[] argv) {
        String bootstrap = null;
        long waitSeconds = 0;
        int defaultPartitions = 1;
        List<String> rest = new ArrayList<>();
        try {
            for (int i = 0; i < argv.length; i++) {
                switch (argv[i]) {
                    case "--bootstrap": bootstrap = argv[++i]; break;
                    case "--wait": waitSeconds = Long.parseLong(argv[++i]); break;
                    case "--partitions": defaultPartitions = Integer.parseInt(argv[++i]); break;
                    default: rest.add(argv[i]);
                }
            }
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            usage("bad arguments: " + e.getMessage());
        }
        if (bootstrap == null || rest.isEmpty()) {
            usage("--bootstrap and a command are required");
        }
        String command = rest.get(0);
        List<String> args = rest.subList(1, rest.size());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "fraudwatch-admin");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "200");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        props.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "200");

        int code;
        try (Admin admin = Admin.create(props)) {
            if (!awaitCluster(admin, deadline)) {
                System.err.println("FwKafkaAdmin: no answer from " + bootstrap + " within " + waitSeconds + "s");
                code = EXIT_UNREACHABLE;
            } else {
                switch (command) {
                    case "ping": code = 0; break;
                    case "list": code = list(admin); break;
                    case "describe": code = describe(admin, args); break;
                    case "create": code = create(admin, args, defaultPartitions, deadline); break;
                    case "delete": code = delete(admin, args); break;
                    default: usage("unknown command " + command); code = EXIT_USAGE;
                }
            }
        } catch (Exception e) {
            System.err.println("FwKafkaAdmin: " + rootMessage(e));
            code = EXIT_FAIL;
        }
        System.exit(code);
    }

    private static void usage(String why) {
        System.err.println("FwKafkaAdmin: " + why);
        System.err.println("usage: FwKafkaAdmin --bootstrap HOST:PORT [--wait SECONDS] [--partitions N] "
                + "ping|list|describe [NAME...]|create NAME[:PARTITIONS]...|delete NAME...");
        System.exit(EXIT_USAGE);
    }

    /** Returns true once a metadata round trip succeeds; retries until the deadline. */
    private static boolean awaitCluster(Admin admin, long deadline) throws InterruptedException {
        while (true) {
            try {
                admin.describeCluster().clusterId().get(5, TimeUnit.SECONDS);
                admin.listTopics().names().get(5, TimeUnit.SECONDS);
                return true;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                if (System.nanoTime() >= deadline) {
                    return false;
                }
                Thread.sleep(300);
            }
        }
    }

    private static int list(Admin admin) throws Exception {
        new TreeSet<>(admin.listTopics().names().get()).forEach(System.out::println);
        return 0;
    }

    private static int describe(Admin admin, List<String> names) throws Exception {
        Collection<String> wanted = names.isEmpty() ? admin.listTopics().names().get() : names;
        int code = 0;
        Map<String, KafkaFuture<TopicDescription>> futures =
                admin.describeTopics(wanted).topicNameValues();
        for (String name : new TreeMap<>(futures).keySet()) {
            try {
                TopicDescription d = futures.get(name).get();
                System.out.println(name + " " + d.partitions().size());
            } catch (ExecutionException e) {
                System.err.println("FwKafkaAdmin: " + name + ": " + rootMessage(e));
                code = EXIT_FAIL;
            }
        }
        return code;
    }

    private static int create(Admin admin, List<String> specs, int defaultPartitions, long deadline)
            throws Exception {
        if (specs.isEmpty()) {
            usage("create needs at least one topic");
        }
        Map<String, Integer> pending = new LinkedHashMap<>();
        for (String spec : specs) {
            int colon = spec.lastIndexOf(':');
            String name = colon < 0 ? spec : spec.substring(0, colon);
            int partitions = colon < 0 ? defaultPartitions : Integer.parseInt(spec.substring(colon + 1));
            if (name.isEmpty() || partitions < 1) {
                usage("bad topic spec " + spec);
            }
            pending.put(name, partitions);
        }
        int code = 0;
        // Right after start-up the broker may not be registered yet (no broker to place replicas on);
        // such errors are retriable until the deadline.
        while (!pending.isEmpty()) {
            List<NewTopic> batch = new ArrayList<>();
            pending.forEach((n, p) -> batch.add(new NewTopic(n, p, (short) 1)));
            Map<String, KafkaFuture<Void>> results = admin.createTopics(batch).values();
            Map<String, Integer> retry = new LinkedHashMap<>();
            for (Map.Entry<String, KafkaFuture<Void>> r : results.entrySet()) {
                String name = r.getKey();
                try {
                    r.getValue().get();
                    System.out.println("created " + name + " " + pending.get(name));
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof TopicExistsException) {
                        int have = admin.describeTopics(List.of(name)).topicNameValues()
                                .get(name).get().partitions().size();
                        System.out.println("exists " + name + " " + have);
                        if (have != pending.get(name)) {
                            System.err.println("FwKafkaAdmin: warning: " + name + " has " + have
                                    + " partitions, wanted " + pending.get(name) + " (left unchanged)");
                        }
                    } else if ((c instanceof RetriableException || c instanceof InvalidReplicationFactorException)
                            && System.nanoTime() < deadline) {
                        retry.put(name, pending.get(name));
                    } else {
                        System.err.println("FwKafkaAdmin: create " + name + ": " + rootMessage(e));
                        code = EXIT_FAIL;
                    }
                }
            }
            pending = retry;
            if (!pending.isEmpty()) {
                Thread.sleep(500);
            }
        }
        return code;
    }

    private static int delete(Admin admin, List<String> names) throws Exception {
        int code = 0;
        Map<String, KafkaFuture<Void>> results = admin.deleteTopics(names).topicNameValues();
        for (Map.Entry<String, KafkaFuture<Void>> r : results.entrySet()) {
            try {
                r.getValue().get();
                System.out.println("deleted " + r.getKey());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    System.out.println("missing " + r.getKey());
                } else {
                    System.err.println("FwKafkaAdmin: delete " + r.getKey() + ": " + rootMessage(e));
                    code = EXIT_FAIL;
                }
            }
        }
        return code;
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while ((c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c.getClass().getSimpleName() + ": " + c.getMessage();
    }
}
