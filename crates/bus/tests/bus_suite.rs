//! One suite, run against every bus backend: `memory://` in-process and `kafka://` against the real
//! broker that `scripts/kafka-start.sh` runs on loopback (URL in `FW_KAFKA_URL`, default
//! `kafka://127.0.0.1:9092`). Without a broker the Kafka tests fail; they never skip.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fraudwatch_bus::topics::{dlq_topic, partition_for};
use fraudwatch_bus::{Bus, Consumer, DeadLetter, Message, Output, Record, TopicSpec, decode_batch};
use fraudwatch_core::{Channel, Country, Currency, Id, Transaction, encode, time};

fn kafka_url() -> String {
    std::env::var("FW_KAFKA_URL").unwrap_or_else(|_| "kafka://127.0.0.1:9092".into())
}

/// A topic name no other test (or earlier run against the same broker) uses.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("fwtest-{name}-{}-{nanos}", std::process::id())
}

fn transaction(i: u64) -> Transaction {
    Transaction {
        transaction_id: Id::from(i),
        customer_id: Id::from(format!("cust-{}", i % 10).as_str()),
        terminal_id: Id::from(i % 7),
        amount: (i as f64) * 1.25,
        currency: Currency::parse("EUR").unwrap(),
        timestamp: time::from_millis(1_522_540_800_000 + i as i64 * 1000).unwrap(),
        merchant_category: None,
        country: Country::parse("BE"),
        channel: Some(Channel::Online),
        device_id: None,
        lat: None,
        lon: None,
    }
}

async fn produce_transactions(bus: &dyn Bus, topic: &str, ids: std::ops::Range<u64>) {
    let txs: Vec<Transaction> = ids.map(transaction).collect();
    let payloads: Vec<Vec<u8>> = txs.iter().map(encode).collect();
    let records: Vec<Record<'_>> = txs
        .iter()
        .zip(&payloads)
        .map(|(t, p)| Record::new(t.customer_id.as_str().as_bytes(), p))
        .collect();
    bus.produce(topic, &records).await.unwrap();
}

/// Polls until `n` messages arrived; a deadline only keeps a broken backend from hanging the run.
async fn consume(consumer: &mut dyn Consumer, n: usize) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut got = Vec::new();
    while got.len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} messages arrived",
            got.len()
        );
        got.extend(
            consumer
                .poll(n - got.len(), Duration::from_millis(500))
                .await
                .unwrap(),
        );
    }
    got
}

/// Polls for a while and returns whatever came (to show that nothing more does).
async fn drain(consumer: &mut dyn Consumer, quiet: Duration) -> Vec<Message> {
    let mut got = Vec::new();
    let until = Instant::now() + quiet;
    while Instant::now() < until {
        got.extend(
            consumer
                .poll(1000, Duration::from_millis(200))
                .await
                .unwrap(),
        );
    }
    got
}

fn ids(messages: &[Message]) -> Vec<u64> {
    messages
        .iter()
        .map(|m| {
            fraudwatch_core::decode::<Transaction>(&m.payload)
                .unwrap()
                .transaction_id
                .as_str()
                .parse()
                .unwrap()
        })
        .collect()
}

async fn keyed_batches_keep_per_key_order(bus: Arc<dyn Bus>, quiet: Duration) {
    let topic = unique("order");
    bus.create_topics(&[TopicSpec::new(&topic, 3)])
        .await
        .unwrap();
    produce_transactions(&*bus, &topic, 0..200).await;
    let mut c = bus.subscribe(&unique("g"), &[&topic]).await.unwrap();
    let got = consume(&mut *c, 200).await;
    assert!(drain(&mut *c, quiet).await.is_empty(), "no duplicates");
    let mut per_customer: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
    for (m, id) in got.iter().zip(ids(&got)) {
        let key = m.key.as_deref().unwrap();
        assert_eq!(
            m.partition,
            partition_for(Some(key), 3),
            "partition of key {:?}",
            String::from_utf8_lossy(key)
        );
        assert!(m.timestamp_ms > 0);
        per_customer.entry(key.to_vec()).or_default().push(id);
    }
    assert_eq!(per_customer.len(), 10);
    for ids in per_customer.values() {
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "one customer's events stay in order: {ids:?}"
        );
    }
    let all: HashSet<u64> = per_customer.into_values().flatten().collect();
    assert_eq!(all, (0..200).collect());
}

async fn committed_positions_survive_reconnect(bus: Arc<dyn Bus>, quiet: Duration) {
    let topic = unique("commit");
    let group = unique("g");
    bus.create_topics(&[TopicSpec::new(&topic, 2)])
        .await
        .unwrap();
    let mut other_group = bus.subscribe(&unique("g2"), &[&topic]).await.unwrap();
    produce_transactions(&*bus, &topic, 0..50).await;

    let mut first = bus.subscribe(&group, &[&topic]).await.unwrap();
    assert_eq!(consume(&mut *first, 50).await.len(), 50);
    first.commit().await.unwrap();
    drop(first);

    produce_transactions(&*bus, &topic, 50..70).await;
    let mut second = bus.subscribe(&group, &[&topic]).await.unwrap();
    let got = consume(&mut *second, 20).await;
    let mut got_ids = ids(&got);
    got_ids.sort_unstable();
    assert_eq!(
        got_ids,
        (50..70).collect::<Vec<_>>(),
        "resumes after the committed position"
    );
    assert!(drain(&mut *second, quiet).await.is_empty());
    drop(second); // without committing

    let mut third = bus.subscribe(&group, &[&topic]).await.unwrap();
    let mut again = ids(&consume(&mut *third, 20).await);
    again.sort_unstable();
    assert_eq!(
        again,
        (50..70).collect::<Vec<_>>(),
        "uncommitted messages are delivered again"
    );
    third.commit().await.unwrap();

    assert_eq!(
        consume(&mut *other_group, 70).await.len(),
        70,
        "every group reads the whole topic"
    );
}

async fn malformed_messages_go_to_the_dlq(bus: Arc<dyn Bus>, quiet: Duration) {
    let topic = unique("dlq");
    let dlq = dlq_topic(&topic);
    bus.create_topics(&TopicSpec::with_dlq(&topic, 2))
        .await
        .unwrap();
    let good = encode(&transaction(1));
    let wrong_currency = String::from_utf8(good.clone())
        .unwrap()
        .replace("\"EUR\"", "\"euros\"");
    let garbage: [&[u8]; 4] = [
        b"{not json",
        wrong_currency.as_bytes(),
        b"\xff\xfe\x00binary",
        b"",
    ];
    let mut records = vec![Record::new(b"cust-1", &good)];
    records.extend(garbage.iter().map(|p| Record::new(b"cust-1", p)));
    bus.produce(&topic, &records).await.unwrap();

    let mut c = bus.subscribe(&unique("g"), &[&topic]).await.unwrap();
    let batch = consume(&mut *c, 5).await;
    let decoded = decode_batch::<Transaction>(&*bus, &batch).await.unwrap();
    assert_eq!(decoded.items.len(), 1);
    assert_eq!(decoded.items[0].1, transaction(1));
    assert_eq!(decoded.dead, 4);
    c.commit().await.unwrap();

    let mut dl = bus.subscribe(&unique("g-dlq"), &[&dlq]).await.unwrap();
    let letters: Vec<DeadLetter> = consume(&mut *dl, 4)
        .await
        .iter()
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .collect();
    assert!(drain(&mut *dl, quiet).await.is_empty());
    let originals: Vec<Vec<u8>> = letters
        .iter()
        .map(|l| l.original_payload().unwrap())
        .collect();
    assert_eq!(
        originals,
        garbage.map(<[u8]>::to_vec),
        "each original payload is kept, in order"
    );
    for l in &letters {
        assert_eq!(l.topic, topic);
        assert_eq!(l.key.as_deref(), Some("cust-1"));
        assert_eq!(l.partition, partition_for(Some(b"cust-1"), 2));
    }
    assert!(
        letters[0].reason.contains("malformed JSON"),
        "{}",
        letters[0].reason
    );
    assert!(
        letters[1].reason.contains("currency") && letters[1].reason.contains("euros"),
        "{}",
        letters[1].reason
    );
    assert_eq!(letters[1].offset, batch[2].offset);

    // The consumer keeps going after dead letters.
    produce_transactions(&*bus, &topic, 2..4).await;
    let more = consume(&mut *c, 2).await;
    let decoded = decode_batch::<Transaction>(&*bus, &more).await.unwrap();
    assert_eq!((decoded.items.len(), decoded.dead), (2, 0));
}

async fn creating_and_deleting_topics_is_idempotent(bus: Arc<dyn Bus>, quiet: Duration) {
    let topic = unique("created");
    bus.create_topics(&[TopicSpec::new(&topic, 1)])
        .await
        .unwrap();
    bus.create_topics(&[TopicSpec::new(&topic, 1)])
        .await
        .expect("creating an existing topic is a no-op");
    produce_transactions(&*bus, &topic, 0..3).await;
    let mut readers = 0;
    let mut read_all = async || {
        readers += 1;
        let group = format!("{topic}-reader-{readers}");
        let mut c = bus.subscribe(&group, &[&topic]).await.unwrap();
        drain(&mut *c, quiet).await.len()
    };
    assert_eq!(read_all().await, 3);
    bus.delete_topics(&[&topic, &unique("never-created")])
        .await
        .expect("deleting a topic, and one that does not exist");
    bus.delete_topics(&[&topic])
        .await
        .expect("deleting a deleted topic is a no-op");
    // Gone with its messages: created again, it is empty (Kafka deletes in the background).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        bus.create_topics(&[TopicSpec::new(&topic, 1)])
            .await
            .unwrap();
        let left = read_all().await;
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{topic} still holds {left} messages a minute after its deletion"
        );
    }
}

/// An output record with its own bytes: (topic, key, payload).
type Owned = (String, Vec<u8>, Vec<u8>);

fn outputs(owned: &[Owned]) -> Vec<Output<'_>> {
    owned
        .iter()
        .map(|(t, k, p)| Output {
            topic: t,
            record: Record::new(k, p),
        })
        .collect()
}

/// Copies `input` to `output` through transactional consumers of one group: the first handles one
/// batch, then "crashes" (is dropped) in the middle of the next; the second takes over. A reader
/// then sees every message exactly once.
async fn transactional_copy_is_exactly_once(bus: Arc<dyn Bus>, quiet: Duration) {
    let input = unique("eos-in");
    let output = unique("eos-out");
    let group = unique("g");
    bus.create_topics(&[TopicSpec::new(&input, 3), TopicSpec::new(&output, 3)])
        .await
        .unwrap();
    produce_transactions(&*bus, &input, 0..100).await;

    let copy = |batch: &[Message]| -> Vec<Owned> {
        batch
            .iter()
            .map(|m| {
                (
                    output.clone(),
                    m.key.as_deref().unwrap().to_vec(),
                    m.payload.to_vec(),
                )
            })
            .collect()
    };

    let mut first = bus
        .subscribe_transactional(&group, &[&input], &format!("{group}-a"))
        .await
        .unwrap();
    let batch = consume(&mut *first, 30).await;
    assert!(
        first.generation() >= 1,
        "a member that got partitions has a generation"
    );
    assert!(!first.assignment().is_empty());
    let owned = copy(&batch);
    first.commit_with(&outputs(&owned)).await.unwrap();
    let doomed = consume(&mut *first, 20).await;
    assert_eq!(doomed.len(), 20);
    drop(first); // crashes before committing the second batch

    let mut second = bus
        .subscribe_transactional(&group, &[&input], &format!("{group}-b"))
        .await
        .unwrap();
    let rest = consume(&mut *second, 70).await;
    let owned = copy(&rest);
    second.commit_with(&outputs(&owned)).await.unwrap();
    assert!(
        drain(&mut *second, quiet).await.is_empty(),
        "nothing left after the takeover"
    );

    let mut reader = bus.subscribe(&unique("reader"), &[&output]).await.unwrap();
    let copied = consume(&mut *reader, 100).await;
    assert!(
        drain(&mut *reader, quiet).await.is_empty(),
        "no duplicates in the output"
    );
    let mut got = ids(&copied);
    got.sort_unstable();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

/// Two members of one group share a topic's partitions (disjointly) and together read all of it.
async fn group_members_split_the_partitions(bus: Arc<dyn Bus>) {
    let topic = unique("split");
    let group = unique("g");
    bus.create_topics(&[TopicSpec::new(&topic, 4)])
        .await
        .unwrap();
    produce_transactions(&*bus, &topic, 0..100).await;
    let mut a = bus.subscribe(&group, &[&topic]).await.unwrap();
    let mut b = bus.subscribe(&group, &[&topic]).await.unwrap();
    let mut seen = HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    let split = |a: &dyn Consumer, b: &dyn Consumer| {
        let (na, nb) = (a.assignment().len(), b.assignment().len());
        na > 0 && nb > 0 && na + nb == 4
    };
    // Until everything is read and the rebalance that hands `b` its share has happened.
    while seen.len() < 100 || !split(&*a, &*b) {
        assert!(
            Instant::now() < deadline,
            "saw {} of 100; assignments {:?} {:?}",
            seen.len(),
            a.assignment(),
            b.assignment()
        );
        for c in [&mut a, &mut b] {
            let batch = c.poll(50, Duration::from_millis(200)).await.unwrap();
            seen.extend(ids(&batch));
            c.commit().await.unwrap();
        }
    }
    let (pa, pb): (HashSet<_>, HashSet<_>) = (
        a.assignment().into_iter().collect(),
        b.assignment().into_iter().collect(),
    );
    assert!(
        pa.is_disjoint(&pb) && !pa.is_empty() && !pb.is_empty(),
        "{pa:?} {pb:?}"
    );
    assert_eq!(pa.len() + pb.len(), 4);
    let generation = a.generation();
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(90);
    while a.assignment().len() < 4 || a.generation() == generation {
        assert!(
            Instant::now() < deadline,
            "the remaining member never took over: {:?}",
            a.assignment()
        );
        a.poll(10, Duration::from_millis(200)).await.unwrap();
    }
}

/// A member knows the group's committed positions of its partitions, and a partition can be read
/// back up to such a position outside the group (what a processor rebuilding its state does).
async fn committed_positions_can_be_read_back(bus: Arc<dyn Bus>) {
    let topic = unique("readback");
    let group = unique("g");
    bus.create_topics(&[TopicSpec::new(&topic, 2)])
        .await
        .unwrap();
    produce_transactions(&*bus, &topic, 0..40).await;
    let mut c = bus
        .subscribe_transactional(&group, &[&topic], &format!("{group}-t"))
        .await
        .unwrap();
    let first = consume(&mut *c, 40).await;
    c.commit_with(&[]).await.unwrap();
    produce_transactions(&*bus, &topic, 40..60).await;
    consume(&mut *c, 20).await; // read, never committed
    let committed = c.committed().await.unwrap();
    assert_eq!(committed.len(), 2, "{committed:?}");
    let mut reread = Vec::new();
    for (t, p, until) in committed {
        assert_eq!(t, topic);
        let before = reread.len();
        bus.read_partition(&t, p, until, &mut |batch: &[Message]| {
            reread.extend_from_slice(batch)
        })
        .await
        .unwrap();
        assert!(
            reread[before..]
                .iter()
                .all(|m| m.partition == p && m.offset < until)
        );
    }
    let (mut got, mut want) = (ids(&reread), ids(&first));
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "exactly the committed messages");
    bus.read_partition(&topic, 0, 0, &mut |batch: &[Message]| {
        assert!(batch.is_empty())
    })
    .await
    .unwrap();
}

macro_rules! suite {
    ($backend:ident, $open:expr, $quiet:expr) => {
        mod $backend {
            use super::*;

            fn bus() -> Arc<dyn Bus> {
                fraudwatch_bus::open(&$open).unwrap()
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn keyed_batches_keep_per_key_order() {
                super::keyed_batches_keep_per_key_order(bus(), $quiet).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn committed_positions_survive_reconnect() {
                super::committed_positions_survive_reconnect(bus(), $quiet).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn malformed_messages_go_to_the_dlq() {
                super::malformed_messages_go_to_the_dlq(bus(), $quiet).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn transactional_copy_is_exactly_once() {
                super::transactional_copy_is_exactly_once(bus(), $quiet).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn group_members_split_the_partitions() {
                super::group_members_split_the_partitions(bus()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn committed_positions_can_be_read_back() {
                super::committed_positions_can_be_read_back(bus()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn creating_and_deleting_topics_is_idempotent() {
                super::creating_and_deleting_topics_is_idempotent(bus(), $quiet).await;
            }
        }
    };
}

suite!(
    memory,
    String::from("memory://"),
    Duration::from_millis(100)
);
suite!(kafka, kafka_url(), Duration::from_secs(2));
