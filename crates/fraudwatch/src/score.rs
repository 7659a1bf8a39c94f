//! `fraudwatch score`: the streaming scorer. Reads `features` in a consumer group, scores each
//! batch with the registry's champion bundle, publishes `scores` and opens a case for every
//! review and block decision, until SIGINT or SIGTERM (`fraudwatch-scorer` does the work). When
//! the registry's `champion` alias moves, the new bundle takes over at the next batch boundary.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use fraudwatch_core::engine::FeatureSet;
use fraudwatch_models::Bundle;
use fraudwatch_scorer::stream::{Counters, StreamConfig};
use fraudwatch_scorer::{Champion, Policy};

use crate::registry::{CHAMPION, FileRegistry};

use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Consumer group; scorers of one group share the partitions.
    #[arg(long, value_name = "NAME", default_value = "fraudwatch-score")]
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
}

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

/// The registry's champion, ready to score, when it is not `current`.
pub(crate) fn next_champion(
    registry: &FileRegistry,
    current: &str,
    fit: Fit,
) -> anyhow::Result<Option<(String, Champion)>> {
    let Some(version) = registry.aliases()?.get(CHAMPION).cloned() else {
        return Ok(None);
    };
    if version == current {
        return Ok(None);
    }
    let bundle = registry.get(&version)?;
    Ok(Some((version, champion_of(&bundle, fit)?)))
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
    let registry = crate::registry::open(&settings.registry_url)?;
    let bundle = registry.by_alias(CHAMPION)?.with_context(|| {
        format!(
            "the registry {} has no champion: train one with `fraudwatch train --promote`",
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
    bus.create_topics(&config.specs(settings.partitions))
        .await
        .context("creating the scorer's topics")?;
    crate::metrics::serve(settings)?;
    let counters = Counters::default();
    tracing::info!(bundle = %bundle.version, review = policy.review, block = policy.block, "scoring");
    let mut current = bundle.version.clone();
    let mut checked = Instant::now();
    // Every few seconds, between batches: has the champion alias moved?
    let mut reload = || {
        if checked.elapsed() < RELOAD_EVERY {
            return None;
        }
        checked = Instant::now();
        match next_champion(&registry, &current, args.into()) {
            Ok(Some((version, next))) => {
                current = version;
                Some(next)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "keeping the current champion");
                None
            }
        }
    };
    fraudwatch_scorer::stream::run(
        &*bus,
        &*store,
        &mut champion,
        &mut reload,
        &config,
        &counters,
        crate::process::shutdown_signal(),
    )
    .await?;
    println!("{counters:?}");
    Ok(ExitCode::SUCCESS)
}
