//! The Prometheus endpoint of long-running stages: `GET /metrics` on `metrics_addr`.

use std::net::SocketAddr;

use anyhow::Context as _;

use crate::settings::Settings;

/// Starts serving the stage's metrics when `metrics_addr` is set (needs the async runtime).
pub fn serve(settings: &Settings) -> anyhow::Result<()> {
    if settings.metrics_addr.is_empty() {
        return Ok(());
    }
    let addr: SocketAddr = settings
        .metrics_addr
        .parse()
        .with_context(|| format!("metrics_addr {:?} is not host:port", settings.metrics_addr))?;
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .with_context(|| format!("serving metrics on {addr}"))?;
    tracing::info!(%addr, "metrics at /metrics");
    Ok(())
}
