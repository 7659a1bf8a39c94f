//! `fraudwatch process`: transactions in, features out, through the core's feature engine.
//!
//! File mode (`--input FILE`): reads the fraud handbook's CSV layout (plain or gzip, detected by
//! its magic bytes), feeds every row to the engine as a transaction, and feeds its label
//! (`tx_fraud`) back as a label event `--labels-delay-days` after the transaction: a label due at
//! time L is delivered before any transaction at or after L. Writes `transaction_id` and the
//! feature set's columns as CSV. It is the streaming engine, event by event, not a batch shortcut.
//!
//! The Kafka mode (no `--input`) is not built yet.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use fraudwatch_core::engine::{DAY_MS, Engine, EngineConfig, FeatureSet, SECOND_MS};
use fraudwatch_core::{Label, time};
use fraudwatch_generator::HandbookFile;

use crate::cli::ProcessArgs;

pub async fn run(args: ProcessArgs) -> anyhow::Result<ExitCode> {
    let Some(input) = args.input.clone() else {
        eprintln!(
            "fraudwatch process: not implemented yet (Kafka mode); --input FILE runs the file mode"
        );
        return Ok(ExitCode::from(3));
    };
    let job = FileJob {
        input,
        out: args.out.clone(),
        feature_set: args.feature_set,
        label_delay_ms: i64::from(args.labels_delay_days) * DAY_MS,
        lateness_ms: i64::try_from(args.lateness_secs)
            .ok()
            .and_then(|s| s.checked_mul(SECOND_MS))
            .context("--lateness-secs is too large")?,
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
        let started = Instant::now();
        let path = &self.input;
        let mut rows = HandbookFile::open(path)?;
        let mut out = open_output(self.out.as_deref())?;
        let out_name = self.out.as_deref().map_or_else(
            || "standard output".to_string(),
            |p| p.display().to_string(),
        );
        let write_err = |e: std::io::Error| anyhow::anyhow!("cannot write {out_name}: {e}");

        let mut engine = Engine::new(EngineConfig {
            feature_set: self.feature_set,
            lateness_ms: self.lateness_ms,
            label_delay_ms: self.label_delay_ms,
        });
        let specs = engine.specs();
        let mut text = String::from("transaction_id");
        for s in specs {
            text.push(',');
            text.push_str(s.name);
        }
        text.push('\n');
        out.write_all(text.as_bytes()).map_err(write_err)?;

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
            let due = t.saturating_add(self.label_delay_ms);
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

            text.clear();
            let _ = write!(text, "{}", row.transaction_id);
            for (spec, v) in specs.iter().zip(&values) {
                if spec.kind.is_integer() {
                    let _ = write!(text, ",{}", *v as i64);
                } else {
                    let _ = write!(text, ",{v:?}");
                }
            }
            text.push('\n');
            out.write_all(text.as_bytes()).map_err(write_err)?;
        }
        out.flush().map_err(write_err)?;
        summary.seconds = started.elapsed().as_secs_f64();
        Ok(summary)
    }
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
