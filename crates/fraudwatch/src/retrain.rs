//! `fraudwatch retrain`: labelled data → challenger → judged against the champion on the same
//! holdout → registered → promoted only when it won (`fraudwatch-retrain` does the work).
//!
//! - `--once`: one run now.
//! - `--schedule CRON`: a run at every time the schedule names (UTC), in process; with
//!   `--on-drift`, also a run when the monitor raises a data or performance drift event (run id
//!   `drift-<event id>`, so an event published again does not start a second run).
//! - `--task TASK --run-id ID`: one task of a run, for an orchestrator (deploy/airflow/).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use fraudwatch_bus::TopicSpec;
use fraudwatch_bus::topics::{DRIFT_ALERTS, FEATURES, LABELS, SCORES, SHADOW_SCORES};
use fraudwatch_core::{DriftEvent, DriftKind, decode, time};
use fraudwatch_retrain::cron::Schedule;
use fraudwatch_retrain::{Outcome, Task, Workflow};

use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// One run now.
    #[arg(long, conflicts_with_all = ["schedule", "task"])]
    pub once: bool,
    /// Run at the times this cron schedule names (five fields, UTC), e.g. "0 3 * * 1": Mondays
    /// at 03:00.
    #[arg(long, value_name = "CRON", value_parser = Schedule::parse, conflicts_with = "task")]
    pub schedule: Option<Schedule>,
    /// With --schedule: also run when the monitor raises a data or performance drift event.
    #[arg(long, requires = "schedule")]
    pub on_drift: bool,
    /// Run only this task of run --run-id: extract, validate, train, evaluate, compare,
    /// register or promote.
    #[arg(long, value_name = "TASK", requires = "run_id")]
    pub task: Option<Task>,
    /// The run's id (default for --once: retrain-<UTC time>). A task already done for this run
    /// is not run again.
    #[arg(long, value_name = "ID", value_parser = run_id)]
    pub run_id: Option<String>,
    /// Hyper-parameters: a TOML file, or a shipped one by name.
    #[arg(long, value_name = "FILE|NAME", default_value = "default")]
    pub params: String,
    /// Where runs keep their files (`<dir>/<run id>/`).
    #[arg(long, value_name = "DIR", default_value = "retrain-runs")]
    pub dir: PathBuf,
    /// Prefix of the topic names.
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub topic_prefix: String,
}

/// A run id: 1 to 64 letters, digits, `-`, `_` or `.` (it names a directory).
fn run_id(s: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !s.starts_with('.');
    ok.then(|| s.to_string()).ok_or_else(|| {
        format!(
            "{s:?} is not a run id: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        )
    })
}

pub async fn run(args: &RetrainArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.once || args.schedule.is_some() || args.task.is_some(),
        "say what to run: --once, --schedule CRON, or --task TASK --run-id ID"
    );
    settings
        .retrain
        .check()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let bus = fraudwatch_bus::open(&settings.bus_url)?;
    let topics: Vec<TopicSpec> = [FEATURES, LABELS, SCORES, SHADOW_SCORES, DRIFT_ALERTS]
        .into_iter()
        .flat_map(|t| {
            TopicSpec::with_dlq(&format!("{}{t}", args.topic_prefix), settings.partitions)
        })
        .collect();
    bus.create_topics(&topics).await?;
    let store = fraudwatch_store::open(&settings.store_url).await?;
    let registry = crate::registry::open(&settings.registry_url).await?;
    let flow = Workflow {
        bus: &*bus,
        store: &*store,
        registry: &*registry,
        config: settings.retrain.clone(),
        params: crate::modelling::params_named(&args.params)?,
        features_topic: format!("{}{FEATURES}", args.topic_prefix),
        labels_topic: format!("{}{LABELS}", args.topic_prefix),
        scores_topic: format!("{}{SCORES}", args.topic_prefix),
        shadow_topic: format!("{}{SHADOW_SCORES}", args.topic_prefix),
        dir: args.dir.clone(),
    };
    if let Some(schedule) = &args.schedule {
        return scheduled(&flow, schedule, args, &*bus).await;
    }
    let id = args.run_id.clone().unwrap_or_else(new_run_id);
    let outcome = flow.run(&id, args.task).await?;
    Ok(report(&id, &outcome))
}

fn new_run_id() -> String {
    format!("retrain-{}", time::now().format("%Y%m%dT%H%M%SZ"))
}

/// Prints the outcome as JSON; exit status 1 when a task failed.
fn report(id: &str, outcome: &Outcome) -> ExitCode {
    match outcome {
        Outcome::Done { promoted, outputs } => {
            let tasks: serde_json::Map<String, serde_json::Value> = outputs
                .iter()
                .map(|(t, v)| (t.to_string(), v.clone()))
                .collect();
            let summary = serde_json::json!({ "run_id": id, "promoted": promoted, "tasks": tasks });
            println!("{summary:#}");
            ExitCode::SUCCESS
        }
        Outcome::Failed { task, reason } => {
            eprintln!("retrain run {id} stopped at {task}: {reason}; the champion is unchanged");
            ExitCode::FAILURE
        }
    }
}

/// Runs at every scheduled time (and on drift events with `--on-drift`) until SIGINT/SIGTERM.
async fn scheduled(
    flow: &Workflow<'_>,
    schedule: &Schedule,
    args: &RetrainArgs,
    bus: &dyn fraudwatch_bus::Bus,
) -> anyhow::Result<ExitCode> {
    let alerts = format!("{}{DRIFT_ALERTS}", args.topic_prefix);
    let mut drift = match args.on_drift {
        true => Some(
            bus.subscribe("fraudwatch-retrain", &[&alerts])
                .await
                .context("following the drift alerts")?,
        ),
        false => None,
    };
    let stop = crate::process::shutdown_signal();
    tokio::pin!(stop);
    loop {
        let next = schedule.next_after(time::now()).with_context(|| {
            format!("the schedule {schedule} names no time in the next 5 years")
        })?;
        tracing::info!(next = %time::format(&next), %schedule, "next scheduled run");
        let wait = (next - time::now()).to_std().unwrap_or_default();
        let ids = tokio::select! {
            () = &mut stop => return Ok(ExitCode::SUCCESS),
            () = tokio::time::sleep(wait) => vec![format!("retrain-{}", next.format("%Y%m%dT%H%MZ"))],
            ids = drifted(drift.as_mut()) => ids?,
        };
        for id in ids {
            let outcome = flow.run(&id, None).await?;
            report(&id, &outcome);
        }
    }
}

/// Run ids for the drift events of the next batch that should start a run: open data or
/// performance events, each once (never resolves without a consumer).
async fn drifted(
    consumer: Option<&mut Box<dyn fraudwatch_bus::Consumer>>,
) -> anyhow::Result<Vec<String>> {
    let Some(consumer) = consumer else {
        return std::future::pending().await;
    };
    loop {
        let mut ids: Vec<String> = Vec::new();
        for m in consumer.poll(100, Duration::from_secs(1)).await? {
            match decode::<DriftEvent>(&m.payload) {
                Ok(e) if e.is_open() && e.kind != DriftKind::Prediction => {
                    let id = format!("drift-{}", e.id);
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "undecodable drift alert skipped"),
            }
        }
        // Committed once the batch is read: a run's own record makes it idempotent.
        consumer.commit().await?;
        if !ids.is_empty() {
            return Ok(ids);
        }
    }
}
