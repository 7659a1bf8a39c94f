//! The model registry, chosen by URL: the `fraudwatch-registry` crate (`file://DIR` or
//! `mlflow+http://host:port[?model=NAME&experiment=NAME]`, see docs/registry.md). Stages hold
//! an `Arc<dyn Registry>` and see only its trait.

use std::sync::Arc;

pub use fraudwatch_registry::{CHALLENGER, CHAMPION, Registry, RegistryError, RunRecord};

/// What a registry URL looks like, for errors about a bad one.
const URL_SYNTAX: &str =
    "a registry URL is file://DIR or mlflow+http://host:port[/prefix][?model=NAME&experiment=NAME]";

/// Opens the registry named by `url`. An MLflow server is contacted at once, so a wrong host or
/// port fails here, naming the URL.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Registry>> {
    match fraudwatch_registry::open(url).await {
        Ok(registry) => Ok(Arc::from(registry)),
        Err(e @ RegistryError::BadUrl { .. }) => Err(anyhow::Error::new(e).context(URL_SYNTAX)),
        Err(e) => Err(e.into()),
    }
}
