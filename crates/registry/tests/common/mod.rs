//! The registry contract, as functions every backend's test file runs against its own
//! [`Fixture`]: the same inputs must give the same answers from `file://` and from MLflow, and
//! what the registry says must match what the backend itself holds (read around the registry).

#![allow(dead_code)] // each test binary uses its own part of this module

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use fraudwatch_models::bundle::{DataRange, FORMAT, Thresholds};
use fraudwatch_models::{Bundle, IsolationForest, ModelKind, Params};
use fraudwatch_registry::{CHALLENGER, CHAMPION, Registry, RegistryError, RunRecord};

/// What a backend recorded for one run.
#[derive(Debug, Default)]
pub struct RunView {
    pub status: String,
    pub params: BTreeMap<String, String>,
    pub metrics: BTreeMap<String, f64>,
    pub tags: BTreeMap<String, String>,
    pub artifacts: BTreeSet<String>,
}

#[async_trait]
pub trait Fixture: Send + Sync {
    /// A registry nobody else uses.
    async fn fresh(&self) -> Box<dyn Registry>;
    /// The run as the backend stores it.
    async fn run_view(&self, registry: &dyn Registry, run_id: &str) -> RunView;
    /// The artifacts a run of this bundle lists.
    fn expected_artifacts(&self, bundle: &Bundle) -> BTreeSet<String>;
    /// Alias → bundle version, as the backend stores them.
    async fn raw_aliases(&self, registry: &dyn Registry) -> BTreeMap<String, String>;
    /// The bundle versions the backend stores, one entry per stored copy.
    async fn raw_versions(&self, registry: &dyn Registry) -> Vec<String>;
    /// The stored bytes of a bundle.
    async fn raw_bundle(&self, registry: &dyn Registry, version: &str) -> Vec<u8>;
}

/// A small, valid, sealed Isolation Forest bundle; each seed gives another version.
pub fn bundle(seed: u64) -> Bundle {
    let width = 3;
    let mut state = 0x2545_f491_4f6c_dd1d ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let rows: Vec<f64> = (0..64 * width).map(|_| uniform()).collect();
    let params = Params {
        trees: 4,
        sample_size: 16,
        seed,
        threads: 1,
    };
    let forest = IsolationForest::fit(&rows, width, &params).expect("a forest");
    Bundle {
        format: FORMAT,
        version: String::new(),
        created_at: format!("2018-08-01T00:00:{:02}+00:00", seed % 60),
        feature_set: "handbook".to_string(),
        features: ["amount", "nb_tx_1day", "risk_7day"]
            .map(String::from)
            .to_vec(),
        scaling: Vec::new(),
        model: ModelKind::Iforest,
        xgboost: String::new(),
        iforest: Some(forest),
        iforest_inputs: Vec::new(),
        thresholds: Thresholds {
            review: 0.55,
            block: 0.7,
        },
        metrics: BTreeMap::from([("train_auc_roc".to_string(), 0.5 + seed as f64 / 1000.0)]),
        data: DataRange {
            start: "2018-07-25".to_string(),
            end: "2018-07-31".to_string(),
            rows: 64,
            frauds: 2,
        },
        params: BTreeMap::from([
            ("iforest.trees".to_string(), "4".to_string()),
            ("iforest.seed".to_string(), seed.to_string()),
        ]),
        reference: rows.chunks(width).take(8).map(<[f64]>::to_vec).collect(),
        reference_risks: Vec::new(),
    }
    .seal()
    .expect("a sealed bundle")
}

fn json(b: &Bundle) -> Vec<u8> {
    b.to_json().expect("serialisable")
}

/// Asserts an error whose message contains every needle.
pub fn assert_err<T: std::fmt::Debug>(
    result: Result<T, RegistryError>,
    needles: &[&str],
) -> RegistryError {
    let err = result.expect_err("an error");
    let message = err.to_string();
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    err
}

pub async fn round_trip(fx: &impl Fixture) {
    let reg = fx.fresh().await;
    let b = bundle(1);
    assert_eq!(reg.put(&b).await.unwrap(), b.version);
    let got = reg.get(&b.version).await.unwrap();
    assert_eq!(json(&got), json(&b), "the bundle comes back bit for bit");
    assert_eq!(
        fx.raw_bundle(reg.as_ref(), &b.version).await,
        json(&b),
        "stored verbatim"
    );
    assert_eq!(reg.versions().await.unwrap(), vec![b.version.clone()]);
}

pub async fn put_is_idempotent(fx: &impl Fixture) {
    let reg = fx.fresh().await;
    let (b1, b2) = (bundle(1), bundle(2));
    for _ in 0..2 {
        assert_eq!(reg.put(&b1).await.unwrap(), b1.version);
    }
    reg.put(&b2).await.unwrap();
    assert_eq!(reg.put(&b2).await.unwrap(), b2.version);
    assert_eq!(
        reg.versions().await.unwrap(),
        vec![b1.version.clone(), b2.version.clone()]
    );
    let mut raw = fx.raw_versions(reg.as_ref()).await;
    raw.sort();
    let mut want = vec![b1.version.clone(), b2.version.clone()];
    want.sort();
    assert_eq!(raw, want, "one stored copy per bundle");
}

pub async fn aliases_set_move_and_read(fx: &impl Fixture) {
    let reg = fx.fresh().await;
    assert!(reg.aliases().await.unwrap().is_empty());
    assert!(
        reg.by_alias(CHAMPION).await.unwrap().is_none(),
        "no champion before one is set"
    );
    let (b1, b2) = (bundle(1), bundle(2));
    let (v1, v2) = (reg.put(&b1).await.unwrap(), reg.put(&b2).await.unwrap());
    assert!(
        reg.by_alias(CHAMPION).await.unwrap().is_none(),
        "storing sets no alias"
    );

    reg.set_alias(CHAMPION, &v1).await.unwrap();
    reg.set_alias(CHALLENGER, &v2).await.unwrap();
    let both = BTreeMap::from([
        (CHAMPION.to_string(), v1.clone()),
        (CHALLENGER.to_string(), v2.clone()),
    ]);
    assert_eq!(reg.aliases().await.unwrap(), both);
    assert_eq!(fx.raw_aliases(reg.as_ref()).await, both);
    assert_eq!(
        json(&reg.by_alias(CHAMPION).await.unwrap().unwrap()),
        json(&b1)
    );

    // Promote v2, then roll back to v1.
    reg.set_alias(CHAMPION, &v2).await.unwrap();
    assert_eq!(reg.by_alias(CHAMPION).await.unwrap().unwrap().version, v2);
    assert_eq!(fx.raw_aliases(reg.as_ref()).await[CHAMPION], v2);
    reg.set_alias(CHAMPION, &v1).await.unwrap();
    assert_eq!(
        json(&reg.by_alias(CHAMPION).await.unwrap().unwrap()),
        json(&b1)
    );
    assert_eq!(fx.raw_aliases(reg.as_ref()).await, both);

    reg.delete_alias(CHALLENGER).await.unwrap();
    reg.delete_alias(CHALLENGER).await.unwrap(); // not set: still fine
    assert!(reg.by_alias(CHALLENGER).await.unwrap().is_none());
    assert_eq!(
        reg.aliases().await.unwrap(),
        BTreeMap::from([(CHAMPION.to_string(), v1.clone())])
    );
}

pub async fn unknown_and_malformed_inputs_are_clear_errors(fx: &impl Fixture) {
    let reg = fx.fresh().await;
    let unknown = bundle(99).version;
    let err = assert_err(reg.get(&unknown).await, &[&unknown, "no bundle"]);
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
    assert_err(reg.get("v1").await, &["\"v1\"", "not a bundle version"]);
    assert_err(
        reg.get("sha256:../../etc/passwd").await,
        &["not a bundle version"],
    );

    let b = bundle(1);
    let v = reg.put(&b).await.unwrap();
    assert_err(
        reg.set_alias(CHAMPION, &unknown).await,
        &[&unknown, "no bundle"],
    );
    assert_err(reg.set_alias("latest", &v).await, &["\"latest\"", "alias"]);
    assert_err(reg.set_alias("a/b", &v).await, &["\"a/b\"", "alias"]);
    assert_err(reg.by_alias("").await, &["alias"]);
    assert!(
        reg.aliases().await.unwrap().is_empty(),
        "a refused alias sets nothing"
    );

    let mut edited = b.clone();
    edited.thresholds.block = 0.9; // content changed, version not
    assert_err(
        reg.put(&edited).await,
        &[&b.version, "does not match its content"],
    );
    let mut unsealed = b.clone();
    unsealed.version.clear();
    assert_err(reg.put(&unsealed).await, &["not a bundle version"]);
    assert_eq!(
        reg.versions().await.unwrap(),
        vec![v],
        "refused bundles are not stored"
    );
}

pub async fn log_run_is_recorded(fx: &impl Fixture) {
    let reg = fx.fresh().await;
    let b = bundle(3);
    let mut run = RunRecord::for_bundle(&b);
    run.name = "retrain-2018-08-01".to_string();
    run.params
        .insert("train.window_days".to_string(), "7".to_string());
    run.metrics.insert("auc_roc".to_string(), 0.875);
    run.metrics
        .insert("card_precision_at_100".to_string(), 0.25);
    run.tags
        .insert("trigger".to_string(), "schedule".to_string());
    let run_id = reg.log_run(&run).await.unwrap();
    assert!(!run_id.is_empty());

    let view = fx.run_view(reg.as_ref(), &run_id).await;
    assert_eq!(view.status, "FINISHED");
    assert_eq!(view.params, run.params);
    assert_eq!(view.metrics, run.metrics);
    for (key, value) in run.stored_tags() {
        assert_eq!(view.tags.get(&key), Some(&value), "tag {key}");
    }
    assert_eq!(view.tags["fraudwatch.bundle_version"], b.version);
    assert_eq!(view.tags["fraudwatch.data.start"], "2018-07-25");
    assert_eq!(view.artifacts, fx.expected_artifacts(&b));

    // The run stored the bundle; putting it again, or a second run of it, adds no version.
    assert_eq!(json(&reg.get(&b.version).await.unwrap()), json(&b));
    reg.put(&b).await.unwrap();
    let again = reg.log_run(&RunRecord::for_bundle(&b)).await.unwrap();
    assert_ne!(again, run_id, "every call is a new run");
    assert_eq!(reg.versions().await.unwrap(), vec![b.version.clone()]);
    assert_eq!(fx.raw_versions(reg.as_ref()).await, vec![b.version.clone()]);

    let mut bad = RunRecord::for_bundle(&b);
    bad.metrics.insert("loss".to_string(), f64::NAN);
    assert_err(reg.log_run(&bad).await, &["\"loss\"", "NaN", "finite"]);
}

/// URLs that name no registry fail at open, naming the URL and what is wrong.
pub async fn bad_urls_are_refused() {
    for (url, needle) in [
        ("mlflow+http://", "no host"),
        ("mlflow+http://:5050", "host"),
        ("ftp://x", "unknown scheme"),
        ("file://", "needs a directory"),
        ("", "unknown scheme"),
        ("http://127.0.0.1:5050", "unknown scheme"),
        ("mlflow+http://127.0.0.1:5050?modle=x", "unknown parameter"),
    ] {
        let err = assert_err(
            fraudwatch_registry::open(url).await,
            &[&format!("{url:?}"), needle],
        );
        assert!(
            matches!(err, RegistryError::BadUrl { .. }),
            "{url}: {err:?}"
        );
    }
}
