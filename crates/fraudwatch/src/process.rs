//! `fraudwatch process`: transactions in, features out, through the core's feature engine.
//!
//! File mode (`--input FILE`): reads the fraud handbook's CSV layout (plain or gzip, detected by
//! its magic bytes), feeds every row to the engine as a transaction, and feeds its label
//! (`tx_fraud`) back as a label event `--labels-delay-days` after the transaction: a label due at
//! time L is delivered before any transaction at or after L. Writes `transaction_id` and the
//! feature set's columns as CSV. It is the streaming engine, event by event, not a batch shortcut.
//!
//! Stream mode (no `--input`): the processor (`fraudwatch-processor`) over the configured bus, in a
//! consumer group, exactly-once, until SIGINT or SIGTERM.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_core::engine::{DAY_MS, Engine, EngineConfig, FeatureSet, SECOND_MS};
use fraudwatch_core::{Label, handbook, time};
use fraudwatch_generator::HandbookFile;

use fraudwatch_processor::{Counters, ProcessorConfig, Topics};

use crate::cli::ProcessArgs;
use crate::settings::Settings;

pub async fn run(args: ProcessArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let lateness_ms = i64::try_from(args.lateness_secs)
        .ok()
        .and_then(|s| s.checked_mul(SECOND_MS))
        .context("--lateness-secs is too large")?;
    let label_delay_ms = i64::from(args.labels_delay_days) * DAY_MS;
    let Some(input) = args.input.clone() else {
        let engine = EngineConfig {
            feature_set: args.feature_set,
            lateness_ms,
            label_delay_ms,
        };
        return stream(&args, engine, settings).await;
    };
    let job = FileJob {
        input,
        out: args.out.clone(),
        feature_set: args.feature_set,
        label_delay_ms,
        lateness_ms,
    };
    let summary = tokio::task::spawn_blocking(move || job.run())
        .await
        .context("the file-mode worker stopped")??;
    tracing::info!(
        transactions = summary.transactions,
        labels = summary.labels,
        seconds = summary.seconds,
        "features written"
    );
    Ok(ExitCode::SUCCESS)
}

/// The stream mode: the processor over the configured bus until SIGINT or SIGTERM, which end it
/// after the batch in hand is committed.
async fn stream(
    args: &ProcessArgs,
    engine: EngineConfig,
    settings: &Settings,
) -> anyhow::Result<ExitCode> {
    let bus = fraudwatch_bus::open(&settings.bus_url).context("opening the bus")?;
    let instance = args
        .instance
        .clone()
        .unwrap_or_else(|| std::process::id().to_string());
    let config = ProcessorConfig {
        engine,
        topics: Topics::with_prefix(&args.topic_prefix),
        transactional_id: format!("{}-{instance}", args.group),
        group: args.group.clone(),
        max_batch: args.batch as usize,
        poll_wait: Duration::from_millis(200),
    };
    bus.create_topics(&config.topics.specs(settings.partitions))
        .await
        .context("creating the processor's topics")?;
    crate::metrics::serve(settings)?;
    let counters = Counters::default();
    tracing::info!(bus = %settings.bus_url, group = %config.group, id = %config.transactional_id, set = %config.engine.feature_set, "processing");
    fraudwatch_processor::run(&*bus, &config, &counters, shutdown_signal()).await?;
    println!("{counters}");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("stopping after the batch in hand");
}

/// One run of the file mode.
#[derive(Debug, Clone)]
pub struct FileJob {
    pub input: PathBuf,
    /// `None` or `-`: standard output.
    pub out: Option<PathBuf>,
    pub feature_set: FeatureSet,
    pub label_delay_ms: i64,
    pub lateness_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub transactions: u64,
    pub labels: u64,
    pub seconds: f64,
}

/// A label waiting for its time, in (time, row order).
struct Pending {
    due: i64,
    order: u64,
    label: Label,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.order) == (other.due, other.order)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.order).cmp(&(other.due, other.order))
    }
}

impl FileJob {
    pub fn run(&self) -> anyhow::Result<Summary> {
        let mut out = open_output(self.out.as_deref())?;
        let out_name = self.out.as_deref().map_or_else(
            || "standard output".to_string(),
            |p| p.display().to_string(),
        );
        let write_err = |e: std::io::Error| anyhow::anyhow!("cannot write {out_name}: {e}");
        let specs = self.feature_set.specs();
        let mut text = String::from("transaction_id");
        for s in specs {
            text.push(',');
            text.push_str(s.name);
        }
        text.push('\n');
        out.write_all(text.as_bytes()).map_err(write_err)?;
        let summary = engine_pass(
            &self.input,
            EngineConfig {
                feature_set: self.feature_set,
                lateness_ms: self.lateness_ms,
                label_delay_ms: self.label_delay_ms,
            },
            |row, values| {
                text.clear();
                let _ = write!(text, "{}", row.transaction_id);
                for (spec, v) in specs.iter().zip(values) {
                    if spec.kind.is_integer() {
                        let _ = write!(text, ",{}", *v as i64);
                    } else {
                        let _ = write!(text, ",{v:?}");
                    }
                }
                text.push('\n');
                out.write_all(text.as_bytes()).map_err(write_err)?;
                Ok(ControlFlow::Continue(()))
            },
        )?;
        out.flush().map_err(write_err)?;
        Ok(summary)
    }
}

/// Feeds every row of a handbook-layout file to the engine as a transaction, and its label
/// (`tx_fraud`) back as a label event `label_delay_ms` after it (a label due at time L goes in
/// before any transaction at or after L); `each` gets every row with its features, and may stop
/// the pass early.
pub fn engine_pass(
    path: &Path,
    config: EngineConfig,
    mut each: impl FnMut(&handbook::Row, &[f64]) -> anyhow::Result<ControlFlow<()>>,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut rows = HandbookFile::open(path)?;
    let label_delay_ms = config.label_delay_ms;
    let mut engine = Engine::new(config);
    let mut values = vec![0.0; engine.width()];
    let mut pending: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
    let mut summary = Summary {
        transactions: 0,
        labels: 0,
        seconds: 0.0,
    };
    while let Some(row) = rows.next() {
        let row = row?;
        let n = rows.line();
        let tx = row.transaction();
        let t = tx.timestamp.timestamp_millis();
        while pending.peek().is_some_and(|p| p.0.due <= t) {
            let Some(Reverse(p)) = pending.pop() else {
                break;
            };
            engine
                .label(&p.label)
                .with_context(|| format!("{}: label of line {}", path.display(), p.order))?;
            summary.labels += 1;
        }
        engine
            .transaction(&tx, &mut values)
            .with_context(|| format!("{}: line {n}", path.display()))?;
        summary.transactions += 1;
        let due = t.saturating_add(label_delay_ms);
        let labelled_at = time::from_millis(due).with_context(|| {
            format!(
                "{}: line {n}: the label would be due after year 262143",
                path.display()
            )
        })?;
        pending.push(Reverse(Pending {
            due,
            order: n,
            label: row.label(labelled_at),
        }));
        if each(&row, &values)?.is_break() {
            break;
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    match path {
        None => Ok(Box::new(BufWriter::new(std::io::stdout().lock()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufWriter::new(std::io::stdout().lock()))),
        Some(p) => {
            let file = File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
            Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
        }
    }
}

/// Resolves after `duration` (if any), or on SIGINT or SIGTERM, whichever comes first.
pub async fn shutdown_after(duration: Option<std::time::Duration>) {
    match duration {
        Some(d) => {
            tokio::select! {
                () = tokio::time::sleep(d) => {}
                () = shutdown_signal() => {}
            }
        }
        None => shutdown_signal().await,
    }
}
