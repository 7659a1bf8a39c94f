//! A retraining run over the embedded parts (memory:// bus, SQLite, a file:// registry) on a
//! world whose fraud pattern moves: the champion learnt the old pattern; a run trained on the
//! new one beats it on the same holdout and is promoted. Re-running a finished run changes
//! nothing; a run killed in `train` restarts the task and never promotes a half-trained model;
//! a run that loses leaves the champion; an extract without labels stops at `validate`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;

use fraudwatch_bus::{Bus, Record, TopicSpec};
use fraudwatch_core::{FeatureVector, Features, Id, Label, LabelSource, encode, time};
use fraudwatch_registry::{CHALLENGER, CHAMPION, Registry};
use fraudwatch_retrain::{Outcome, RetrainConfig, Task, Workflow};
use fraudwatch_store::CaseStore;
use fraudwatch_train::{Dataset, Quiet, TrainParams};

const DAY: i64 = 86_400_000;
/// The world's first day (2024-01-01).
const START: i64 = 1_704_067_200_000;

const PARAMS: &str = r#"
feature_set = "velocity"
model = "xgboost"
reference_rows = 500
[xgboost]
rounds = 30
[xgboost.params]
objective = "binary:logistic"
tree_method = "exact"
eta = 0.3
max_depth = 3
seed = 0
nthread = 1
[policy]
review_rate = 0.05
block_rate = 0.01
"#;

/// A deterministic stream of numbers in [0, 1).
fn uniform(n: u64) -> f64 {
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Day `day`'s transactions: before `moves_at`, frauds have a high `a`; from then on, a high `b`.
fn day_rows(day: i64, moves_at: i64) -> Vec<(FeatureVector, bool)> {
    (0..300u64)
        .map(|k| {
            let n = day as u64 * 1000 + k;
            let fraud = uniform(n) < 0.05;
            let (mut a, mut b) = (uniform(n + 7), uniform(n + 11));
            if fraud {
                if day < moves_at {
                    a += 0.8;
                } else {
                    b += 0.8;
                }
            }
            let v = FeatureVector {
                transaction_id: Id::from(n),
                customer_id: Id::from(n % 200),
                timestamp: time::from_millis(START + day * DAY + k as i64 * 1000).unwrap(),
                features: Features::from(vec![("a".to_string(), a), ("b".to_string(), b)]),
                ingested_at: time::now(),
            };
            (v, fraud)
        })
        .collect()
}

struct World {
    bus: Arc<dyn Bus>,
    store: Arc<dyn CaseStore>,
    registry: Box<dyn Registry>,
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
}

async fn world(days: i64, moves_at: i64, labelled: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let bus = fraudwatch_bus::open("memory://").unwrap();
    bus.create_topics(&[TopicSpec::new("features", 2), TopicSpec::new("labels", 2)])
        .await
        .unwrap();
    let store = fraudwatch_store::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    let registry =
        fraudwatch_registry::open(&format!("file://{}", dir.path().join("reg").display()))
            .await
            .unwrap();
    // The champion: trained on the old pattern (days 0–19).
    let mut old = Dataset::new(vec!["a".into(), "b".into()]);
    for day in 0..20 {
        for (v, fraud) in day_rows(day, i64::MAX) {
            let row: Vec<f64> = v.features.0.iter().map(|(_, x)| *x).collect();
            let t = v.timestamp.timestamp_millis();
            old.push(&v.transaction_id, t, &v.customer_id, fraud, &row)
                .unwrap();
        }
    }
    let params = TrainParams::from_toml(PARAMS).unwrap();
    let rows: Vec<usize> = (0..old.len()).collect();
    let champion = fraudwatch_train::fit(&old, &rows, &params, &mut Quiet)
        .unwrap()
        .bundle;
    registry.put(&champion).await.unwrap();
    registry
        .set_alias(CHAMPION, &champion.version)
        .await
        .unwrap();
    // The stream the pipeline recorded: vectors, and labels (half through the topic, half as
    // chargebacks in the store).
    for day in 20..days {
        let rows = day_rows(day, moves_at);
        let payloads: Vec<(String, Vec<u8>)> = rows
            .iter()
            .map(|(v, _)| (v.customer_id.as_str().to_string(), encode(v)))
            .collect();
        let records: Vec<Record<'_>> = payloads
            .iter()
            .map(|(k, p)| Record::new(k.as_bytes(), p))
            .collect();
        bus.produce("features", &records).await.unwrap();
        if !labelled {
            continue;
        }
        let labels: Vec<Label> = rows
            .iter()
            .map(|(v, fraud)| Label {
                transaction_id: v.transaction_id.clone(),
                customer_id: v.customer_id.clone(),
                is_fraud: *fraud,
                source: LabelSource::Chargeback,
                labelled_at: time::now(),
                fraud_scenario: None,
            })
            .collect();
        let (topic_half, store_half) = labels.split_at(labels.len() / 2);
        let payloads: Vec<(String, Vec<u8>)> = topic_half
            .iter()
            .filter(|l| l.is_fraud)
            .map(|l| (l.customer_id.as_str().to_string(), encode(l)))
            .collect();
        let records: Vec<Record<'_>> = payloads
            .iter()
            .map(|(k, p)| Record::new(k.as_bytes(), p))
            .collect();
        bus.produce("labels", &records).await.unwrap();
        store.upsert_labels(store_half).await.unwrap();
    }
    World {
        bus,
        store,
        registry,
        dir: dir.path().join("runs"),
        _dir: dir,
    }
}

fn config() -> RetrainConfig {
    RetrainConfig {
        train_days: 14,
        delay_days: 2,
        test_days: 7,
        label_delay_days: 3,
        min_rows: 1_000,
        min_frauds: 20,
        ..RetrainConfig::default()
    }
}

fn workflow(w: &World) -> Workflow<'_> {
    Workflow {
        bus: &*w.bus,
        store: &*w.store,
        registry: &*w.registry,
        config: config(),
        params: TrainParams::from_toml(PARAMS).unwrap(),
        features_topic: "features".into(),
        labels_topic: "labels".into(),
        dir: w.dir.clone(),
    }
}

async fn alias(w: &World, name: &str) -> Option<String> {
    w.registry.aliases().await.unwrap().get(name).cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenger_that_learnt_the_new_pattern_is_promoted_once() {
    // The pattern moves on day 30; the run sees days 20–59.
    let w = world(60, 30, true).await;
    let old = alias(&w, CHAMPION).await.unwrap();
    let flow = workflow(&w);

    // Killed in `train`: the task was started and never ended, a partial file lies around.
    for task in [Task::Extract, Task::Validate] {
        flow.run("r1", Some(task)).await.unwrap();
    }
    w.store.begin_task("r1", "train").await.unwrap();
    std::fs::write(w.dir.join("r1/challenger.json.partial"), b"{\"half\":").unwrap();
    assert_eq!(alias(&w, CHAMPION).await.unwrap(), old);

    let Outcome::Done { promoted, outputs } = flow.run("r1", None).await.unwrap() else {
        panic!("the run failed")
    };
    let output = |t: Task| outputs.iter().find(|(x, _)| *x == t).unwrap().1.clone();
    let evaluated = output(Task::Evaluate);
    eprintln!("evaluate: {evaluated}\ncompare: {}", output(Task::Compare));
    assert!(promoted, "{outputs:?}");
    let new = alias(&w, CHAMPION).await.unwrap();
    assert_ne!(new, old);
    assert_eq!(alias(&w, CHALLENGER).await.unwrap(), new);
    let (a, b) = (
        evaluated["challenger"]["average_precision"]
            .as_f64()
            .unwrap(),
        evaluated["champion"]["average_precision"].as_f64().unwrap(),
    );
    assert!(
        a > b + 0.1,
        "challenger AP {a} against the champion's {b} on the same holdout"
    );
    assert_eq!(
        evaluated["challenger"]["rows"], evaluated["champion"]["rows"],
        "the same holdout"
    );
    let extracted = output(Task::Extract);
    assert_eq!(extracted["rows"], 40 * 300);
    assert!(extracted["labels_from_topic"].as_u64().unwrap() > 0);

    // Again, same run id: every task is a no-op, nothing moves.
    let again = flow.run("r1", None).await.unwrap();
    assert!(matches!(again, Outcome::Done { promoted: true, .. }));
    assert_eq!(alias(&w, CHAMPION).await.unwrap(), new);
    assert_eq!(w.registry.versions().await.unwrap().len(), 2);

    // A second run on the same data: the new champion is not beaten by its twin.
    let Outcome::Done { promoted, outputs } = flow.run("r2", None).await.unwrap() else {
        panic!("the second run failed")
    };
    assert!(!promoted, "{outputs:?}");
    assert_eq!(alias(&w, CHAMPION).await.unwrap(), new);
    let promote = &outputs.iter().find(|(t, _)| *t == Task::Promote).unwrap().1;
    assert!(
        promote["reasons"][0]
            .as_str()
            .unwrap()
            .contains("not enough gain"),
        "{promote}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extract_without_labels_stops_at_validate() {
    let w = world(60, 30, false).await;
    let old = alias(&w, CHAMPION).await;
    let flow = workflow(&w);
    let outcome = flow.run("r1", None).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Failed {
            task: Task::Validate,
            reason: "0 frauds among the training rows; at least 20 are needed".into()
        }
    );
    assert_eq!(alias(&w, CHAMPION).await, old);
    let tasks = w.store.run_tasks("r1").await.unwrap();
    let validate = tasks.iter().find(|t| t.task == "validate").unwrap();
    assert_eq!(validate.status, "failed");
    assert!(
        tasks.iter().all(|t| t.task != "train"),
        "nothing after the failure"
    );
    // A task alone, before the one it needs: refused, with what to do.
    let err = flow.run("r9", Some(Task::Train)).await.unwrap_err();
    assert!(
        err.to_string().contains("needs validate done first"),
        "{err}"
    );
}
