//! `fraudwatch setup`: creates every pipeline topic (and its dead-letter topic) on the bus and
//! brings the case store's schema up to date. Safe to run again.

use anyhow::Context as _;
use fraudwatch_bus::TopicSpec;

use crate::settings::Settings;

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let topics = ensure_topics(settings).await?;
    fraudwatch_store::open(&settings.store_url)
        .await
        .context("opening the case store")?;
    println!(
        "bus {}: {} topics ready; store {}: schema up to date",
        settings.bus_url, topics, settings.store_url
    );
    Ok(())
}

/// Opens the bus and creates the pipeline topics; returns how many there are.
pub async fn ensure_topics(settings: &Settings) -> anyhow::Result<usize> {
    let bus = fraudwatch_bus::open(&settings.bus_url).context("opening the bus")?;
    let topics = TopicSpec::pipeline(settings.partitions);
    bus.create_topics(&topics)
        .await
        .context("creating the pipeline topics")?;
    Ok(topics.len())
}
