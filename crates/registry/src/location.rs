//! Registry URLs.
//!
//! - `file://DIR` — a directory, relative or absolute (`file://./registry`, `file:///var/lib/fw`).
//! - `mlflow+http://host:port[/prefix][?model=NAME&experiment=NAME]` (or `mlflow+https://`) —
//!   an MLflow tracking server; `model` is the registered model (default `fraudwatch`),
//!   `experiment` the experiment runs go to (default: the model's name).

use std::path::PathBuf;

use url::Url;

use crate::RegistryError;

/// The registered model and experiment names when the URL names none.
pub const DEFAULT_MODEL: &str = "fraudwatch";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Mlflow(MlflowTarget),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlflowTarget {
    /// `http(s)://host:port/prefix/`, ending in `/` so that API paths join under it.
    pub base: Url,
    pub model: String,
    pub experiment: String,
}

impl Location {
    pub fn parse(url: &str) -> Result<Location, RegistryError> {
        let bad = |reason: &str| RegistryError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err(bad("file:// needs a directory, e.g. file://./registry"));
            }
            return Ok(Location::File(PathBuf::from(dir)));
        }
        if url.starts_with("mlflow+http://") || url.starts_with("mlflow+https://") {
            return parse_mlflow(url).map(Location::Mlflow).map_err(|r| bad(&r));
        }
        Err(bad(
            "unknown scheme: expected file://DIR or mlflow+http://host:port (or mlflow+https://)",
        ))
    }
}

fn parse_mlflow(url: &str) -> Result<MlflowTarget, String> {
    let inner = url.strip_prefix("mlflow+").unwrap_or(url);
    let mut base = Url::parse(inner).map_err(|e| match e {
        url::ParseError::EmptyHost => "no host: expected mlflow+http://host:port".to_string(),
        other => format!("{other}: expected mlflow+http://host:port"),
    })?;
    if base.host_str().is_none_or(str::is_empty) {
        return Err("no host: expected mlflow+http://host:port".to_string());
    }
    if !base.username().is_empty() || base.password().is_some() {
        // Credentials in a URL end up in logs and error messages.
        return Err("credentials in the URL are not supported".to_string());
    }
    if base.fragment().is_some() {
        return Err("a fragment (#...) means nothing here".to_string());
    }
    let mut model = None;
    let mut experiment = None;
    for (key, value) in base.query_pairs() {
        let slot = match key.as_ref() {
            "model" => &mut model,
            "experiment" => &mut experiment,
            other => {
                return Err(format!(
                    "unknown parameter {other:?} (expected model, experiment)"
                ));
            }
        };
        if value.is_empty() {
            return Err(format!("parameter {key} is empty"));
        }
        *slot = Some(value.into_owned());
    }
    let model = model.unwrap_or_else(|| DEFAULT_MODEL.to_string());
    // Model names go into MLflow search filters between quotes: keep them plain.
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"._- ".contains(&b);
    if model.len() > 250 || !model.bytes().all(plain) {
        return Err(format!(
            "model name {model:?}: use up to 250 letters, digits, '.', '_', '-' or spaces"
        ));
    }
    let experiment = experiment.unwrap_or_else(|| model.clone());
    base.set_query(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(MlflowTarget {
        base,
        model,
        experiment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mlflow(url: &str) -> MlflowTarget {
        match Location::parse(url) {
            Ok(Location::Mlflow(t)) => t,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn mlflow_urls() {
        let t = mlflow("mlflow+http://127.0.0.1:5050");
        assert_eq!(t.base.as_str(), "http://127.0.0.1:5050/");
        assert_eq!(
            (t.model.as_str(), t.experiment.as_str()),
            ("fraudwatch", "fraudwatch")
        );
        let t =
            mlflow("mlflow+https://mlflow.example:443/tracking?model=fw-prod&experiment=retrain");
        assert_eq!(t.base.as_str(), "https://mlflow.example/tracking/");
        assert_eq!(
            (t.model.as_str(), t.experiment.as_str()),
            ("fw-prod", "retrain")
        );
    }

    #[test]
    fn file_urls() {
        assert_eq!(
            Location::parse("file://./registry").ok(),
            Some(Location::File(PathBuf::from("./registry")))
        );
        assert_eq!(
            Location::parse("file:///var/fw").ok(),
            Some(Location::File(PathBuf::from("/var/fw")))
        );
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, needle) in [
            ("mlflow+http://", "host"),
            ("mlflow+http://:5000", ""),
            ("ftp://x", "unknown scheme"),
            ("file://", "directory"),
            ("", "unknown scheme"),
            (
                "mlflow+http://h:5000?modle=x",
                "unknown parameter \"modle\"",
            ),
            ("mlflow+http://h:5000?model=", "empty"),
            ("mlflow+http://h:5000?model=a'b", "model name"),
            ("mlflow+http://u:p@h:5000", "credentials"),
            ("mlflow+http://h:99999", "port"),
        ] {
            let err = Location::parse(url).expect_err(url).to_string();
            assert!(err.contains(&format!("{url:?}")), "{err}");
            assert!(err.contains(needle), "{url}: {err}");
        }
    }
}
