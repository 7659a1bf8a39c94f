//! `fraudwatch demo`: the embedded mode, the whole pipeline in one process with no services.
//!
//! Today it brings up the embedded backends (in-memory bus, SQLite store) and says plainly that the
//! stages are still to come; each stage joins here as it lands.

use anyhow::Context as _;

use crate::settings::Settings;

pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let topics = crate::setup::ensure_topics(settings).await?;
    fraudwatch_store::open(&settings.store_url)
        .await
        .context("opening the case store")?;
    println!(
        "fraudwatch demo: embedded backends ready: bus {} ({topics} topics), store {} (schema up to date).",
        settings.bus_url, settings.store_url
    );
    println!(
        "The pipeline stages (generate, process, score, monitor, retrain) are not implemented yet: \
         no transactions were generated, scored or turned into cases."
    );
    Ok(())
}
