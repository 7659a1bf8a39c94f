//! The embedded parts and a world whose fraud pattern moves, shared by the workflow tests.

#![allow(dead_code)] // each test binary uses its own part
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;

use fraudwatch_bus::{Bus, Record, TopicSpec};
use fraudwatch_core::{
    Decision, FeatureVector, Features, Id, Label, LabelSource, Score, encode, time,
};
use fraudwatch_models::{Bundle, Scorer};
use fraudwatch_registry::{CHAMPION, Registry};
use fraudwatch_retrain::{RetrainConfig, Workflow};
use fraudwatch_store::CaseStore;
use fraudwatch_train::{Dataset, Quiet, TrainParams};

pub const DAY: i64 = 86_400_000;
/// The world's first day (2024-01-01).
pub const START: i64 = 1_704_067_200_000;

pub const PARAMS: &str = r#"
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
pub fn uniform(n: u64) -> f64 {
    let mut z = n
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// Day `day`'s transactions: before `moves_at`, frauds have a high `a`; from then on, a high `b`.
pub fn day_rows(day: i64, moves_at: i64) -> Vec<(FeatureVector, bool)> {
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

pub struct World {
    pub bus: Arc<dyn Bus>,
    pub store: Arc<dyn CaseStore>,
    pub registry: Box<dyn Registry>,
    _dir: tempfile::TempDir,
    pub dir: std::path::PathBuf,
}

pub async fn world(days: i64, moves_at: i64, labelled: bool, registry: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let bus = fraudwatch_bus::open("memory://").unwrap();
    let topics = ["features", "labels", "scores", "scores.shadow"].map(|t| TopicSpec::new(t, 2));
    bus.create_topics(&topics).await.unwrap();
    let store = fraudwatch_store::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    let registry = match registry {
        "" => format!("file://{}", dir.path().join("reg").display()),
        url => url.to_string(),
    };
    let registry = fraudwatch_registry::open(&registry).await.unwrap();
    // The champion: trained on the old pattern (days 0–19); in shadow, a bundle trained on days
    // 30–39 of the new one, as a scorer with --shadow would have scored the stream.
    let champion = fit((0..20).flat_map(|day| day_rows(day, i64::MAX)));
    let in_shadow = fit((30..40).flat_map(|day| day_rows(day, moves_at)));
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
        for (topic, bundle) in [("scores", &champion), ("scores.shadow", &in_shadow)] {
            let scorer = Scorer::new(bundle).unwrap();
            let scores: Vec<(String, Vec<u8>)> = rows
                .iter()
                .map(|(v, _)| {
                    let row: Vec<f64> = v.features.0.iter().map(|(_, x)| *x).collect();
                    let risk = scorer.score(&row).unwrap().risk;
                    (
                        v.customer_id.as_str().to_string(),
                        encode(&score(v, bundle, risk)),
                    )
                })
                .collect();
            let records: Vec<Record<'_>> = scores
                .iter()
                .map(|(k, p)| Record::new(k.as_bytes(), p))
                .collect();
            bus.produce(topic, &records).await.unwrap();
        }
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

pub fn config() -> RetrainConfig {
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

pub fn workflow(w: &World) -> Workflow<'_> {
    Workflow {
        bus: &*w.bus,
        store: &*w.store,
        registry: &*w.registry,
        config: config(),
        params: TrainParams::from_toml(PARAMS).unwrap(),
        features_topic: "features".into(),
        labels_topic: "labels".into(),
        scores_topic: "scores".into(),
        shadow_topic: "scores.shadow".into(),
        dir: w.dir.clone(),
    }
}

pub async fn alias(w: &World, name: &str) -> Option<String> {
    w.registry.aliases().await.unwrap().get(name).cloned()
}

/// A bundle trained on `rows`.
fn fit(rows: impl Iterator<Item = (FeatureVector, bool)>) -> Bundle {
    let mut data = Dataset::new(vec!["a".into(), "b".into()]);
    for (v, fraud) in rows {
        let row: Vec<f64> = v.features.0.iter().map(|(_, x)| *x).collect();
        let t = v.timestamp.timestamp_millis();
        data.push(&v.transaction_id, t, &v.customer_id, fraud, &row)
            .unwrap();
    }
    let params = TrainParams::from_toml(PARAMS).unwrap();
    let rows: Vec<usize> = (0..data.len()).collect();
    fraudwatch_train::fit(&data, &rows, &params, &mut Quiet)
        .unwrap()
        .bundle
}

/// The score a scorer publishes for `v`.
fn score(v: &FeatureVector, bundle: &Bundle, risk: f64) -> Score {
    Score {
        transaction_id: v.transaction_id.clone(),
        customer_id: v.customer_id.clone(),
        timestamp: v.timestamp,
        model_version: bundle.version.clone(),
        iforest_score: 0.0,
        xgb_probability: risk,
        risk,
        decision: Decision::Allow,
        reasons: Vec::new(),
        scored_at: time::now(),
        ingested_at: None,
    }
}
