//! `fraudwatch generate`: a generated world (or a replayed dataset) to a file or onto the bus.
//!
//! The flags become a `fraudwatch_generator::Config`; the events go to `--out FILE` (handbook CSV or
//! labelled JSON lines) or, without `--out`, to the bus: transactions to `transactions`, labels to
//! `labels` after `--label-delay`, both keyed by customer id. A JSON summary ends the run on stdout.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use fraudwatch_generator::run::{self, Control};
use fraudwatch_generator::stats::json_string;
use fraudwatch_generator::{
    BusSink, Config, Drift, DriftKind, Error, Events, FileSink, Format, Labels, Pace, Profile,
    Replay, Summary, Tx, World, parse,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::settings::Settings;

/// `fraudwatch generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// World to generate: handbook (the fraud handbook's process: 5,000 customers, 10,000
    /// terminals, its 3 scenarios) or default (towns, channels, devices, 6 scenarios).
    #[arg(long, value_name = "PROFILE", default_value = "default", value_parser = profile)]
    pub profile: Profile,
    /// Seed of every random choice: same seed and flags, same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Customers (default: 5,000 handbook, 10,000 default).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub customers: Option<u32>,
    /// Terminals, web shops included (default: 10,000).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub terminals: Option<u32>,
    /// Days of event time. Without --days, --count or --duration: 30 days, or no end when paced.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub days: Option<u32>,
    /// Stop after N transactions (their labels still follow).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Stop taking transactions after this much wall time, e.g. 10m.
    #[arg(long, value_name = "DURATION", value_parser = parse::duration_ms)]
    pub duration: Option<i64>,
    /// First day of event time, YYYY-MM-DD (default: 2018-04-01 handbook, 2024-01-01 default).
    #[arg(long, value_name = "DATE", value_parser = parse::start_ms)]
    pub start: Option<i64>,
    /// Transactions per wall-clock second (default: as fast as possible).
    #[arg(long, value_name = "PER_SECOND", allow_negative_numbers = true, value_parser = parse::positive, conflicts_with = "speed")]
    pub rate: Option<f64>,
    /// Event time mapped to wall time: event seconds per wall second (3600 = an hour a second).
    #[arg(long, value_name = "FACTOR", allow_negative_numbers = true, value_parser = parse::positive)]
    pub speed: Option<f64>,
    /// Labels follow their transaction after this much event time, e.g. 7d or 30m.
    #[arg(long, value_name = "DURATION", default_value = "7d", allow_hyphen_values = true, value_parser = parse::duration_ms)]
    pub label_delay: i64,
    /// Which transactions get a label on the bus: all, frauds, none.
    #[arg(long, value_name = "WHICH", default_value = "all")]
    pub labels: Labels,
    /// Fraud scenario rate, NAME=PER_DAY (repeatable): compromised_terminal, compromised_card,
    /// card_testing, account_takeover, merchant_collusion; amount_over_220=0 turns that rule off.
    #[arg(long = "scenario-rate", value_name = "NAME=PER_DAY")]
    pub scenario_rates: Vec<String>,
    /// Inject drift from this date (YYYY-MM-DD or RFC 3339 time) on; needs --drift.
    #[arg(long, value_name = "DATE", value_parser = parse::start_ms, requires = "drift")]
    pub drift_at: Option<i64>,
    /// Drift kinds, comma-separated: amount, channel, country, fraud; needs --drift-at.
    #[arg(long, value_name = "KINDS", value_delimiter = ',', value_parser = drift_kind, requires = "drift_at")]
    pub drift: Vec<DriftKind>,
    /// Drift `amount`: factor on genuine amounts.
    #[arg(long, value_name = "FACTOR", default_value_t = 1.5, allow_negative_numbers = true, value_parser = parse::positive)]
    pub drift_amount_factor: f64,
    /// Drift `fraud`: factor on every scenario's rate.
    #[arg(long, value_name = "FACTOR", default_value_t = 5.0, allow_negative_numbers = true, value_parser = parse::positive)]
    pub drift_fraud_factor: f64,
    /// Write to this file instead of the bus (`-`: standard output); the format follows the
    /// extension (.csv, .jsonl) unless --format says.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// File format: csv (the handbook layout) or jsonl (transaction + is_fraud + fraud_scenario).
    #[arg(long, value_name = "FORMAT", requires = "out")]
    pub format: Option<Format>,
    /// Replay a dataset in the handbook CSV layout (plain or .gz) instead of generating.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["customers", "terminals", "start", "scenario_rates", "drift_at"])]
    pub replay: Option<PathBuf>,
    /// Prefix of the topic names (e.g. `test-` gives test-transactions, test-labels).
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Records per produce call.
    #[arg(long, value_name = "N", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

fn profile(s: &str) -> Result<Profile, String> {
    s.parse()
        .map_err(|e: fraudwatch_generator::ConfigError| e.to_string())
}

fn drift_kind(s: &str) -> Result<DriftKind, String> {
    s.parse()
        .map_err(|e: fraudwatch_generator::ConfigError| e.to_string())
}

fn config(args: &GenerateArgs) -> anyhow::Result<Config> {
    let mut cfg = Config::new(args.profile);
    cfg.seed = args.seed;
    cfg.customers = args.customers.unwrap_or(cfg.customers);
    cfg.terminals = args.terminals.unwrap_or(cfg.terminals);
    cfg.start_ms = args.start.unwrap_or(cfg.start_ms);
    let bounded = args.count.is_some() || args.duration.is_some();
    let paced = args.rate.is_some() || args.speed.is_some();
    cfg.days = args.days.or((!bounded && !paced).then_some(30));
    for r in &args.scenario_rates {
        cfg.rates.set(r).context("--scenario-rate")?;
    }
    if let Some(at) = args.drift_at {
        let mut d = Drift::new(at, args.drift.clone());
        d.amount_factor = args.drift_amount_factor;
        d.fraud_factor = args.drift_fraud_factor;
        cfg.drift = Some(d);
    }
    cfg.validate()?;
    Ok(cfg)
}

/// The file format of `--out`.
fn file_format(args: &GenerateArgs, path: &Path) -> anyhow::Result<Format> {
    let format = match args.format.or_else(|| Format::from_path(path)) {
        Some(f) => f,
        None => bail!(
            "--out {}: cannot tell the format from the name; use a .csv or .jsonl name, or --format",
            path.display()
        ),
    };
    Ok(format)
}

/// Source of transactions: a world or a replay, optionally cut after some days of event time.
enum Source {
    World(Box<World>),
    Replay(Replay),
}

impl Iterator for Source {
    type Item = Result<Tx, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Source::World(w) => w.next().map(Ok),
            Source::Replay(r) => r.next(),
        }
    }
}

/// Stops a replay after `days` days of event time from the first row's day.
struct Days<S> {
    inner: S,
    days: Option<u32>,
    end_ms: Option<i64>,
}

impl<S: Iterator<Item = Result<Tx, Error>>> Iterator for Days<S> {
    type Item = Result<Tx, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next()?;
        if let (Ok(tx), Some(days)) = (&item, self.days) {
            let end = *self.end_ms.get_or_insert(
                tx.time_ms.div_euclid(86_400_000) * 86_400_000 + i64::from(days) * 86_400_000,
            );
            if tx.time_ms >= end {
                return None;
            }
        }
        Some(item)
    }
}

/// What the progress bar measures.
enum Measure {
    Count(u64),
    EventDays { start_ms: i64, days: u32 },
    Bytes(Arc<AtomicU64>, u64),
    Wall(Duration),
    Open,
}

fn measure_len(measure: &Measure) -> u64 {
    match measure {
        Measure::Count(n) => *n,
        Measure::EventDays { days, .. } => u64::from(*days) * 86_400,
        Measure::Bytes(_, size) => *size,
        Measure::Wall(d) => d.as_secs().max(1),
        Measure::Open => 0,
    }
}

fn progress_bar(args: &GenerateArgs, measure: &Measure) -> Option<ProgressBar> {
    if args.no_progress || !std::io::stderr().is_terminal() {
        return None;
    }
    let (len, template) = match measure {
        Measure::Open => (None, "{spinner} {elapsed} {msg}"),
        Measure::Wall(_) => (Some(measure_len(measure)), "{wide_bar} {percent:>3}% {msg}"),
        _ => (
            Some(measure_len(measure)),
            "{wide_bar} {percent:>3}% {msg} eta {eta}",
        ),
    };
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr_with_hz(4));
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    Some(bar)
}

fn report(bar: &ProgressBar, measure: &Measure, s: &Summary, started: Instant) {
    let pos = match measure {
        Measure::Count(_) => s.transactions,
        Measure::EventDays { start_ms, .. } => s
            .last_ms
            .map_or(0, |t| ((t - start_ms) / 1000).max(0) as u64),
        Measure::Bytes(read, _) => read.load(Ordering::Relaxed),
        Measure::Wall(_) => started.elapsed().as_secs(),
        Measure::Open => 0,
    };
    bar.set_position(pos);
    bar.set_message(format!(
        "{} tx, {} frauds, {:.0} tx/s",
        s.transactions,
        s.frauds(),
        s.per_second()
    ));
}

pub async fn run(
    args: GenerateArgs,
    settings: &Settings,
) -> anyhow::Result<std::process::ExitCode> {
    let (source, measure, origin_ms) = match &args.replay {
        Some(path) => {
            let replay = Replay::open(path)?;
            let measure = match (args.count, args.duration) {
                (Some(n), _) => Measure::Count(n),
                (None, Some(ms)) => Measure::Wall(Duration::from_millis(ms as u64)),
                _ => Measure::Bytes(replay.bytes_read(), replay.position().1),
            };
            (Source::Replay(replay), measure, None)
        }
        None => {
            let cfg = config(&args)?;
            let measure = match (args.count, args.duration, cfg.days) {
                (Some(n), _, _) => Measure::Count(n),
                (None, Some(ms), _) => Measure::Wall(Duration::from_millis(ms as u64)),
                (None, None, Some(days)) => Measure::EventDays {
                    start_ms: cfg.start_ms,
                    days,
                },
                _ => Measure::Open,
            };
            let origin = cfg.start_ms;
            (
                Source::World(Box::new(World::new(cfg)?)),
                measure,
                Some(origin),
            )
        }
    };
    let days = if args.replay.is_some() {
        args.days
    } else {
        None
    };
    let labels = if args.out.is_some() {
        Labels::None
    } else {
        args.labels
    };
    let mut events = Events::new(
        Days {
            inner: source,
            days,
            end_ms: None,
        },
        args.label_delay,
        labels,
    );
    if let Some(n) = args.count {
        events = events.limit(n);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.store(true, Ordering::Relaxed);
        }
    });
    let pace = match (args.rate, args.speed) {
        (Some(r), _) => Pace::Rate(r),
        (None, Some(s)) => Pace::Speed(s),
        _ => Pace::Fastest,
    };
    let ctl = Control {
        pace,
        deadline: args
            .duration
            .map(|ms| Instant::now() + Duration::from_millis(ms as u64)),
        stop: Some(&stop),
    };
    let bar = progress_bar(&args, &measure);
    let started = Instant::now();
    let mut progress = |s: &Summary| {
        if let Some(bar) = &bar {
            report(bar, &measure, s, started);
        }
    };

    let mut extra = vec![(
        "source",
        json_string(&match &args.replay {
            Some(p) => format!("replay:{}", p.display()),
            None => format!("profile:{}", args.profile),
        }),
    )];
    if args.replay.is_none() {
        extra.push(("seed", args.seed.to_string()));
    }
    let to_stdout = args.out.as_deref() == Some(Path::new("-"));
    let summary = match &args.out {
        Some(path) => {
            let format = file_format(&args, path)?;
            extra.push(("output", json_string(&path.display().to_string())));
            tokio::task::block_in_place(|| -> anyhow::Result<Summary> {
                if to_stdout {
                    let mut sink = FileSink::new(
                        std::io::stdout().lock(),
                        format,
                        origin_ms,
                        "standard output",
                    );
                    let s = run::to_file(&mut events, &mut sink, ctl, &mut progress)?;
                    drop(sink.finish()?);
                    Ok(s)
                } else {
                    let file = std::fs::File::create(path).with_context(|| {
                        format!("--out {}: cannot create the file", path.display())
                    })?;
                    // A replay's `tx_time_seconds` count from the midnight before its first row.
                    let mut sink =
                        FileSink::new(file, format, origin_ms, path.display().to_string());
                    let s = run::to_file(&mut events, &mut sink, ctl, &mut progress)?;
                    sink.finish()?
                        .sync_all()
                        .with_context(|| format!("writing {}", path.display()))?;
                    Ok(s)
                }
            })?
        }
        None => {
            if settings.bus_url.starts_with("memory:") {
                tracing::warn!(
                    "the bus is memory://: the events vanish when this process ends; \
                     use --bus kafka://host:9092 or --out FILE"
                );
            }
            let bus = fraudwatch_bus::open(&settings.bus_url).context("opening the bus")?;
            let mut sink = BusSink::new(bus, &args.topic_prefix, args.batch as usize);
            sink.create_topics(settings.partitions).await?;
            let (t, l) = sink.topics();
            extra.push(("bus", json_string(&settings.bus_url)));
            extra.push(("topics", format!("[{},{}]", json_string(t), json_string(l))));
            extra.push(("label_delay_ms", args.label_delay.to_string()));
            run::to_bus(&mut events, &mut sink, ctl, &mut progress).await?
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let line = summary.to_json(&extra);
    if to_stdout {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}
