//! `fraudwatch train` and `fraudwatch evaluate`: transactions in the handbook's layout → features
//! through the streaming engine (labels fed back after the delay) → a bundle in the registry, or
//! the handbook's protocol with its metrics in `result.json` and the test scores beside it.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use clap::Args;
use fraudwatch_core::Id;
use fraudwatch_core::engine::{DAY_MS, EngineConfig};
use fraudwatch_models::ModelKind;
use fraudwatch_train::dataset::{date_of, day_number};
use fraudwatch_train::evaluate::FoldResult;
use fraudwatch_train::protocol::Fold;
use fraudwatch_train::{Dataset, FoldProgress, Progress, Protocol, TrainParams};
use fraudwatch_xgboost::Round;

use crate::registry::{CHALLENGER, CHAMPION, RunRecord};
use crate::settings::Settings;

/// The hyper-parameter files shipped in `config/models/`, by name.
const SHIPPED: [(&str, &str); 4] = [
    (
        "default",
        include_str!("../../../config/models/default.toml"),
    ),
    (
        "handbook-baseline",
        include_str!("../../../config/models/handbook-baseline.toml"),
    ),
    (
        "handbook-prequential",
        include_str!("../../../config/models/handbook-prequential.toml"),
    ),
    (
        "handbook-iforest",
        include_str!("../../../config/models/handbook-iforest.toml"),
    ),
];

/// Where training data come from and how the model is set up.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Transactions in the fraud handbook's CSV layout, plain or gzip.
    #[arg(long, value_name = "FILE")]
    pub transactions: PathBuf,
    /// Hyper-parameters: a TOML file, or a shipped one by name (default, handbook-baseline,
    /// handbook-prequential, handbook-iforest).
    #[arg(long, value_name = "FILE|NAME", default_value = "default")]
    pub params: String,
    /// Overrides the model of the hyper-parameters: xgboost, iforest or combined.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<ModelKind>,
    /// First training day (of fold 0).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub train_start: Option<NaiveDate>,
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub train_days: Option<u32>,
    /// Days until a label is known: the engine learns each label this long after its
    /// transaction, and the protocols leave this gap between training and test.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=365))]
    pub delay_days: Option<u32>,
}

/// `fraudwatch train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Also write the bundle to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Make the new bundle the champion (it is always the challenger).
    #[arg(long)]
    pub promote: bool,
}

/// `fraudwatch evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// handbook-baseline or handbook-prequential.
    #[arg(long, value_name = "PROTOCOL")]
    pub protocol: Protocol,
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub test_days: Option<u32>,
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=520))]
    pub folds: Option<u32>,
    /// Run the validation folds (where hyper-parameters are chosen) instead of the test folds.
    #[arg(long)]
    pub validation: bool,
    /// The report; the test scores go beside it as `<name>-scores.csv`.
    #[arg(long, value_name = "FILE", default_value = "result.json")]
    pub out: PathBuf,
}

pub fn shipped_params(name: &str) -> Option<&'static str> {
    SHIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

fn load_params(args: &DataArgs) -> anyhow::Result<TrainParams> {
    let mut params = params_named(&args.params)?;
    if let Some(model) = args.model {
        params.model = model;
    }
    Ok(params)
}

/// Hyper-parameters from a TOML file, or a shipped one by name.
pub(crate) fn params_named(name: &str) -> anyhow::Result<TrainParams> {
    let text = match SHIPPED.iter().find(|(shipped, _)| *shipped == name) {
        Some((_, text)) => (*text).to_string(),
        None => std::fs::read_to_string(name).with_context(|| {
            format!(
                "--params {name:?}: no such file, and not a shipped name ({})",
                SHIPPED.map(|(n, _)| n).join(", ")
            )
        })?,
    };
    TrainParams::from_toml(&text).with_context(|| format!("--params {name}"))
}

/// The model inputs: the feature set's, with the amount first when the set lacks it (the
/// handbook's 15 inputs).
fn input_names(params: &TrainParams) -> (Vec<String>, bool) {
    let names: Vec<String> = params.feature_set.names().map(String::from).collect();
    if names.iter().any(|n| n == "amount") {
        (names, false)
    } else {
        (
            std::iter::once("amount".to_string()).chain(names).collect(),
            true,
        )
    }
}

/// Runs the file through the engine and keeps the rows dated `first..=last`; stops reading at
/// the first row after `last` (the layout is sorted by time).
pub fn load(
    path: &Path,
    params: &TrainParams,
    delay_days: i64,
    days: Option<(i64, i64)>,
) -> anyhow::Result<Dataset> {
    let (names, amount_first) = input_names(params);
    let mut data = Dataset::new(names);
    let mut inputs = Vec::new();
    // On a terminal: a spinner with the rows read and the day reached.
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            None,
            indicatif::ProgressDrawTarget::stderr_with_hz(4),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar
    });
    let mut read = 0u64;
    let config = EngineConfig {
        feature_set: params.feature_set,
        lateness_ms: 0,
        label_delay_ms: delay_days * DAY_MS,
    };
    let summary = crate::process::engine_pass(path, config, |row, values| {
        let time = row.timestamp.timestamp_millis();
        let day = time.div_euclid(DAY_MS);
        read += 1;
        if let Some(bar) = bar.as_ref().filter(|_| read.is_multiple_of(50_000)) {
            bar.set_message(format!(
                "features: {read} transactions read, at {}",
                date_of(day)
            ));
            bar.tick();
        }
        match days {
            Some((_, last)) if day > last => return Ok(ControlFlow::Break(())),
            Some((first, _)) if day < first => return Ok(ControlFlow::Continue(())),
            _ => {}
        }
        inputs.clear();
        if amount_first {
            inputs.push(row.amount);
        }
        inputs.extend_from_slice(values);
        data.push(
            &Id::from(row.transaction_id),
            time,
            &Id::from(row.customer_id),
            row.is_fraud,
            &inputs,
        )?;
        Ok(ControlFlow::Continue(()))
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    tracing::info!(
        transactions = summary.transactions,
        kept = data.len(),
        seconds = format!("{:.1}", summary.seconds),
        set = %params.feature_set,
        "features computed"
    );
    Ok(data)
}

/// `fraudwatch train`: features and training on the blocking pool, then the registry: the run
/// (params, metrics, tags and the bundle; on MLflow a run of the URL's experiment and a version
/// of its registered model), the bundle read back, `challenger` and, with `--promote`,
/// `champion`. A run that fails before the registry changes moves no alias.
pub async fn train(args: TrainArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let params = load_params(&args.data)?;
    let registry = crate::registry::open(&settings.registry_url).await?;
    let (args, fitted) = tokio::task::spawn_blocking(move || {
        let fitted = fit(&args, &params)?;
        anyhow::Ok((args, fitted))
    })
    .await??;
    let bundle = &fitted.bundle;
    let run_id = registry.log_run(&run_record(&args, &fitted)).await?;
    let version = bundle.version.clone();
    // Read back through the loader the scorer uses: hash, models and shapes are checked.
    registry.get(&version).await?;
    registry.set_alias(CHALLENGER, &version).await?;
    if args.promote {
        registry.set_alias(CHAMPION, &version).await?;
    }
    let summary = serde_json::json!({
        "version": version,
        "run_id": run_id,
        "model": bundle.model.name(),
        "feature_set": bundle.feature_set,
        "inputs": bundle.features.len(),
        "data": bundle.data,
        "metrics": bundle.metrics,
        "thresholds": bundle.thresholds,
        "best_iteration": fitted.best_iteration,
        "champion": args.promote,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}

/// Features, training and `--out`: everything before the registry changes.
fn fit(args: &TrainArgs, params: &TrainParams) -> anyhow::Result<fraudwatch_train::Fitted> {
    let delay = i64::from(args.data.delay_days.unwrap_or(7));
    let train_days = i64::from(args.data.train_days.unwrap_or(7));
    let window = args
        .data
        .train_start
        .map(|d| (day_number(d), day_number(d) + train_days - 1));
    let data = load(&args.data.transactions, params, delay, window)?;
    let (first, last) = match window {
        Some(w) => w,
        None => {
            anyhow::ensure!(
                !data.is_empty(),
                "{}: no transactions to train on",
                args.data.transactions.display()
            );
            // The last `train_days` days of the file.
            let last = (0..data.len()).map(|i| data.day(i)).max().unwrap_or(0);
            (last - train_days + 1, last)
        }
    };
    let rows = data.days(first, last);
    anyhow::ensure!(
        rows.len() >= 2,
        "{} rows from {} to {}: nothing to train on",
        rows.len(),
        date_of(first),
        date_of(last)
    );
    let mut progress = Terminal::new();
    let fitted = fraudwatch_train::fit(&data, &rows, params, &mut progress)?;
    if let Some(out) = &args.out {
        std::fs::write(out, fitted.bundle.to_json()?)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(fitted)
}

/// The registry's record of this run: the bundle's own (hyper-parameters, training metrics,
/// data range), plus how `fraudwatch train` was asked to train it.
fn run_record<'a>(args: &TrainArgs, fitted: &'a fraudwatch_train::Fitted) -> RunRecord<'a> {
    let mut run = RunRecord::for_bundle(&fitted.bundle);
    let data = &args.data;
    run.params.extend([
        ("run.params".to_string(), data.params.clone()),
        (
            "run.delay_days".to_string(),
            data.delay_days.unwrap_or(7).to_string(),
        ),
        (
            "run.train_days".to_string(),
            data.train_days.unwrap_or(7).to_string(),
        ),
    ]);
    if let Some(best) = fitted.best_iteration {
        run.metrics
            .insert("best_iteration".to_string(), f64::from(best));
    }
    run.tags.extend([
        (
            "fraudwatch.trigger".to_string(),
            "fraudwatch train".to_string(),
        ),
        (
            "fraudwatch.transactions".to_string(),
            data.transactions.display().to_string(),
        ),
        ("fraudwatch.promoted".to_string(), args.promote.to_string()),
        (
            "fraudwatch.code_version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]);
    run
}

pub fn evaluate(args: &EvaluateArgs) -> anyhow::Result<ExitCode> {
    let params = load_params(&args.data)?;
    let mut schedule = args.protocol.schedule(params.model);
    if let Some(d) = args.data.train_start {
        schedule.train_start = day_number(d);
    }
    let set = |v: Option<u32>, into: &mut i64| {
        if let Some(v) = v {
            *into = i64::from(v);
        }
    };
    set(args.data.train_days, &mut schedule.train_days);
    set(args.data.delay_days, &mut schedule.delay_days);
    set(args.test_days, &mut schedule.test_days);
    set(args.folds, &mut schedule.folds);
    if args.validation {
        schedule = schedule.validation();
    }
    let folds = schedule.folds();
    let first = folds.iter().map(|f| f.train.0).min().unwrap_or(0);
    let last = folds.iter().map(|f| f.test.1).max().unwrap_or(0);
    let data = load(
        &args.data.transactions,
        &params,
        schedule.delay_days,
        Some((first, last)),
    )?;
    for fold in &folds {
        let rows = data.days(fold.train.0, fold.train.1).len();
        anyhow::ensure!(
            rows >= 2,
            "fold {}: {rows} rows from {} to {}: nothing to train on",
            fold.index,
            date_of(fold.train.0),
            date_of(fold.train.1)
        );
    }
    let mut name = args.protocol.name().to_string();
    if args.validation {
        name.push_str(" (validation folds)");
    }
    let mut progress = Terminal::new();
    let (report, scores) =
        fraudwatch_train::evaluate(&data, &name, &schedule, &params, &mut progress)?;
    let json = serde_json::to_vec_pretty(&report)?;
    std::fs::write(&args.out, &json)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let scores_path = scores_path(&args.out);
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&scores_path)
            .with_context(|| format!("cannot create {}", scores_path.display()))?,
    );
    writeln!(out, "transaction_id,score")?;
    for s in &scores {
        writeln!(out, "{},{}", s.id, s.score)?;
    }
    out.flush()?;
    println!(
        "{} {} on {} folds: AUC-ROC {:.4} ± {:.4}, AP {:.4} ± {:.4}, CP@100 {:.4} ± {:.4}",
        report.protocol,
        report.model,
        report.folds.len(),
        report.auc_roc,
        report.std.auc_roc,
        report.average_precision,
        report.std.average_precision,
        report.card_precision_at_100,
        report.std.card_precision_at_100
    );
    println!(
        "report: {}, scores: {}",
        args.out.display(),
        scores_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `result.json` → `result-scores.csv`.
fn scores_path(out: &Path) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "result".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}-scores.csv"))
}

/// Progress on standard error: stages and folds always, XGBoost's rounds on a terminal.
struct Terminal {
    rounds: bool,
}

impl Terminal {
    fn new() -> Self {
        Self {
            rounds: std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Terminal {
    fn stage(&mut self, name: &str) {
        tracing::info!(stage = name, "training");
    }
    fn round(&mut self, r: &Round) {
        if self.rounds {
            let show = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.5}"));
            eprint!(
                "\r  round {:>4}  train {}  validation {}   ",
                r.iteration,
                show(r.train),
                show(r.valid)
            );
        }
    }
}

impl FoldProgress for Terminal {
    fn fold(&mut self, f: &Fold) {
        tracing::info!(
            fold = f.index,
            train = format!("{}..{}", date_of(f.train.0), date_of(f.train.1)),
            test = format!("{}..{}", date_of(f.test.0), date_of(f.test.1)),
            "fold"
        );
    }
    fn done(&mut self, r: &FoldResult) {
        if self.rounds {
            eprintln!();
        }
        tracing::info!(
            fold = r.fold,
            auc_roc = format!("{:.4}", r.auc_roc),
            average_precision = format!("{:.4}", r.average_precision),
            card_precision_at_100 = format!("{:.4}", r.card_precision_at_100),
            test_rows = r.test.rows,
            removed = r.removed,
            "fold done"
        );
    }
}
