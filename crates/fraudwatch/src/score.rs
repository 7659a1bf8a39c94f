//! `fraudwatch score`: the streaming scorer. Reads `features` in a consumer group, scores each
//! batch with the registry's champion bundle, publishes `scores` and opens a case for every
//! review and block decision, until SIGINT or SIGTERM (`fraudwatch-scorer` does the work). When
//! the registry's `champion` alias moves (any registry: `file://` or MLflow), the new bundle
//! takes over at the next batch boundary.

use std::process::ExitCode;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use fraudwatch_core::engine::FeatureSet;
use fraudwatch_models::Bundle;
use fraudwatch_scorer::stream::{Counters, StreamConfig};
use fraudwatch_scorer::{Champion, Policy};

use crate::registry::{CHALLENGER, CHAMPION, Registry};
use crate::settings::Settings;
use fraudwatch_bus::topics::SHADOW_SCORES;

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Consumer group; scorers of one group share the partitions.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_GROUP)]
    pub group: String,
    /// This process's stable name in the group (default: the process id).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// Prefix of the topic names.
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Most messages per batch (and per transaction).
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch: u32,
    /// The feature set the processor publishes; the champion must have been trained on it.
    #[arg(long, value_name = "SET", default_value = "risk")]
    pub feature_set: FeatureSet,
    /// Also review any transaction whose anomaly score (Isolation Forest) reaches this.
    #[arg(long, value_name = "SCORE")]
    pub anomaly_review: Option<f64>,
    /// Shadow scoring: score with the registry's `challenger` (following that alias), publish to
    /// `scores.shadow`, open no cases; `retrain` reports its live record beside the champion's.
    /// The group defaults to `fraudwatch-shadow`.
    #[arg(long)]
    pub shadow: bool,
}

/// The default consumer group of `fraudwatch score`.
const DEFAULT_GROUP: &str = "fraudwatch-score";

/// How often the registry is asked whether the champion changed.
pub(crate) const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// Which bundles may score here, and with what extra policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fit {
    pub feature_set: FeatureSet,
    pub anomaly_review: Option<f64>,
}

impl From<&ScoreArgs> for Fit {
    fn from(a: &ScoreArgs) -> Fit {
        Fit {
            feature_set: a.feature_set,
            anomaly_review: a.anomaly_review,
        }
    }
}

/// Follows the registry's `champion` alias for a running scorer: [`ChampionPoller::poll`] is
/// called every [`RELOAD_EVERY`]; the caller reports whether it took the new champion. Errors
/// talking to the registry are logged and the next poll tries again: they never stop a scorer.
#[derive(Debug)]
pub(crate) struct ChampionPoller {
    registry: Arc<dyn Registry>,
    /// The alias followed: `champion`, or `challenger` in shadow.
    alias: &'static str,
    fit: Fit,
    /// The version scoring now.
    current: String,
    /// A version that cannot score here (e.g. trained on another feature set): not fetched
    /// again until the alias moves.
    refused: Option<String>,
}

impl ChampionPoller {
    pub(crate) fn new(
        registry: Arc<dyn Registry>,
        alias: &'static str,
        current: &str,
        fit: Fit,
    ) -> ChampionPoller {
        ChampionPoller {
            registry,
            alias,
            fit,
            current: current.to_string(),
            refused: None,
        }
    }

    /// The registry's champion, ready to score, when the alias moved to a bundle that fits.
    pub(crate) async fn poll(&mut self) -> Option<Champion> {
        match self.next().await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(
                    registry = %self.registry.url(),
                    error = %format!("{e:#}"),
                    "cannot read the champion; keeping the current one and trying again in {}s",
                    RELOAD_EVERY.as_secs()
                );
                None
            }
        }
    }

    async fn next(&mut self) -> anyhow::Result<Option<Champion>> {
        let Some(version) = self.registry.aliases().await?.remove(self.alias) else {
            return Ok(None);
        };
        if version == self.current || self.refused.as_ref() == Some(&version) {
            return Ok(None);
        }
        let bundle = self.registry.get(&version).await?;
        // Building the scorer is CPU work: off the async threads the stream runs on.
        let fit = self.fit;
        match tokio::task::spawn_blocking(move || champion_of(&bundle, fit)).await? {
            Ok(next) => Ok(Some(next)),
            Err(e) => {
                self.refuse(&version, &e);
                Ok(None)
            }
        }
    }

    /// The caller scores with `version` now.
    pub(crate) fn took(&mut self, version: &str) {
        tracing::info!(from = %self.current, to = %version, "new champion loaded");
        self.current = version.to_string();
        self.refused = None;
    }

    /// `version` cannot score here: keep the current champion until the alias moves again.
    pub(crate) fn refuse(&mut self, version: &str, why: &anyhow::Error) {
        tracing::warn!(
            champion = %version,
            error = %format!("{why:#}"),
            "the new champion cannot score here; keeping {} until the alias moves",
            self.current
        );
        self.refused = Some(version.to_string());
    }
}

/// Polls the registry every [`RELOAD_EVERY`] in a task of its own and hands each new champion
/// over the returned channel, for the stream's synchronous `reload` to take without waiting
/// (`try_iter`, the newest if several came) between batches. The task ends when the receiver is dropped (at its next hand-over) or when
/// the handle is aborted.
fn watch_champion(
    registry: Arc<dyn Registry>,
    alias: &'static str,
    current: &str,
    fit: Fit,
) -> (mpsc::Receiver<Champion>, tokio::task::JoinHandle<()>) {
    let (handover, taken) = mpsc::channel();
    let mut poller = ChampionPoller::new(registry, alias, current, fit);
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(RELOAD_EVERY).await;
            if let Some(next) = poller.poll().await {
                let version = next.version().to_string();
                if handover.send(next).is_err() {
                    return; // the scorer stopped
                }
                poller.took(&version);
            }
        }
    });
    (taken, task)
}

/// A bundle checked against the feature set, with the policy's anomaly rule.
pub(crate) fn champion_of(bundle: &Bundle, fit: Fit) -> anyhow::Result<Champion> {
    bundle.check_inputs(fit.feature_set.name(), fit.feature_set.names())?;
    let champion = Champion::new(bundle)?;
    let policy = Policy {
        anomaly_review: fit.anomaly_review,
        ..*champion.policy()
    };
    Ok(champion.with_policy(policy))
}

/// `--anomaly-review` is a score in [0, 1].
pub(crate) fn check_anomaly_review(a: Option<f64>) -> anyhow::Result<()> {
    if let Some(a) = a {
        anyhow::ensure!(
            (0.0..=1.0).contains(&a),
            "--anomaly-review {a}: an anomaly score is in [0, 1]"
        );
    }
    Ok(())
}

pub async fn run(args: &ScoreArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    check_anomaly_review(args.anomaly_review)?;
    let registry = crate::registry::open(&settings.registry_url).await?;
    // In shadow, the challenger scores: its live record, never acted on.
    let alias = if args.shadow { CHALLENGER } else { CHAMPION };
    let bundle = registry.by_alias(alias).await?.with_context(|| {
        let train = if args.shadow {
            "fraudwatch train"
        } else {
            "fraudwatch train --promote"
        };
        format!(
            "the registry {} has no {alias}: train one with `{train}`",
            settings.registry_url
        )
    })?;
    let mut champion = champion_of(&bundle, args.into())?;
    let policy = *champion.policy();

    let bus = fraudwatch_bus::open(&settings.bus_url).context("opening the bus")?;
    let store = fraudwatch_store::open(&settings.store_url)
        .await
        .context("opening the case store")?;
    let instance = args
        .instance
        .clone()
        .unwrap_or_else(|| std::process::id().to_string());
    let mut config =
        StreamConfig::with_prefix(&args.topic_prefix, &format!("{}-{instance}", args.group));
    config.group = args.group.clone();
    config.max_batch = args.batch as usize;
    if args.shadow {
        config.scores = format!("{}{SHADOW_SCORES}", args.topic_prefix);
        config.open_cases = false;
        if args.group == DEFAULT_GROUP {
            config.group = "fraudwatch-shadow".into();
        }
    }
    bus.create_topics(&config.specs(settings.partitions))
        .await
        .context("creating the scorer's topics")?;
    crate::metrics::serve(settings)?;
    let counters = Counters::default();
    tracing::info!(bundle = %bundle.version, review = policy.review, block = policy.block, "scoring");
    // A task polls the registry; between batches the stream takes the newest champion it
    // fetched, without waiting on the registry.
    let (champions, watcher) = watch_champion(registry, alias, &bundle.version, args.into());
    let mut reload = move || champions.try_iter().last();
    let scored = fraudwatch_scorer::stream::run(
        &*bus,
        &*store,
        &mut champion,
        &mut reload,
        &config,
        &counters,
        crate::process::shutdown_signal(),
    )
    .await;
    watcher.abort();
    scored?;
    println!("{counters:?}");
    Ok(ExitCode::SUCCESS)
}
