//! `fraudwatch bench`: how fast the pipeline goes, as one JSON object on standard output (and in
//! `--out`, so results can be compared over time).
//! - [`pipeline`] (the default): generate → process → score → cases in one process, end to end,
//!   on the embedded backends or on Kafka and PostgreSQL (`--mode`).
//! - [`process`]: the stream processor alone, over the configured bus.
//! - [`monitor`]: the drift monitor draining what a flat-out pipeline run produced.
//! - [`api`]: `POST /v1/score` through HTTP on loopback, open loop.
//! - [`stages`]: the pipeline bench's running stages and what they report.
//! - [`latency`]: latency samples, their percentiles, and `ingested_at` read off a score.

mod api;
mod latency;
mod monitor;
mod pipeline;
mod process;
mod stages;

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::{BenchArgs, BenchStage};
use crate::settings::Settings;

pub async fn run(args: &BenchArgs, settings: &Settings) -> anyhow::Result<()> {
    // Opened first: a bad path should fail before the run, not after it.
    let out = match &args.out {
        Some(path) => Some(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => None,
    };
    let json = match args.stage {
        BenchStage::Pipeline => pipeline::run(args, settings).await?,
        BenchStage::Process => process::run(args, settings).await?,
        BenchStage::Api => api::run(args).await?,
        BenchStage::Monitor => monitor::run(args, settings).await?,
    };
    if let (Some(mut file), Some(path)) = (out, &args.out) {
        writeln!(file, "{json}").with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{json}");
    Ok(())
}

/// A topic and group prefix no earlier run used, so each run starts on empty topics.
fn unique_prefix() -> anyhow::Result<String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    Ok(format!("bench-{nanos}-"))
}
