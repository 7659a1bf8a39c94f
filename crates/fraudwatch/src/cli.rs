//! The command line. Global flags override the configuration; each stage is one subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "fraudwatch",
    version,
    about = "Real-time fraud and anomaly detection",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes; each overrides the same key of the configuration.
#[derive(Debug, Default, Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML), layered over the compiled-in defaults.
    #[arg(long, global = true, env = "FRAUDWATCH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Event bus URL: memory:// or kafka://host:port.
    #[arg(long = "bus", global = true, value_name = "URL")]
    pub bus_url: Option<String>,
    /// Case store URL: sqlite://path or postgres://user:password@host:port/db.
    #[arg(long = "store", global = true, value_name = "URL")]
    pub store_url: Option<String>,
    /// Model registry URL: file://path, or mlflow+http://host:port[?model=NAME&experiment=NAME]
    /// (an MLflow tracking server).
    #[arg(long = "registry", global = true, value_name = "URL")]
    pub registry_url: Option<String>,
    /// Partitions of the pipeline topics (1 to 1024).
    #[arg(long, global = true, value_parser = clap::value_parser!(i32).range(1..=1024))]
    pub partitions: Option<i32>,
    /// Serve Prometheus metrics on this address (GET /metrics), e.g. 127.0.0.1:9464.
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,
    /// Log filter, e.g. info or debug,rdkafka=warn.
    #[arg(long = "log", global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate synthetic transactions or replay a dataset onto the bus.
    Generate(Box<crate::generate::GenerateArgs>),
    /// Turn transactions into features over exact per-customer windows.
    Process(ProcessArgs),
    /// Score features, decide allow / review / block, open cases.
    Score(crate::score::ScoreArgs),
    /// Serve the REST API for scoring and case work.
    Serve(crate::serve::ServeArgs),
    /// Watch features, scores and labels for drift; compare files; write reports.
    Monitor(crate::monitor::MonitorArgs),
    /// Retrain on labelled data, compare with the champion, promote only a better model.
    Retrain(Box<crate::retrain::RetrainArgs>),
    /// Train a model bundle from transactions (features by the streaming engine) into the registry.
    Train(Box<crate::modelling::TrainArgs>),
    /// Evaluate models with the fraud handbook's protocols.
    Evaluate(Box<crate::modelling::EvaluateArgs>),
    /// Measure the pipeline's throughput and latency (prints JSON).
    Bench(BenchArgs),
    /// Run the whole pipeline in one process (embedded mode).
    Demo(DemoArgs),
    /// Create the pipeline's topics on the bus and migrate the case store.
    Setup,
    /// Print the effective configuration (all layers merged) as TOML.
    Config,
}

/// `fraudwatch process`. With `--input`, the file mode: a CSV file in the fraud handbook's
/// layout in, features out.
#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// Transactions file in the fraud handbook's CSV layout, plain or gzip (file mode).
    #[arg(long, value_name = "FILE")]
    pub input: Option<std::path::PathBuf>,
    /// Features CSV written by the file mode; `-` or absent: standard output.
    #[arg(long, value_name = "FILE", requires = "input")]
    pub out: Option<std::path::PathBuf>,
    /// Feature set: handbook (the fraud handbook's 14) or velocity (alias default).
    #[arg(long, value_name = "SET", default_value = "velocity")]
    pub feature_set: fraudwatch_core::engine::FeatureSet,
    /// Labels are known this many days after their transaction: file mode delivers each row's
    /// label then, and the handbook's terminal windows end this long before the transaction.
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub labels_delay_days: u32,
    /// Events up to this many seconds older than the newest one are still placed exactly;
    /// older ones are refused (in file mode: an error naming the line).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub lateness_secs: u64,
    /// Stream mode: consumer group; processes of one group share the partitions.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "fraudwatch-process",
        conflicts_with = "input"
    )]
    pub group: String,
    /// Stream mode: this process's name in the group, stable across restarts so a restarted
    /// process fences its predecessor's unfinished transaction (default: the process id).
    #[arg(long, value_name = "NAME", conflicts_with = "input")]
    pub instance: Option<String>,
    /// Stream mode: prefix of the topic names (e.g. for several pipelines on one cluster).
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "",
        conflicts_with = "input"
    )]
    pub topic_prefix: String,
    /// Stream mode: most messages per batch (and per transaction).
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000), conflicts_with = "input")]
    pub batch: u32,
}

/// The embedded demo's world.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Days of event time to generate and stream live.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=366))]
    pub days: u32,
    /// Days of the history world the champion is trained on (a sibling world: the next seed).
    #[arg(long, default_value_t = 28, value_parser = clap::value_parser!(u32).range(2..=366))]
    pub history_days: u32,
    /// Customers in the generated world.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub customers: u32,
    /// Seed of the generated world (same seed, same world).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Transactions per second streamed live; 0 streams as fast as the pipeline takes them.
    #[arg(long, value_name = "TX_PER_S", default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub rate: u32,
    /// Stop after this long (e.g. 30s, 5m, 1h; plain numbers are seconds); without it the demo
    /// serves the API until Ctrl-C.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Address of the REST API.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
}

/// `30s`, `5m`, `1h`, `90` (seconds): from 1 s to 7 days.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30s, 5m or 1h"))?;
    let secs = match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    }
    .ok_or_else(|| format!("{s:?} is not a duration like 30s, 5m or 1h"))?;
    if !(1..=7 * 86_400).contains(&secs) {
        return Err(format!("{s:?}: a duration is 1 s to 7 days"));
    }
    Ok(std::time::Duration::from_secs(secs))
}

/// What `fraudwatch bench` measures. By default the whole pipeline, end to end (`--mode`,
/// `--events`, `--rate`, `--out`); `bench process` measures the stream processor alone
/// (`--transactions`, `--rate`, `--seconds`, over the configured bus).
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// pipeline: generate → process → score → cases, end to end; process: the stream processor;
    /// api: `POST /v1/score` over HTTP on loopback, open loop at --rate (default 1,000/s);
    /// monitor: the drift monitor draining --events vectors and scores of a flat-out pipeline run.
    #[arg(value_enum, default_value = "pipeline")]
    pub stage: BenchStage,
    /// Pipeline backends: embedded (memory:// bus, SQLite in a temporary directory) or kafka
    /// (the configured kafka:// bus and postgres:// store).
    #[arg(long, value_enum, default_value = "embedded")]
    pub mode: BenchMode,
    /// Pipeline: transactions measured.
    #[arg(long, value_name = "N", default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub events: u64,
    /// Transactions per second offered, open loop. Pipeline: absent = flat out (a backlog of
    /// --events, then drained as fast as possible); process: the latency run's rate (2,000).
    #[arg(long, value_name = "PER_SECOND", allow_negative_numbers = true, value_parser = per_second)]
    pub rate: Option<u64>,
    /// Pipeline: scorer instances, one consumer group over as many partitions of `features`
    /// (embedded; on Kafka at most --partitions). Default: one a CPU.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub scorers: Option<u16>,
    /// Also write the JSON result to this file (it always goes to standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Process: transactions of the throughput run (a backlog processed as fast as possible).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub transactions: u64,
    /// Process: seconds of the latency run.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchStage {
    Pipeline,
    Process,
    Api,
    Monitor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    Embedded,
    Kafka,
}

/// `--rate`: a whole number of transactions per second, 1 to 10,000,000.
fn per_second(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(r) if (1..=10_000_000).contains(&r) => Ok(r),
        _ => Err(format!(
            "{s:?} is not a rate: expected a whole number of transactions per second from 1 to 10000000"
        )),
    }
}
