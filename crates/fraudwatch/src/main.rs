//! `fraudwatch`: the thin binary that wires configuration, backends and stages together.
//!
//! Module map:
//! - [`bench`] — `fraudwatch bench`: throughput and latency of a stage, as JSON.
//! - [`cli`] — the command line (clap).
//! - [`settings`] — layered configuration: compiled-in default → file → `FRAUDWATCH_*` → flags.
//! - [`logging`] — `tracing` output, text or JSON, on stderr.
//! - [`metrics`] — the Prometheus endpoint of long-running stages.
//! - [`setup`] — creates the pipeline's topics and migrates the case store.
//! - [`demo`] — the embedded mode, everything in one process.
//! - [`generate`] — `fraudwatch generate`, synthetic or replayed transactions to a file or the bus.
//! - [`process`] — `fraudwatch process`, transactions to features (file mode).
//! - [`monitor`] — `fraudwatch monitor`: drift in the stream, `compare` of two CSV files, `report`.
//! - [`retrain`] — `fraudwatch retrain`: once, on a schedule, on drift, or one task at a time.

mod bench;
mod cli;
mod demo;
mod generate;
mod logging;
mod metrics;
mod modelling;
mod monitor;
mod process;
mod registry;
mod retrain;
mod score;
mod serve;
mod settings;
mod setup;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match settings::Settings::load(&cli.global) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    logging::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command, settings));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: settings::Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Config => {
            print!("{}", settings.to_toml()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Setup => setup::run(&settings).await.map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => bench::run(&args, &settings)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Demo(args) => demo::run(&settings, &args)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Generate(args) => generate::run(*args, &settings).await,
        Command::Process(args) => process::run(args, &settings).await,
        Command::Score(args) => score::run(&args, &settings).await,
        Command::Serve(args) => serve::run(&args, &settings).await,
        Command::Monitor(args) => monitor::run(&args, &settings).await,
        Command::Retrain(args) => retrain::run(&args, &settings).await,
        Command::Train(args) => modelling::train(*args, &settings).await,
        Command::Evaluate(args) => {
            tokio::task::spawn_blocking(move || modelling::evaluate(&args)).await?
        }
    }
}
