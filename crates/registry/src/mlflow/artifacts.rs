//! Where a run's files live. With `mlflow server --serve-artifacts` (the default since MLflow
//! 2.0) a run's artifact URI is `mlflow-artifacts:/<experiment>/<run>/artifacts`, and its files
//! are read and written over HTTP at `api/2.0/mlflow-artifacts/artifacts/<that path>/<file>`.

/// The run's directory holding the bundle; the model version's source.
pub(super) const BUNDLE_DIR: &str = "bundle";
/// The bundle, byte for byte as `Bundle::to_json` writes it.
pub(super) const BUNDLE_FILE: &str = "bundle.json";
/// The bundle's summary without its models, for people browsing MLflow.
pub(super) const METADATA_FILE: &str = "metadata.json";

/// The path of an `mlflow-artifacts:` URI under the server's artifact endpoint:
/// `mlflow-artifacts:/1/<run>/artifacts` and `mlflow-artifacts://host:port/1/<run>/artifacts`
/// both give `1/<run>/artifacts`.
pub(super) fn artifact_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("mlflow-artifacts:")?;
    let path = match rest.strip_prefix("//") {
        Some(with_host) => &with_host[with_host.find('/')?..],
        None => rest,
    };
    let path = path.trim_matches('/');
    (!path.is_empty()).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::artifact_path;

    #[test]
    fn artifact_uris() {
        let p = |u: &str| artifact_path(u);
        assert_eq!(
            p("mlflow-artifacts:/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(
            p("mlflow-artifacts://h:5000/1/abc/artifacts/").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(p("mlflow-artifacts:/"), None);
        assert_eq!(p("s3://bucket/1/abc/artifacts"), None);
        assert_eq!(p("/var/mlruns/1/abc/artifacts"), None);
    }
}
