//! `fraudwatch serve`: the REST API (`fraudwatch-api`) on `--listen`, over the configured case
//! store. With a champion in the registry it also scores single transactions (`POST /v1/score`):
//! a live scorer keeps its own copy of the processor's per-partition state by following the
//! `transactions` and `labels` topics (see `fraudwatch_scorer::live`), and takes a new champion
//! when the registry's alias moves (any registry: `file://` or MLflow). On first start, when the store holds no API key, it creates
//! an `admin` key and prints its secret once.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use clap::Args;
use fraudwatch_api::{ApiState, Scoring, ScoringError};
use fraudwatch_bus::Bus;
use fraudwatch_core::engine::{EngineConfig, FeatureSet};
use fraudwatch_core::{Role, Score, Transaction};
use fraudwatch_scorer::live::{self, FollowConfig, FollowStatus, LiveConfig, LiveScorer};
use fraudwatch_store::CaseStore;

use crate::registry::{CHAMPION, Registry};
use crate::score::{ChampionPoller, Fit, RELOAD_EVERY, champion_of, check_anomaly_review};
use crate::settings::Settings;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve the API on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Prefix of the topic names the live scorer follows.
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// This process's name; its follower's consumer group is `fraudwatch-api-<NAME>` (default:
    /// the process id). Each API process needs its own.
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// The feature set the processor computes; the champion must have been trained on it.
    #[arg(long, value_name = "SET", default_value = "risk")]
    pub feature_set: FeatureSet,
    /// Also review any transaction whose anomaly score (Isolation Forest) reaches this.
    #[arg(long, value_name = "SCORE")]
    pub anomaly_review: Option<f64>,
    /// How far (in event time) a transaction published on the topic may lag behind the newest
    /// one scored here and still be counted in the live state.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(0..=30 * 86_400))]
    pub lateness_secs: u64,
    /// Serve case work only: no live scorer, `POST /v1/score` answers 503.
    #[arg(long)]
    pub no_scoring: bool,
}

impl ServeArgs {
    /// The defaults, listening on `listen` as process `instance`.
    pub(crate) fn embedded(listen: SocketAddr, instance: &str) -> ServeArgs {
        ServeArgs {
            listen,
            topic_prefix: String::new(),
            instance: Some(instance.into()),
            feature_set: FeatureSet::Risk,
            anomaly_review: None,
            lateness_secs: 3600,
            no_scoring: false,
        }
    }

    fn fit(&self) -> Fit {
        Fit {
            feature_set: self.feature_set,
            anomaly_review: self.anomaly_review,
        }
    }
}

pub async fn run(args: &ServeArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    check_anomaly_review(args.anomaly_review)?;
    let store = fraudwatch_store::open(&settings.store_url)
        .await
        .context("opening the case store")?;
    if let Some(secret) = bootstrap_key(&*store).await? {
        println!("created API key \"admin\" (role admin); it is shown once:\n  {secret}");
    }
    let bus = fraudwatch_bus::open(&settings.bus_url).context("opening the bus")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let shutdown = crate::process::shutdown_signal();
    let live = if args.no_scoring {
        None
    } else {
        let registry = crate::registry::open(&settings.registry_url).await?;
        LiveScoring::start(bus, registry, settings.partitions, args).await?
    };
    let mut state = ApiState::new(store);
    if let Some(live) = &live {
        state = state.with_scoring(live.clone());
    }
    if let Some(handle) = prometheus() {
        state = state.with_metrics(handle);
    }
    println!("listening on http://{}", listener.local_addr()?);
    fraudwatch_api::serve(listener, state, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// The process's metrics recorder, for `/metrics` (none if another is installed already).
pub(crate) fn prometheus() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .inspect_err(|e| tracing::warn!(error = %e, "no /metrics: a recorder is installed"))
        .ok()
}

/// Creates the first admin key when the store holds none; returns its secret.
pub(crate) async fn bootstrap_key(store: &dyn CaseStore) -> anyhow::Result<Option<String>> {
    if !store
        .list_keys()
        .await
        .context("reading the API keys")?
        .is_empty()
    {
        return Ok(None);
    }
    let (_, secret) = fraudwatch_api::create_key(store, "admin", Role::Admin)
        .await
        .map_err(|e| anyhow::anyhow!("creating the first API key: {}", e.message))?;
    Ok(Some(secret))
}

/// The live scorer behind `POST /v1/score`, following the topics in the background.
#[derive(Debug)]
pub(crate) struct LiveScoring {
    live: Arc<Mutex<LiveScorer>>,
    status: Arc<FollowStatus>,
}

impl LiveScoring {
    /// Starts following and reloading; `None` (scoring off, logged) when the registry has no
    /// champion yet.
    pub(crate) async fn start(
        bus: Arc<dyn Bus>,
        registry: Arc<dyn Registry>,
        partitions: i32,
        args: &ServeArgs,
    ) -> anyhow::Result<Option<Arc<LiveScoring>>> {
        let Some(bundle) = registry.by_alias(CHAMPION).await? else {
            tracing::warn!(registry = %registry.url(), "no champion: POST /v1/score answers 503 until a restart after `fraudwatch train --promote`");
            return Ok(None);
        };
        let champion = champion_of(&bundle, args.fit())?;
        let mut engine = EngineConfig::new(args.feature_set);
        engine.lateness_ms = i64::try_from(args.lateness_secs * 1000)?;
        let config = LiveConfig {
            engine,
            ..LiveConfig::new(partitions)
        };
        let live = Arc::new(Mutex::new(LiveScorer::new(config, champion)?));
        let status = Arc::new(FollowStatus::default());
        let instance = args
            .instance
            .clone()
            .unwrap_or_else(|| std::process::id().to_string());
        let follow = FollowConfig::with_prefix(&args.topic_prefix, &instance);
        let topics = fraudwatch_processor::Topics::with_prefix(&args.topic_prefix);
        bus.create_topics(&topics.specs(partitions))
            .await
            .context("creating the topics the live scorer follows")?;
        tokio::spawn({
            let (live, status) = (live.clone(), status.clone());
            async move {
                // `follow` logs why it stopped; the API then answers 503 (not ready).
                let _ = live::follow(&*bus, &live, &follow, &status, std::future::pending()).await;
            }
        });
        tokio::spawn(reload(
            live.clone(),
            ChampionPoller::new(registry, CHAMPION, &bundle.version, args.fit()),
        ));
        tracing::info!(bundle = %bundle.version, "scoring single transactions");
        Ok(Some(Arc::new(LiveScoring { live, status })))
    }
}

/// Every few seconds: has the champion alias moved? Then the live scorer takes the new bundle.
/// Registry errors are logged by the poller and retried at the next tick.
async fn reload(live: Arc<Mutex<LiveScorer>>, mut poller: ChampionPoller) {
    loop {
        tokio::time::sleep(RELOAD_EVERY).await;
        let Some(next) = poller.poll().await else {
            continue;
        };
        let version = next.version().to_string();
        let swapped = live::lock(&live)
            .map_err(anyhow::Error::from)
            .and_then(|mut l| Ok(l.set_champion(next)?));
        match swapped {
            Ok(()) => poller.took(&version),
            Err(e) => poller.refuse(&version, &e),
        }
    }
}

#[async_trait::async_trait]
impl Scoring for LiveScoring {
    async fn score(&self, tx: &Transaction) -> Result<Score, ScoringError> {
        if !self.status.is_ready() {
            return Err(ScoringError::Unavailable(
                "the live state is still catching up with the topics".into(),
            ));
        }
        let mut live =
            live::lock(&self.live).map_err(|e| ScoringError::Unavailable(e.to_string()))?;
        live.score(tx, fraudwatch_core::time::now()).map_err(|e| {
            if e.is_client_error() {
                ScoringError::Refused(e.to_string())
            } else {
                ScoringError::Unavailable(e.to_string())
            }
        })
    }

    fn ready(&self) -> bool {
        self.status.is_ready()
    }

    fn model_version(&self) -> Option<String> {
        live::lock(&self.live)
            .ok()
            .map(|l| l.champion().version().to_string())
    }
}
