//! A retraining run against the real parts: the bus (the `features` and `labels` topics), the
//! store (labels from case outcomes and chargebacks; each task's state), and the registry.
//!
//! Each task records its start and its end (output or reason) in the store under the run's id.
//! A task already done for the run is not run again: its recorded output is what the next task
//! reads. Files a task writes (the extract, the challenger bundle) go to the run's directory
//! under a temporary name and are renamed when complete, so a run killed mid-task leaves its
//! task `running` and nothing half-written under a real name; running the run again starts that
//! task over. Only `promote` moves the champion alias, and only after `compare` passed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use fraudwatch_bus::Bus;
use fraudwatch_core::{FeatureVector, Id, Label, Score, decode};
use fraudwatch_models::{Bundle, Scorer};
use fraudwatch_registry::{CHALLENGER, CHAMPION, Registry, RunRecord};
use fraudwatch_store::CaseStore;
use fraudwatch_train::{Dataset, Quiet, TrainParams};

use crate::judge::{Holdout, Metrics, compare, measure};
use crate::{RetrainConfig, Split, Task, extract_file, validate};

/// How long the extract waits for its consumer group to hand it partitions.
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);

/// What a run needs.
#[derive(Debug)]
pub struct Workflow<'a> {
    pub bus: &'a dyn Bus,
    pub store: &'a dyn CaseStore,
    pub registry: &'a dyn Registry,
    pub config: RetrainConfig,
    pub params: TrainParams,
    /// The topics the extract reads: vectors and labels to train on; the champion's scores and
    /// the challenger's shadow scores, for the live comparison `compare` reports.
    pub features_topic: String,
    pub labels_topic: String,
    pub scores_topic: String,
    pub shadow_topic: String,
    /// Runs keep their files in `<dir>/<run id>/`.
    pub dir: PathBuf,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every task asked for is done; `promoted` when the champion moved.
    Done {
        promoted: bool,
        outputs: Vec<(Task, Value)>,
    },
    /// A task failed: the run stops there and the champion is untouched.
    Failed { task: Task, reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("store: {0}")]
    Store(#[from] fraudwatch_store::StoreError),
    #[error("task {task} of run {run} needs {needs} done first; run it (or the whole run) before")]
    NotReady {
        task: Task,
        needs: Task,
        run: String,
    },
}

/// Why a task failed, in words for the run's record.
type TaskResult = Result<Value, String>;

impl Workflow<'_> {
    /// Runs `only` one task, or every task in order, for run `run_id`.
    pub async fn run(&self, run_id: &str, only: Option<Task>) -> Result<Outcome, WorkflowError> {
        let mut outputs: Vec<(Task, Value)> = Vec::new();
        let tasks: Vec<Task> = match only {
            Some(t) => vec![t],
            None => Task::ALL.to_vec(),
        };
        for task in tasks {
            let record = self.store.begin_task(run_id, task.as_str()).await?;
            if record.is_done() {
                tracing::info!(run_id, task = task.as_str(), "already done");
                let output = record.output.as_deref().unwrap_or("null");
                outputs.push((task, serde_json::from_str(output).unwrap_or(Value::Null)));
                continue;
            }
            let input = match task.needs() {
                None => Value::Null,
                Some(needs) => match self.output_of(run_id, needs, &outputs).await? {
                    Some(v) => v,
                    None => {
                        self.store
                            .end_task(run_id, task.as_str(), Err("the task before it is not done"))
                            .await?;
                        return Err(WorkflowError::NotReady {
                            task,
                            needs,
                            run: run_id.into(),
                        });
                    }
                },
            };
            tracing::info!(run_id, task = task.as_str(), "starting");
            let result = self.task(run_id, task, &input).await;
            match result {
                Ok(output) => {
                    let text = output.to_string();
                    self.store
                        .end_task(run_id, task.as_str(), Ok(&text))
                        .await?;
                    tracing::info!(run_id, task = task.as_str(), output = %text, "done");
                    outputs.push((task, output));
                }
                Err(reason) => {
                    self.store
                        .end_task(run_id, task.as_str(), Err(&reason))
                        .await?;
                    tracing::warn!(run_id, task = task.as_str(), %reason, "failed");
                    return Ok(Outcome::Failed { task, reason });
                }
            }
        }
        let promoted = outputs
            .iter()
            .any(|(t, v)| *t == Task::Promote && v["promoted"] == json!(true));
        Ok(Outcome::Done { promoted, outputs })
    }

    /// The output of a done task: from this call, else from the store.
    async fn output_of(
        &self,
        run_id: &str,
        task: Task,
        outputs: &[(Task, Value)],
    ) -> Result<Option<Value>, WorkflowError> {
        if let Some((_, v)) = outputs.iter().find(|(t, _)| *t == task) {
            return Ok(Some(v.clone()));
        }
        let records = self.store.run_tasks(run_id).await?;
        Ok(records
            .into_iter()
            .find(|r| r.task == task.as_str() && r.is_done())
            .and_then(|r| r.output)
            .and_then(|o| serde_json::from_str(&o).ok()))
    }

    fn run_dir(&self, run_id: &str) -> Result<PathBuf, String> {
        let dir = self.dir.join(run_id);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }

    async fn task(&self, run_id: &str, task: Task, input: &Value) -> TaskResult {
        let dir = self.run_dir(run_id)?;
        match task {
            Task::Extract => self.extract(run_id, &dir).await,
            Task::Validate => self.validate(&dir).await,
            Task::Train => self.train(&dir).await,
            Task::Evaluate => self.evaluate(run_id, &dir).await,
            Task::Compare => self.compare(input),
            Task::Register => self.register(run_id, &dir, input).await,
            Task::Promote => self.promote(run_id, &dir, input).await,
        }
    }

    async fn champion(&self) -> Result<Option<Bundle>, String> {
        self.registry
            .by_alias(CHAMPION)
            .await
            .map_err(|e| format!("reading the champion: {e}"))
    }

    /// Feature vectors from the `features` topic, labelled from the `labels` topic and the
    /// store (case outcomes, chargebacks). A transaction without a label counts as genuine;
    /// the split leaves out the days whose labels have not settled.
    async fn extract(&self, run_id: &str, dir: &Path) -> TaskResult {
        let mut labels: HashMap<String, bool> = HashMap::new();
        let mut vectors: Vec<FeatureVector> = Vec::new();
        // Live risks by transaction, the champion's and the shadow's; the shadow's newest version.
        let mut live: HashMap<String, LiveScore> = HashMap::new();
        let mut shadow: HashMap<String, f64> = HashMap::new();
        let mut shadow_version: Option<(i64, String)> = None;
        // A group of this attempt's own: it commits nothing, and a crashed attempt's member would
        // hold the partitions of a shared group until its session timed out.
        let group = format!(
            "fraudwatch-retrain-{run_id}-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_millis()
        );
        let topics = [
            &*self.features_topic,
            &*self.labels_topic,
            &*self.scores_topic,
            &*self.shadow_topic,
        ];
        let mut consumer = self
            .bus
            .subscribe(&group, &topics)
            .await
            .map_err(|e| format!("reading the topics: {e}"))?;
        let (mut quiet, mut seen, mut skipped) = (0, false, 0u64);
        let join_by = Instant::now() + JOIN_TIMEOUT;
        // Drained: a few empty polls in a row, counted once the group has handed this member
        // its partitions.
        while quiet < if seen { 3 } else { 5 } {
            let batch = consumer
                .poll(10_000, Duration::from_secs(1))
                .await
                .map_err(|e| format!("reading the topics: {e}"))?;
            if batch.is_empty() && consumer.assignment().is_empty() {
                if Instant::now() > join_by {
                    return Err(format!(
                        "the bus gave the extract no partitions of {topics:?} within {} s",
                        JOIN_TIMEOUT.as_secs()
                    ));
                }
                continue;
            }
            quiet = if batch.is_empty() { quiet + 1 } else { 0 };
            seen |= !batch.is_empty();
            for m in batch {
                if *m.topic == self.features_topic {
                    match decode::<FeatureVector>(&m.payload) {
                        Ok(v) => vectors.push(v),
                        Err(_) => skipped += 1,
                    }
                } else if *m.topic == self.scores_topic || *m.topic == self.shadow_topic {
                    let Ok(s) = decode::<Score>(&m.payload) else {
                        skipped += 1;
                        continue;
                    };
                    let (id, at) = (
                        s.transaction_id.as_str().to_string(),
                        s.timestamp.timestamp_millis(),
                    );
                    if *m.topic == self.scores_topic {
                        live.insert(
                            id,
                            LiveScore {
                                at,
                                customer: s.customer_id,
                                risk: s.risk,
                            },
                        );
                    } else {
                        shadow.insert(id, s.risk);
                        if shadow_version.as_ref().is_none_or(|(t, _)| at >= *t) {
                            shadow_version = Some((at, s.model_version));
                        }
                    }
                } else {
                    match decode::<Label>(&m.payload) {
                        Ok(l) => {
                            labels.insert(l.transaction_id.as_str().to_string(), l.is_fraud);
                        }
                        Err(_) => skipped += 1,
                    }
                }
            }
        }
        let from_topic = labels.len();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .labels_after(after.as_deref(), 5_000)
                .await
                .map_err(|e| format!("reading labels from the store: {e}"))?;
            let Some(last) = page.last() else { break };
            after = Some(last.transaction_id.as_str().to_string());
            for l in page {
                // An analyst's or a chargeback's verdict overrides the stream's.
                labels.insert(l.transaction_id.as_str().to_string(), l.is_fraud);
            }
        }
        vectors.sort_by_key(|v| v.timestamp);
        let names: Vec<String> = vectors
            .first()
            .map(|v| v.features.0.iter().map(|(n, _)| n.to_string()).collect())
            .unwrap_or_default();
        let mut data = Dataset::new(names.clone());
        let mut row = Vec::with_capacity(names.len());
        for v in &vectors {
            row.clear();
            row.extend(names.iter().map(|n| v.features.get(n).unwrap_or(f64::NAN)));
            let fraud = labels
                .get(v.transaction_id.as_str())
                .copied()
                .unwrap_or(false);
            if data
                .push(
                    &v.transaction_id,
                    v.timestamp.timestamp_millis(),
                    &v.customer_id,
                    fraud,
                    &row,
                )
                .is_err()
            {
                skipped += 1;
            }
        }
        let path = dir.join("extract.csv");
        extract_file::write(&data, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        let frauds = (0..data.len()).filter(|&i| data.fraud(i)).count();
        let pairs = live_pairs(&live, &shadow, &labels, &data, &self.config);
        let shadow_version = shadow_version.map(|(_, v)| v);
        let path = dir.join("live.csv");
        extract_file::write(&pairs, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(json!({
            "live_pairs": pairs.len(),
            "shadow_version": shadow_version,
            "rows": data.len(),
            "frauds": frauds,
            "labels_from_topic": from_topic,
            "labels_total": labels.len(),
            "skipped": skipped,
            "first_ms": vectors.first().map(|v| v.timestamp.timestamp_millis()),
            "last_ms": vectors.last().map(|v| v.timestamp.timestamp_millis()),
        }))
    }

    fn load(&self, dir: &Path) -> Result<(Dataset, Split), String> {
        let data = extract_file::read(&dir.join("extract.csv"))?;
        let split = Split::new(&data, &self.config);
        Ok((data, split))
    }

    async fn validate(&self, dir: &Path) -> TaskResult {
        let (data, split) = self.load(dir)?;
        let champion = self.champion().await?;
        let expected = champion.map(|b| b.features).unwrap_or_default();
        let v = validate(&data, &split, &expected, &self.config).map_err(|r| r.to_string())?;
        if !expected.is_empty() && expected != data.names() {
            return Err(format!(
                "the champion reads {} features in another order than the extract's {}",
                expected.len(),
                data.names().len()
            ));
        }
        serde_json::to_value(v).map_err(|e| e.to_string())
    }

    async fn train(&self, dir: &Path) -> TaskResult {
        let (data, split) = self.load(dir)?;
        let params = self.params.clone();
        let fitted = tokio::task::spawn_blocking(move || {
            fraudwatch_train::fit(&data, &split.train, &params, &mut Quiet)
        })
        .await
        .map_err(|e| format!("training stopped: {e}"))?
        .map_err(|e| format!("training: {e}"))?;
        let bundle = fitted.bundle;
        let path = dir.join("challenger.json");
        let tmp = dir.join("challenger.json.partial");
        let bytes = bundle.to_json().map_err(|e| e.to_string())?;
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(
            json!({ "version": bundle.version, "rows": bundle.data.rows, "frauds": bundle.data.frauds }),
        )
    }

    /// The champion's and the shadow's live scores on the same settled, labelled transactions.
    async fn shadow(&self, run_id: &str, dir: &Path) -> Result<Value, String> {
        let pairs = extract_file::read(&dir.join("live.csv"))?;
        if pairs.is_empty() {
            return Ok(Value::Null);
        }
        let rows: Vec<usize> = (0..pairs.len()).collect();
        let holdout = Holdout {
            data: &pairs,
            rows: &rows,
        };
        let column = |c: usize| -> Vec<f64> { rows.iter().map(|&i| pairs.row(i)[c]).collect() };
        let rate = self.params.policy.review_rate;
        let extracted = self.output_done(run_id, Task::Extract).await?;
        Ok(json!({
            "version": extracted["shadow_version"],
            "champion": measure(holdout, &column(0), rate, self.config.top_k),
            "shadow": measure(holdout, &column(1), rate, self.config.top_k),
        }))
    }

    fn challenger(dir: &Path) -> Result<Bundle, String> {
        let path = dir.join("challenger.json");
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Bundle::from_json(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Both models on the same holdout rows.
    async fn evaluate(&self, run_id: &str, dir: &Path) -> TaskResult {
        let (data, split) = self.load(dir)?;
        let challenger = Self::challenger(dir)?;
        let champion = self.champion().await?;
        let holdout = Holdout {
            data: &data,
            rows: &split.test,
        };
        let alert_rate = self.params.policy.review_rate;
        let judge = |bundle: &Bundle| -> Result<Metrics, String> {
            let scorer = Scorer::new(bundle).map_err(|e| e.to_string())?;
            let risks = fraudwatch_train::fit::score(&scorer, &data, &split.test)
                .map_err(|e| e.to_string())?;
            Ok(measure(holdout, &risks, alert_rate, self.config.top_k))
        };
        let challenger_metrics = judge(&challenger)?;
        let champion_metrics = champion.as_ref().map(judge).transpose()?;
        Ok(json!({
            "shadow": self.shadow(run_id, dir).await?,
            "challenger": challenger_metrics,
            "champion": champion_metrics,
            "champion_version": champion.map(|b| b.version),
            "holdout_days": [split.test_days.0, split.test_days.1],
        }))
    }

    fn compare(&self, evaluated: &Value) -> TaskResult {
        let metrics = |key: &str| -> Result<Option<Metrics>, String> {
            serde_json::from_value(evaluated[key].clone()).map_err(|e| e.to_string())
        };
        let challenger = metrics("challenger")?.ok_or("evaluate recorded no challenger")?;
        let mut verdict = compare(&challenger, metrics("champion")?.as_ref(), &self.config);
        // Live, for the record: how the bundle in shadow did beside the champion.
        let live = &evaluated["shadow"];
        if let (Some(a), Some(b)) = (
            live["shadow"]["average_precision"].as_f64(),
            live["champion"]["average_precision"].as_f64(),
        ) {
            verdict.reasons.push(format!(
                "live, in shadow: {} average precision {a:.4} against the champion's {b:.4} on {} labelled transactions",
                live["version"].as_str().unwrap_or("?"),
                live["champion"]["rows"]
            ));
        }
        serde_json::to_value(verdict).map_err(|e| e.to_string())
    }

    /// Logs the run (params, metrics, tags, the bundle) and points `challenger` at it.
    async fn register(&self, run_id: &str, dir: &Path, verdict: &Value) -> TaskResult {
        let bundle = Self::challenger(dir)?;
        let mut record = RunRecord::for_bundle(&bundle);
        record.name = format!("retrain-{run_id}");
        record
            .tags
            .insert("fraudwatch.run_id".into(), run_id.into());
        record.tags.insert(
            "fraudwatch.compare".into(),
            if verdict["passed"] == json!(true) {
                "passed"
            } else {
                "failed"
            }
            .into(),
        );
        let evaluated = self.output_done(run_id, Task::Evaluate).await?;
        for side in ["challenger", "champion"] {
            for key in [
                "auc_roc",
                "average_precision",
                "card_precision",
                "recall_at_alert_rate",
            ] {
                if let Some(v) = evaluated[side][key].as_f64() {
                    record.metrics.insert(format!("holdout_{side}_{key}"), v);
                }
            }
        }
        let mlflow_run = self
            .registry
            .log_run(&record)
            .await
            .map_err(|e| format!("logging the run: {e}"))?;
        self.registry
            .set_alias(CHALLENGER, &bundle.version)
            .await
            .map_err(|e| format!("setting the challenger alias: {e}"))?;
        Ok(
            json!({ "version": bundle.version, "registry_run": mlflow_run, "passed": verdict["passed"] }),
        )
    }

    /// Moves `champion` to the challenger, only when `compare` passed.
    async fn promote(&self, run_id: &str, dir: &Path, registered: &Value) -> TaskResult {
        let verdict = self.output_done(run_id, Task::Compare).await?;
        if verdict["passed"] != json!(true) {
            return Ok(json!({ "promoted": false, "reasons": verdict["reasons"] }));
        }
        let version = registered["version"]
            .as_str()
            .ok_or("register recorded no version")?;
        // The bundle on disk is the one compared: refuse anything else.
        let bundle = Self::challenger(dir)?;
        if bundle.version != version {
            return Err(format!(
                "the registered {version} is not the compared {}",
                bundle.version
            ));
        }
        self.registry
            .set_alias(CHAMPION, version)
            .await
            .map_err(|e| format!("moving the champion alias: {e}"))?;
        Ok(json!({ "promoted": true, "version": version }))
    }

    async fn output_done(&self, run_id: &str, task: Task) -> Result<Value, String> {
        self.output_of(run_id, task, &[])
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{task} is not done for run {run_id}"))
    }
}

/// A champion's live score, as the live comparison needs it.
#[derive(Debug)]
struct LiveScore {
    at: i64,
    customer: Id,
    risk: f64,
}

/// Transactions the champion and the bundle in shadow both scored, settled (older than the label
/// delay before the newest vector), in time order: columns the champion's risk and the shadow's.
fn live_pairs(
    live: &HashMap<String, LiveScore>,
    shadow: &HashMap<String, f64>,
    labels: &HashMap<String, bool>,
    data: &Dataset,
    config: &RetrainConfig,
) -> Dataset {
    const DAY_MS: i64 = 86_400_000;
    let newest = (0..data.len())
        .map(|i| data.time(i))
        .max()
        .unwrap_or(i64::MIN);
    let settled = newest.saturating_sub(i64::from(config.label_delay_days) * DAY_MS);
    let mut both: Vec<(&str, &LiveScore, f64)> = shadow
        .iter()
        .filter_map(|(id, &s)| live.get(id).map(|c| (id.as_str(), c, s)))
        .filter(|(_, c, _)| c.at <= settled)
        .collect();
    both.sort_by(|a, b| (a.1.at, a.0).cmp(&(b.1.at, b.0)));
    let mut pairs = Dataset::new(vec!["champion_risk".into(), "shadow_risk".into()]);
    for (id, c, s) in both {
        let fraud = labels.get(id).copied().unwrap_or(false);
        // Risks are checked in [0, 1] on decoding: the push cannot fail on them.
        let _ = pairs.push(&Id::from(id), c.at, &c.customer, fraud, &[c.risk, s]);
    }
    pairs
}
