//! fraudwatch's model registry (DESIGN.md §2): where model bundles are stored, which one is the
//! `champion` the scorer follows and which the `challenger`, and what each retraining run did.
//! The backend is chosen by URL; stage code only sees the [`Registry`] trait.
//!
//! Module map:
//! - [`registry`] — the [`Registry`] trait, [`RunRecord`] (one retraining run), the alias names.
//! - [`location`] — registry URLs: `file://DIR`, `mlflow+http(s)://host:port[/prefix]?model=&experiment=`.
//! - [`error`] — [`RegistryError`]: what failed, with which input (for MLflow: the HTTP status and
//!   MLflow's `error_code` and message).
//! - `file` — bundles as JSON files by version hash, aliases in `aliases.json`, runs in `runs/`.
//! - `mlflow` — an MLflow tracking server through its REST API: runs with params, metrics, tags
//!   and the bundle as artifacts; a registered model whose versions carry the bundle version.
//!
//! ```no_run
//! # async fn demo(bundle: &fraudwatch_models::Bundle) -> Result<(), fraudwatch_registry::RegistryError> {
//! let registry = fraudwatch_registry::open("mlflow+http://127.0.0.1:5050?model=fraudwatch").await?;
//! let version = registry.put(bundle).await?;
//! registry.set_alias(fraudwatch_registry::CHAMPION, &version).await?;
//! let champion = registry.by_alias(fraudwatch_registry::CHAMPION).await?;
//! # Ok(()) }
//! ```

pub mod error;
mod file;
pub mod location;
mod mlflow;
pub mod registry;

pub use error::RegistryError;
pub use location::Location;
pub use registry::{CHALLENGER, CHAMPION, Registry, RunRecord};

/// Opens the registry named by `url` (see [`location`] for the syntax). An MLflow registry is
/// contacted at once (its experiment is found or created), so a wrong host or port fails here,
/// naming the URL, rather than at the first use.
pub async fn open(url: &str) -> Result<Box<dyn Registry>, RegistryError> {
    Ok(match Location::parse(url)? {
        Location::File(root) => Box::new(file::FileRegistry::new(url, root)?),
        Location::Mlflow(target) => Box::new(mlflow::MlflowRegistry::connect(url, target).await?),
    })
}
