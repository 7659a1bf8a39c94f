//! The live scorer (`POST /v1/score`'s core) over the in-memory bus, beside the real processor:
//! generated history on `transactions` and `labels`, the processor and the live scorer's
//! follower both reading it; then each next transaction is scored by the live scorer first and
//! published after, as an authorisation flow does. The live features must be bit-equal to the
//! processor's for the same transaction, the risk equal to the stream scorer's, and a transaction
//! scored live and then read from the topic must count once. Garbage gets a clear error.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use fraudwatch_bus::topics::FEATURES;
use fraudwatch_bus::{Bus, Consumer, Message, Record};
use fraudwatch_core::engine::{DAY_MS, Engine, EngineConfig, EngineError, FeatureSet, HOUR_MS};
use fraudwatch_core::{FeatureVector, Id, Score, Transaction, encode, time, wire};
use fraudwatch_generator::{Config, Event, Labels, Profile, Tx, World};
use fraudwatch_models::Bundle;
use fraudwatch_processor::{Counters, ProcessorConfig, Topics};
use fraudwatch_scorer::live::{
    FollowConfig, FollowError, FollowStatus, LiveConfig, LiveScorer, ScoreError, Tally, follow,
};
use fraudwatch_scorer::{Champion, Rejected};
use fraudwatch_train::{Dataset, Quiet, TrainParams, fit};
use tokio::sync::oneshot;

const PARTITIONS: i32 = 4;

/// A generated month and a bit (events in stream order), and a bundle trained on the `risk`
/// features of its transactions; shared by the tests of this file.
fn world() -> &'static (Vec<Event>, Bundle) {
    static WORLD: OnceLock<(Vec<Event>, Bundle)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut cfg = Config::new(Profile::Handbook);
        cfg.seed = 11;
        cfg.customers = 300;
        cfg.terminals = 1_000;
        cfg.days = Some(35);
        let world = World::new(cfg).unwrap();
        let events: Vec<Event> = fraudwatch_generator::events(world, 7 * DAY_MS, Labels::All)
            .map(Result::unwrap)
            .collect();
        let bundle = train(&events);
        (events, bundle)
    })
}

fn train(events: &[Event]) -> Bundle {
    let set = FeatureSet::Risk;
    let mut engine = Engine::new(EngineConfig::new(set));
    let mut data = Dataset::new(set.names().map(String::from).collect());
    let mut out = vec![0.0; set.specs().len()];
    for ev in events {
        match ev {
            Event::Transaction(tx) => {
                let t = tx.to_transaction();
                engine.transaction(&t, &mut out).unwrap();
                data.push(
                    &t.transaction_id,
                    tx.time_ms,
                    &t.customer_id,
                    tx.is_fraud(),
                    &out,
                )
                .unwrap();
            }
            Event::Label(l) => {
                engine.label(&l.to_label()).unwrap();
            }
        }
    }
    let params = TrainParams::from_toml(
        r#"
        feature_set = "risk"
        model = "combined"
        [xgboost]
        rounds = 20
        [xgboost.params]
        objective = "binary:logistic"
        max_depth = 3
        [iforest]
        trees = 20
        [policy]
        review_rate = 0.05
        block_rate = 0.01
        "#,
    )
    .unwrap();
    let rows: Vec<usize> = (0..data.len()).collect();
    fit(&data, &rows, &params, &mut Quiet).unwrap().bundle
}

/// The history (every event before the last `tail` transactions) and, after it, the
/// transactions of the first `customers` customers seen there, in time order.
fn split(events: &[Event], tail: usize, customers: usize) -> (&[Event], Vec<Tx>) {
    let txs: Vec<usize> = (0..events.len())
        .filter(|&i| matches!(events[i], Event::Transaction(_)))
        .collect();
    let cut = txs[txs.len() - tail];
    let mut chosen: Vec<u64> = Vec::new();
    let mut next = Vec::new();
    for ev in &events[cut..] {
        if let Event::Transaction(tx) = ev {
            if !chosen.contains(&tx.customer) && chosen.len() < customers {
                chosen.push(tx.customer);
            }
            if chosen.contains(&tx.customer) {
                next.push(*tx);
            }
        }
    }
    (&events[..cut], next)
}

async fn publish_history(bus: &dyn Bus, topics: &Topics, history: &[Event]) -> (u64, u64) {
    let (mut txs, mut labels) = (Vec::new(), Vec::new());
    for ev in history {
        match ev {
            Event::Transaction(tx) => {
                txs.push((tx.customer.to_string(), encode(&tx.to_transaction())))
            }
            Event::Label(l) => labels.push((l.customer.to_string(), encode(&l.to_label()))),
        }
    }
    for (topic, records) in [(&topics.transactions, &txs), (&topics.labels, &labels)] {
        let records: Vec<Record<'_>> = records
            .iter()
            .map(|(k, p)| Record::new(k.as_bytes(), p))
            .collect();
        bus.produce(topic, &records).await.unwrap();
    }
    (txs.len() as u64, labels.len() as u64)
}

async fn publish(bus: &dyn Bus, topic: &str, tx: &Transaction) {
    let payload = encode(tx);
    let key = tx.customer_id.as_str().as_bytes();
    bus.produce(topic, &[Record::new(key, &payload)])
        .await
        .unwrap();
}

/// Waits (at most a minute) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The processor's feature vector for transaction `id`, read from `features`.
async fn stream_vector(
    reader: &mut dyn Consumer,
    seen: &mut HashMap<Id, FeatureVector>,
    id: &Id,
) -> FeatureVector {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = seen.remove(id) {
            return v;
        }
        assert!(Instant::now() < deadline, "no feature vector for {id}");
        for m in reader
            .poll(1_000, Duration::from_millis(100))
            .await
            .unwrap()
        {
            let v: FeatureVector = wire::decode(&m.payload).unwrap();
            seen.insert(v.transaction_id.clone(), v);
        }
    }
}

fn assert_same_features(live: &FeatureVector, stream: &FeatureVector) {
    assert_eq!(live.transaction_id, stream.transaction_id);
    assert_eq!(live.features.len(), stream.features.len());
    for ((ln, lv), (sn, sv)) in live.features.0.iter().zip(&stream.features.0) {
        assert_eq!(ln, sn);
        assert_eq!(
            lv.to_bits(),
            sv.to_bits(),
            "transaction {}: feature {ln} is {lv} live, {sv} in the stream",
            live.transaction_id
        );
    }
}

fn assert_same_score(live: &Score, stream: &Score) {
    assert_eq!(live.model_version, stream.model_version);
    assert_eq!(
        live.risk.to_bits(),
        stream.risk.to_bits(),
        "{live:?} vs {stream:?}"
    );
    assert_eq!(live.iforest_score.to_bits(), stream.iforest_score.to_bits());
    assert_eq!(
        live.xgb_probability.to_bits(),
        stream.xgb_probability.to_bits()
    );
    assert_eq!(live.decision, stream.decision);
    assert_eq!(live.reasons, stream.reasons);
    assert_eq!(
        (&live.customer_id, live.timestamp),
        (&stream.customer_id, stream.timestamp)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_scores_equal_the_streams_and_each_payment_counts_once() {
    let (events, _) = world();
    let (history, next) = split(events, 3_000, 8);
    let next = &next[..next.len().min(60)];
    assert!(next.len() >= 30, "{} next transactions", next.len());

    let bus = fraudwatch_bus::open(&format!("memory://?partitions={PARTITIONS}")).unwrap();
    let topics = Topics::with_prefix("");
    bus.create_topics(&topics.specs(PARTITIONS)).await.unwrap();
    publish_history(&*bus, &topics, history).await;

    // The processor, as `fraudwatch process` runs it.
    let processor = ProcessorConfig {
        engine: EngineConfig::new(FeatureSet::Risk),
        topics: topics.clone(),
        group: "processor".into(),
        transactional_id: "processor-1".into(),
        max_batch: 500,
        poll_wait: Duration::from_millis(20),
    };
    let counters = Counters::default();
    let (stop_processor, stopped) = oneshot::channel::<()>();
    let processing = fraudwatch_processor::run(&*bus, &processor, &counters, async {
        stopped.await.ok();
    });
    let checks = async {
        live_scores_match(&bus, &topics, &processor.engine, &counters, history, next).await;
        stop_processor.send(()).unwrap();
    };
    let (processed, ()) = tokio::join!(processing, checks);
    processed.unwrap();
}

/// Runs the live scorer beside the running processor: catches up, then scores `next` one by one,
/// each published after it was scored.
async fn live_scores_match(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    engine: &EngineConfig,
    counters: &Counters,
    history: &[Event],
    next: &[Tx],
) {
    let (_, bundle) = world();
    let history_txs = history
        .iter()
        .filter(|e| matches!(e, Event::Transaction(_)))
        .count() as u64;
    let history_labels = history.len() as u64 - history_txs;
    // The live scorer and its follower, with batches of another size than the processor's.
    let mut live_config = LiveConfig::new(PARTITIONS);
    live_config.engine = engine.clone();
    let live = Arc::new(Mutex::new(
        LiveScorer::new(live_config, Champion::new(bundle).unwrap()).unwrap(),
    ));
    let status = Arc::new(FollowStatus::default());
    let mut follow_config = FollowConfig::with_prefix("", "test-1");
    follow_config.max_batch = 700;
    follow_config.chunk = 100;
    follow_config.poll_wait = Duration::from_millis(20);
    let (stop_follower, unfollow) = oneshot::channel::<()>();
    let following = tokio::spawn({
        let (bus, live, status) = (bus.clone(), live.clone(), status.clone());
        async move {
            let shutdown = async {
                unfollow.await.ok();
            };
            follow(&*bus, &live, &follow_config, &status, shutdown).await
        }
    });

    until("the processor has the history", || {
        counters.transactions() == history_txs
    })
    .await;
    until("the follower is ready", || status.is_ready()).await;
    let caught_up = status.tally();
    assert_eq!(
        caught_up,
        Tally {
            transactions: history_txs,
            skipped: 0,
            labels: history_labels,
            undecodable: 0,
            refused: 0,
        }
    );
    assert_eq!(counters.dead_letters(), 0);

    let mut reader = bus.subscribe("features-reader", &[FEATURES]).await.unwrap();
    let mut seen = HashMap::new();
    let mut stream_champion = Champion::new(bundle).unwrap();
    let mut alerts = 0;
    for (i, tx) in next.iter().enumerate() {
        let tx = tx.to_transaction();
        let now = time::now();
        let (score, live_vector) = {
            let mut l = live.lock().unwrap();
            let score = l.score(&tx, now).unwrap();
            (score, l.vector().clone())
        };
        assert_eq!(live_vector.ingested_at, now);
        // The payment system publishes what it authorised.
        publish(&**bus, &topics.transactions, &tx).await;
        let stream = stream_vector(&mut *reader, &mut seen, &tx.transaction_id).await;
        assert_same_features(&live_vector, &stream);
        let stream_score = stream_champion
            .score(&[stream], now)
            .unwrap()
            .pop()
            .unwrap()
            .unwrap();
        assert_same_score(&score, &stream_score);
        alerts += usize::from(score.decision.opens_case());
        // Before the next one, the follower reads this one from the topic (and must not count
        // it again: if it did, the customer's next features would differ from the processor's).
        until("the follower reads it", || {
            let t = status.tally();
            t.transactions + t.skipped == history_txs + i as u64 + 1
        })
        .await;
    }
    let end = status.tally();
    assert_eq!(end.transactions, history_txs, "no payment applied twice");
    assert_eq!(end.skipped, next.len() as u64);
    assert_eq!(live.lock().unwrap().pending(), 0);
    eprintln!(
        "{} live scores equal to the stream's, {alerts} alerts",
        next.len()
    );

    stop_follower.send(()).unwrap();
    following.await.unwrap().unwrap();
    assert!(!status.is_ready(), "not ready once stopped");
}

fn scorer() -> LiveScorer {
    let (_, bundle) = world();
    LiveScorer::new(LiveConfig::new(PARTITIONS), Champion::new(bundle).unwrap()).unwrap()
}

fn sample(events: &[Event]) -> Transaction {
    events
        .iter()
        .find_map(|e| match e {
            Event::Transaction(tx) => Some(tx.to_transaction()),
            Event::Label(_) => None,
        })
        .unwrap()
}

fn invalid_field(e: ScoreError) -> &'static str {
    assert!(e.is_client_error(), "{e}");
    match e {
        ScoreError::Invalid(v) => v.field,
        other => panic!("expected a validation error, got {other}"),
    }
}

#[test]
fn garbage_gets_a_clear_error_and_changes_nothing() {
    let (events, _) = world();
    let mut live = scorer();
    let good = sample(events);
    let now = time::now();

    let mut t = good.clone();
    t.amount = f64::NAN;
    assert_eq!(invalid_field(live.score(&t, now).unwrap_err()), "amount");
    let mut t = good.clone();
    t.amount = -1.0;
    assert_eq!(invalid_field(live.score(&t, now).unwrap_err()), "amount");
    let mut t = good.clone();
    t.transaction_id = Id::from("");
    let e = live.score(&t, now).unwrap_err();
    assert!(e.to_string().contains("transaction_id"), "{e}");
    assert_eq!(invalid_field(e), "transaction_id");
    let mut t = good.clone();
    t.customer_id = Id::from("a b");
    assert_eq!(
        invalid_field(live.score(&t, now).unwrap_err()),
        "customer_id"
    );
    let mut t = good.clone();
    t.lat = Some(10.0);
    t.lon = None;
    assert_eq!(invalid_field(live.score(&t, now).unwrap_err()), "lon");
    let mut t = good.clone();
    t.timestamp = time::parse("1900-01-01T00:00:00Z").unwrap();
    assert_eq!(invalid_field(live.score(&t, now).unwrap_err()), "timestamp");
    assert_eq!(live.pending(), 0, "nothing applied");

    // A good one, then the same again, then one of the same customer an hour older.
    let first = live.score(&good, now).unwrap();
    assert_eq!(first.transaction_id, good.transaction_id);
    assert_eq!(first.model_version, live.champion().version());
    let e = live.score(&good, now).unwrap_err();
    assert!(
        matches!(e, ScoreError::AlreadyScored { .. }) && e.is_client_error(),
        "{e}"
    );
    let mut late = good.clone();
    late.transaction_id = Id::from("late-1");
    late.timestamp = time::from_millis(good.timestamp.timestamp_millis() - HOUR_MS).unwrap();
    let e = live.score(&late, now).unwrap_err();
    assert!(
        matches!(e, ScoreError::Refused(EngineError::TooLate { .. })),
        "{e}"
    );
    assert!(e.is_client_error());
    assert!(e.to_string().contains("too late"), "{e}");
    assert_eq!(live.pending(), 1);

    // Still working: the same customer a minute later sees the first payment.
    let mut later = good.clone();
    later.transaction_id = Id::from("later-1");
    later.timestamp = time::from_millis(good.timestamp.timestamp_millis() + 60_000).unwrap();
    live.score(&later, now).unwrap();
    let nb_1day = live
        .vector()
        .features
        .get("customer_id_nb_tx_1day_window")
        .unwrap();
    assert_eq!(nb_1day, 2.0);
}

#[test]
fn a_champion_that_needs_other_features_is_refused() {
    let (_, other) = common::bundle(); // inputs: amount, ratio, noise
    let mut live = scorer();
    let before = live.champion().version().to_string();
    let e = live
        .set_champion(Champion::new(&other).unwrap())
        .unwrap_err();
    match &e {
        ScoreError::Incompatible {
            version, reason, ..
        } => {
            assert_eq!(version, &other.version);
            assert!(
                matches!(reason, Rejected::Missing { feature, .. } if feature == "ratio"),
                "{e}"
            );
        }
        e => panic!("expected Incompatible, got {e}"),
    }
    assert!(!e.is_client_error());
    assert_eq!(live.champion().version(), before, "the old champion stays");
    assert!(matches!(
        LiveScorer::new(LiveConfig::new(PARTITIONS), Champion::new(&other).unwrap()),
        Err(ScoreError::Incompatible { .. })
    ));
    let (_, bundle) = world();
    assert!(matches!(
        LiveScorer::new(LiveConfig::new(0), Champion::new(bundle).unwrap()),
        Err(ScoreError::Partitions(0))
    ));
}

fn message(topic: &str, partition: i32, payload: &[u8]) -> Message {
    Message {
        topic: topic.into(),
        partition,
        offset: 0,
        key: None,
        payload: payload.to_vec().into(),
        timestamp_ms: 0,
    }
}

#[test]
fn feeding_skips_what_was_scored_counts_garbage_and_refuses_unknown_partitions() {
    let (events, _) = world();
    let mut live = scorer();
    let config = FollowConfig::with_prefix("", "unit");
    let good = sample(events);
    live.score(&good, time::now()).unwrap();
    assert_eq!(live.pending(), 1);
    let p = live.partition_of(&good.customer_id);
    let payload = encode(&good);
    let batch = [
        message(&config.transactions, p, b"{not json"),
        message(&config.labels, p, b"[]"),
        message(&config.transactions, p, &payload),
        message("elsewhere", p, b"{}"),
        // Published twice by the payment system: the processor counts it again, so does this.
        message(&config.transactions, p, &payload),
    ];
    let mut tally = Tally::default();
    live.feed(&batch, &config, &mut tally).unwrap();
    assert_eq!(
        tally,
        Tally {
            transactions: 1,
            skipped: 1,
            undecodable: 3,
            ..Tally::default()
        }
    );
    assert_eq!(live.pending(), 0);
    let e = live
        .feed(
            &[message(&config.transactions, PARTITIONS, &payload)],
            &config,
            &mut tally,
        )
        .unwrap_err();
    assert!(
        matches!(
            e,
            FollowError::Partitions {
                partition: PARTITIONS,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn a_follower_set_up_for_other_partition_counts_stops_with_a_clear_error() {
    for (topic_partitions, error) in [(2, "owns 4 of the 8"), (8, "set up for 4")] {
        let bus = fraudwatch_bus::open("memory://").unwrap();
        let topics = Topics::with_prefix("p-");
        bus.create_topics(&topics.specs(topic_partitions))
            .await
            .unwrap();
        let (events, _) = world();
        let (history, _) = split(events, 10, 1);
        publish_history(&*bus, &topics, &history[..2_000]).await;
        let live = Mutex::new(scorer());
        let config = FollowConfig::with_prefix("p-", "wrong");
        let status = FollowStatus::default();
        let never = std::future::pending::<()>();
        let e = tokio::time::timeout(
            Duration::from_secs(30),
            follow(&*bus, &live, &config, &status, never),
        )
        .await
        .unwrap()
        .unwrap_err();
        assert!(
            e.to_string().contains(error),
            "{topic_partitions} partitions: {e}"
        );
        assert!(!status.is_ready());
    }
}
