//! The contract every backend keeps, and the checks they share so they refuse the same inputs
//! with the same errors.

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use fraudwatch_models::Bundle;

use crate::RegistryError;

/// The alias the scorer follows.
pub const CHAMPION: &str = "champion";
/// The alias of the newest candidate.
pub const CHALLENGER: &str = "challenger";

/// The tag naming the bundle version (its content hash) on MLflow runs and model versions, and
/// in the file backend's run records.
pub const BUNDLE_VERSION_TAG: &str = "fraudwatch.bundle_version";

/// A model registry. Versions are bundle versions (`sha256:<hex>`, the bundle's content hash),
/// whatever the backend numbers them internally.
#[async_trait]
pub trait Registry: Send + Sync + Debug {
    /// The URL this registry was opened with.
    fn url(&self) -> &str;

    /// Stores a bundle (refusing one whose version does not match its content) and returns its
    /// version. Storing a bundle that is already there changes nothing.
    async fn put(&self, bundle: &Bundle) -> Result<String, RegistryError>;

    /// The bundle of this version; [`RegistryError::NotFound`] if there is none.
    async fn get(&self, version: &str) -> Result<Bundle, RegistryError>;

    /// Every stored version, oldest first.
    async fn versions(&self) -> Result<Vec<String>, RegistryError>;

    /// Alias → version.
    async fn aliases(&self) -> Result<BTreeMap<String, String>, RegistryError>;

    /// Points `alias` at a stored version (moving it if it pointed elsewhere).
    async fn set_alias(&self, alias: &str, version: &str) -> Result<(), RegistryError>;

    /// Removes an alias; removing one that is not set is not an error.
    async fn delete_alias(&self, alias: &str) -> Result<(), RegistryError>;

    /// The bundle an alias points at, if the alias is set.
    async fn by_alias(&self, alias: &str) -> Result<Option<Bundle>, RegistryError> {
        check_alias(alias)?;
        match self.aliases().await?.get(alias) {
            Some(version) => self.get(version).await.map(Some),
            None => Ok(None),
        }
    }

    /// Records one retraining run (its params, metrics and tags) with its bundle, and stores the
    /// bundle as [`Registry::put`] does. Returns the run's id. Every call is a new run.
    async fn log_run(&self, run: &RunRecord<'_>) -> Result<String, RegistryError>;
}

/// One retraining run: what it was given, what it measured, and the bundle it produced.
#[derive(Debug, Clone)]
pub struct RunRecord<'a> {
    pub name: String,
    pub bundle: &'a Bundle,
    /// Hyper-parameters and settings.
    pub params: BTreeMap<String, String>,
    /// Measured quality (e.g. AUC-ROC, average precision, Card Precision@100); finite numbers.
    pub metrics: BTreeMap<String, f64>,
    /// Anything else worth finding the run by: data range, trigger, code version.
    pub tags: BTreeMap<String, String>,
}

impl<'a> RunRecord<'a> {
    /// The run that [`Registry::put`] records for a bundle stored on its own: the bundle's
    /// hyper-parameters, training metrics, and its data range, model and feature set as tags.
    pub fn for_bundle(bundle: &'a Bundle) -> Self {
        let short = bundle.version.strip_prefix("sha256:").unwrap_or("");
        let tags = [
            ("fraudwatch.model", bundle.model.name().to_string()),
            ("fraudwatch.feature_set", bundle.feature_set.clone()),
            ("fraudwatch.created_at", bundle.created_at.clone()),
            ("fraudwatch.data.start", bundle.data.start.clone()),
            ("fraudwatch.data.end", bundle.data.end.clone()),
            ("fraudwatch.data.rows", bundle.data.rows.to_string()),
            ("fraudwatch.data.frauds", bundle.data.frauds.to_string()),
        ];
        RunRecord {
            name: format!("{}-{}", bundle.model, short.get(..12).unwrap_or(short)),
            bundle,
            params: bundle.params.clone(),
            metrics: bundle.metrics.clone(),
            tags: tags.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }

    /// The tags as stored: the caller's, plus the bundle version under [`BUNDLE_VERSION_TAG`].
    pub fn stored_tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        tags.insert(BUNDLE_VERSION_TAG.to_string(), self.bundle.version.clone());
        tags
    }

    /// Refuses what neither backend can store: an empty key or a metric that is not a finite
    /// number (JSON has no NaN).
    pub(crate) fn check(&self) -> Result<(), RegistryError> {
        let bad = |reason: String| {
            Err(RegistryError::BadRun {
                run: self.name.clone(),
                reason,
            })
        };
        if let Some((key, value)) = self.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return bad(format!("metric {key:?} is {value}: metrics must be finite"));
        }
        let keys = self
            .params
            .keys()
            .chain(self.metrics.keys())
            .chain(self.tags.keys());
        if keys.clone().any(String::is_empty) {
            return bad("a param, metric or tag has an empty name".to_string());
        }
        Ok(())
    }
}

/// The serialised bundle, after checking that its version is its content hash, so that nothing
/// is stored that [`Bundle::from_json`] would later refuse.
pub(crate) fn checked_json(bundle: &Bundle) -> Result<Vec<u8>, RegistryError> {
    check_version(&bundle.version)?;
    let what = || bundle.version.clone();
    let bytes = bundle.to_json().map_err(|source| RegistryError::Bundle {
        what: what(),
        source,
    })?;
    Bundle::from_json(&bytes).map_err(|source| RegistryError::Bundle {
        what: what(),
        source,
    })?;
    Ok(bytes)
}

/// Reads a stored bundle and checks that it is the version asked for.
pub(crate) fn parse_stored(
    bytes: &[u8],
    version: &str,
    from: &str,
) -> Result<Bundle, RegistryError> {
    let bundle = Bundle::from_json(bytes).map_err(|source| RegistryError::Bundle {
        what: format!("{version} from {from}"),
        source,
    })?;
    if bundle.version != version {
        return Err(RegistryError::Corrupt {
            what: from.to_string(),
            reason: format!("holds bundle {}, not {version}", bundle.version),
        });
    }
    Ok(bundle)
}

/// The 64 hex digits of a bundle version.
pub(crate) fn check_version(version: &str) -> Result<&str, RegistryError> {
    version
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| RegistryError::BadVersion(version.to_string()))
}

/// Alias names both backends accept: MLflow refuses `latest` and `v<number>` (they name
/// versions there), and file names want no separators.
pub(crate) fn check_alias(alias: &str) -> Result<(), RegistryError> {
    let reason = if alias.is_empty() || alias.len() > 255 {
        "an alias has 1 to 255 characters"
    } else if !alias
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        "an alias has only letters, digits, '_' and '-'"
    } else if alias.eq_ignore_ascii_case("latest")
        || (alias.len() > 1
            && alias.starts_with(['v', 'V'])
            && alias[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        "'latest' and 'v<number>' name versions in MLflow"
    } else {
        return Ok(());
    };
    Err(RegistryError::BadAlias {
        alias: alias.to_string(),
        reason: reason.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_aliases_are_checked() {
        let good = format!("sha256:{}", "ab".repeat(32));
        assert!(check_version(&good).is_ok());
        for bad in ["", "sha256:", "sha256:xyz", "md5:00", &good[..70]] {
            assert!(
                matches!(check_version(bad), Err(RegistryError::BadVersion(_))),
                "{bad}"
            );
        }
        for ok in [CHAMPION, CHALLENGER, "shadow_2", "v", "v1a"] {
            assert!(check_alias(ok).is_ok(), "{ok}");
        }
        for bad in ["", "latest", "v12", "a/b", "a b", &"x".repeat(256)] {
            assert!(
                matches!(check_alias(bad), Err(RegistryError::BadAlias { .. })),
                "{bad}"
            );
        }
    }
}
