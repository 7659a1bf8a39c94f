//! `fraudwatch monitor`: drift monitoring (`fraudwatch-monitor` does the work).
//!
//! - `monitor` follows `features`, `scores` and `labels`, tests the current window against the
//!   champion bundle's reference sample (or `--reference FILE.csv`), and publishes drift events.
//! - `monitor compare` runs the same tests on two CSV files and writes JSON.
//! - `monitor report` writes the latest report (or a comparison of two CSV files) as one HTML
//!   page, and the same data as JSON.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use fraudwatch_core::{DriftEvent, time};
use fraudwatch_monitor::stream::{Counters, Inputs, OnEvent, StreamConfig};
use fraudwatch_monitor::{Comparison, Monitor, MonitorConfig, Report, Table, compare};

use crate::cli::parse_duration;
use crate::registry::CHAMPION;
use crate::settings::Settings;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MonitorArgs {
    #[command(subcommand)]
    pub command: Option<MonitorCommand>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Compare two CSV files (a header, then rows) column by column; prints or writes JSON.
    Compare(CompareArgs),
    /// Write a drift report as one self-contained HTML page (and JSON): the monitor's latest
    /// from the store, or a comparison of two CSV files.
    Report(ReportArgs),
}

/// The streaming monitor's flags; the rest is the `[monitor]` table of the configuration.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Prefix of the topic names.
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Consumer group.
    #[arg(long, value_name = "NAME", default_value = "fraudwatch-monitor")]
    pub group: String,
    /// Reference features from a CSV file (one column per feature of the champion) instead of
    /// the champion bundle's reference sample.
    #[arg(long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Write the latest report to the store at most this often.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub report_every: Duration,
    /// Stop after this long (default: until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The reference CSV file.
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// The current CSV file.
    #[arg(long, value_name = "FILE")]
    pub current: PathBuf,
    /// Where to write the JSON (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The HTML page to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the report's data as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Compare this reference CSV file (with `--current`) instead of reading the store.
    #[arg(long, value_name = "FILE", requires = "current")]
    pub reference: Option<PathBuf>,
    #[arg(long, value_name = "FILE", requires = "reference")]
    pub current: Option<PathBuf>,
    /// The monitor whose latest report to read.
    #[arg(long, value_name = "NAME", default_value = "monitor")]
    pub name: String,
}

pub async fn run(args: &MonitorArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    match &args.command {
        Some(MonitorCommand::Compare(a)) => {
            let comparison = compare_files(&a.reference, &a.current, &settings.monitor)?;
            let json = serde_json::to_string_pretty(&comparison)?;
            match &a.out {
                Some(path) => write(path, json.as_bytes())?,
                None => println!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(MonitorCommand::Report(a)) => report(a, settings).await,
        None => stream(&args.run, settings).await,
    }
}

/// Both files compared with the configured methods and thresholds.
pub fn compare_files(
    reference: &Path,
    current: &Path,
    config: &MonitorConfig,
) -> anyhow::Result<Comparison> {
    let (reference, current) = (read_table(reference)?, read_table(current)?);
    compare(&reference, &current, &config.options()).map_err(anyhow::Error::msg)
}

fn read_table(path: &Path) -> anyhow::Result<Table> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Table::from_csv(
        std::io::BufReader::new(file),
        &path.display().to_string(),
    )?)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

async fn report(args: &ReportArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let report = match (&args.reference, &args.current) {
        (Some(r), Some(c)) => {
            let comparison = compare_files(r, c, &settings.monitor)?;
            Report::from_comparison(
                &comparison,
                &format!("{} against {}", c.display(), r.display()),
                &time::format(&time::now()),
            )
        }
        _ => {
            let store = fraudwatch_store::open(&settings.store_url).await?;
            let body = store.latest_drift_report(&args.name).await?.with_context(|| {
                format!(
                    "the store {} holds no report of monitor {:?} yet: run `fraudwatch monitor` until it has judged a window",
                    settings.store_url, args.name
                )
            })?;
            serde_json::from_str(&body).context("the stored report is not readable")?
        }
    };
    write(
        &args.out,
        fraudwatch_monitor::report::render_html(&report).as_bytes(),
    )?;
    if let Some(json) = &args.json {
        write(json, &serde_json::to_vec_pretty(&report)?)?;
    }
    eprintln!("report written to {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The monitor's core for the registry's champion: its features, its reference sample (or
/// `reference`), its held-out risks, and its validation average precision.
pub fn monitor_for(
    bundle: &fraudwatch_models::Bundle,
    reference: Option<&Path>,
    config: MonitorConfig,
) -> anyhow::Result<Monitor> {
    let rows = match reference {
        Some(path) => rows_of(&read_table(path)?, &bundle.features, path)?,
        None => bundle.reference.clone(),
    };
    anyhow::ensure!(
        !rows.is_empty(),
        "the reference has no rows: the bundle {} holds no reference sample",
        bundle.version
    );
    // Risks of held-out rows, when the bundle kept them; else the first full window of live
    // scores becomes the reference (risks of training rows would be too extreme).
    let risks = (!bundle.reference_risks.is_empty()).then_some(&bundle.reference_risks[..]);
    if risks.is_none() {
        tracing::info!(
            "the champion kept no held-out risks (no validation slice): the first full window of scores is the prediction reference"
        );
    }
    let ap = bundle
        .metrics
        .get("validation_average_precision")
        .or_else(|| bundle.metrics.get("train_average_precision"))
        .copied();
    Monitor::new(&bundle.features, &rows, risks, ap, config).map_err(anyhow::Error::msg)
}

/// A CSV table's rows in the bundle's feature order; every feature must be a numeric column.
fn rows_of(table: &Table, features: &[String], path: &Path) -> anyhow::Result<Vec<Vec<f64>>> {
    let columns = features
        .iter()
        .map(|f| match table.column(f) {
            Some(fraudwatch_monitor::Data::Numbers(v)) => Ok(v),
            Some(_) => anyhow::bail!("{}: column {f:?} is not numeric", path.display()),
            None => anyhow::bail!(
                "{}: the champion's feature {f:?} is missing from the reference",
                path.display()
            ),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((0..table.rows())
        .map(|i| columns.iter().map(|c| c[i]).collect())
        .collect())
}

async fn stream(args: &RunArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let registry = crate::registry::open(&settings.registry_url).await?;
    let bundle = registry.by_alias(CHAMPION).await?.with_context(|| {
        format!(
            "the registry {} has no champion to take the reference from: train one with `fraudwatch train --promote`",
            settings.registry_url
        )
    })?;
    let mut monitor = monitor_for(&bundle, args.reference.as_deref(), settings.monitor.clone())?;
    let bus = fraudwatch_bus::open(&settings.bus_url)?;
    let store = fraudwatch_store::open(&settings.store_url).await?;
    let mut config = StreamConfig::with_prefix(&args.topic_prefix);
    config.group = args.group.clone();
    config.on_event = action(&settings.monitor.action)?;
    config.report_every = args.report_every;
    bus.create_topics(&config.specs(settings.partitions))
        .await?;
    crate::metrics::serve(settings)?;
    let counters = Counters::default();
    let mut inputs = Inputs::new(&bundle.features);
    tracing::info!(
        champion = %bundle.version,
        features = bundle.features.len(),
        window = settings.monitor.window.rows,
        step = settings.monitor.window.step,
        "monitoring"
    );
    let shutdown = crate::process::shutdown_after(args.duration);
    fraudwatch_monitor::stream::run(
        &*bus,
        &*store,
        &mut monitor,
        &mut inputs,
        &config,
        &counters,
        shutdown,
    )
    .await?;
    let c = &counters;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "monitored {} vectors, {} scores, {} labels ({} undecodable): {} windows judged, {} drift events",
        load(&c.features),
        load(&c.scores),
        load(&c.labels),
        load(&c.undecodable),
        load(&c.evaluations),
        load(&c.events)
    );
    Ok(ExitCode::SUCCESS)
}

/// The configured action on a drift event, besides publishing it: `log` (the stage logs every
/// event anyway) or `webhook:URL` (POSTs the event as JSON, best effort, without holding up the
/// stream).
pub fn action(spec: &str) -> anyhow::Result<Option<OnEvent>> {
    if spec == "log" {
        return Ok(None);
    }
    let Some(url) = spec.strip_prefix("webhook:") else {
        anyhow::bail!("monitor.action = {spec:?}: expected \"log\" or \"webhook:http://...\"");
    };
    let parsed = reqwest::Url::parse(url)
        .with_context(|| format!("monitor.action = {spec:?}: {url:?} is not a URL"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https"),
        "monitor.action = {spec:?}: the webhook must be http:// or https://"
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    Ok(Some(Arc::new(move |event: &DriftEvent| {
        let request = client.post(parsed.clone()).json(event);
        let id = event.id.clone();
        tokio::spawn(async move {
            match request.send().await.and_then(|r| r.error_for_status()) {
                Ok(_) => tracing::info!(%id, "drift event posted to the webhook"),
                Err(e) => tracing::warn!(%id, error = %e, "drift webhook failed"),
            }
        });
    })))
}
