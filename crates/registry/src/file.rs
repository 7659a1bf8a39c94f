//! `file://DIR`: the layout registries have had since the first release, so existing ones keep
//! working:
//!
//! ```text
//! DIR/bundles/<hex>.json   one bundle per version (sha256:<hex>), exactly Bundle::to_json
//! DIR/aliases.json         {"champion": "sha256:…", "challenger": "sha256:…"}
//! DIR/runs/<run_id>.json   one retraining run (new): params, metrics, tags, bundle version
//! ```
//!
//! Writes go to a temporary file renamed into place, so a reader never sees half a file. The
//! work runs on tokio's blocking pool: bundles can be megabytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use fraudwatch_models::Bundle;
use serde::Serialize;

use crate::registry::{check_alias, check_version, checked_json, parse_stored};
use crate::{Registry, RegistryError, RunRecord};

#[derive(Debug, Clone)]
pub(crate) struct FileRegistry {
    url: String,
    root: PathBuf,
}

/// What `DIR/runs/<run_id>.json` holds.
#[derive(Debug, Serialize)]
struct StoredRun<'a> {
    run_id: &'a str,
    name: &'a str,
    started_at: String,
    status: &'static str,
    version: &'a str,
    /// Paths relative to the registry directory.
    artifacts: Vec<String>,
    params: &'a BTreeMap<String, String>,
    metrics: &'a BTreeMap<String, f64>,
    tags: BTreeMap<String, String>,
}

impl FileRegistry {
    pub(crate) fn new(url: &str, root: PathBuf) -> Result<Self, RegistryError> {
        if root.exists() && !root.is_dir() {
            return Err(RegistryError::BadUrl {
                url: url.to_string(),
                reason: format!("{} is not a directory", root.display()),
            });
        }
        Ok(FileRegistry {
            url: url.to_string(),
            root,
        })
    }

    fn bundle_path(&self, version: &str) -> Result<PathBuf, RegistryError> {
        let hex = check_version(version)?;
        Ok(self.root.join("bundles").join(format!("{hex}.json")))
    }

    fn aliases_path(&self) -> PathBuf {
        self.root.join("aliases.json")
    }

    /// Runs blocking file work off the async threads.
    async fn blocking<T, F>(&self, work: F) -> Result<T, RegistryError>
    where
        T: Send + 'static,
        F: FnOnce(FileRegistry) -> Result<T, RegistryError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || work(this))
            .await
            .map_err(|e| RegistryError::Corrupt {
                what: format!("registry {}", self.url),
                reason: format!("file task failed: {e}"),
            })?
    }

    fn put_bytes(&self, version: &str, bytes: &[u8]) -> Result<(), RegistryError> {
        let path = self.bundle_path(version)?;
        if !path.exists() {
            write_atomic(&path, bytes)?;
        }
        Ok(())
    }

    fn get_sync(&self, version: &str) -> Result<Bundle, RegistryError> {
        let path = self.bundle_path(version)?;
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(RegistryError::NotFound {
                    registry: self.url.clone(),
                    version: version.to_string(),
                });
            }
            Err(e) => return Err(RegistryError::io("read", path, e)),
        };
        parse_stored(&bytes, version, &path.display().to_string())
    }

    fn aliases_sync(&self) -> Result<BTreeMap<String, String>, RegistryError> {
        let path = self.aliases_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| RegistryError::Corrupt {
                what: path.display().to_string(),
                reason: format!("not a JSON object of aliases: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(RegistryError::io("read", path, e)),
        }
    }

    fn write_aliases(&self, aliases: &BTreeMap<String, String>) -> Result<(), RegistryError> {
        let bytes = serde_json::to_vec_pretty(aliases).map_err(|e| RegistryError::Corrupt {
            what: "aliases".to_string(),
            reason: e.to_string(),
        })?;
        write_atomic(&self.aliases_path(), &bytes)
    }

    fn versions_sync(&self) -> Result<Vec<String>, RegistryError> {
        let dir = self.root.join("bundles");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(RegistryError::io("list", dir, e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| RegistryError::io("list", &dir, e))?;
            let name = entry.file_name();
            let Some(version) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(|hex| format!("sha256:{hex}"))
                .filter(|v| check_version(v).is_ok())
            else {
                continue; // temporary files and strangers
            };
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .map_err(|e| RegistryError::io("stat", entry.path(), e))?;
            found.push((modified, version));
        }
        found.sort();
        Ok(found.into_iter().map(|(_, v)| v).collect())
    }
}

#[async_trait]
impl Registry for FileRegistry {
    fn url(&self) -> &str {
        &self.url
    }

    async fn put(&self, bundle: &Bundle) -> Result<String, RegistryError> {
        let bytes = checked_json(bundle)?;
        let version = bundle.version.clone();
        self.blocking(move |r| r.put_bytes(&version, &bytes).map(|()| version))
            .await
    }

    async fn get(&self, version: &str) -> Result<Bundle, RegistryError> {
        let version = version.to_string();
        self.blocking(move |r| r.get_sync(&version)).await
    }

    async fn versions(&self) -> Result<Vec<String>, RegistryError> {
        self.blocking(|r| r.versions_sync()).await
    }

    async fn aliases(&self) -> Result<BTreeMap<String, String>, RegistryError> {
        self.blocking(|r| r.aliases_sync()).await
    }

    async fn set_alias(&self, alias: &str, version: &str) -> Result<(), RegistryError> {
        check_alias(alias)?;
        let (alias, version) = (alias.to_string(), version.to_string());
        self.blocking(move |r| {
            if !r.bundle_path(&version)?.exists() {
                return Err(RegistryError::NotFound {
                    registry: r.url.clone(),
                    version,
                });
            }
            let mut aliases = r.aliases_sync()?;
            aliases.insert(alias, version);
            r.write_aliases(&aliases)
        })
        .await
    }

    async fn delete_alias(&self, alias: &str) -> Result<(), RegistryError> {
        check_alias(alias)?;
        let alias = alias.to_string();
        self.blocking(move |r| {
            let mut aliases = r.aliases_sync()?;
            if aliases.remove(&alias).is_some() {
                r.write_aliases(&aliases)?;
            }
            Ok(())
        })
        .await
    }

    async fn log_run(&self, run: &RunRecord<'_>) -> Result<String, RegistryError> {
        run.check()?;
        let bytes = checked_json(run.bundle)?;
        let run_id = new_run_id()?;
        let version = &run.bundle.version;
        let hex = check_version(version)?;
        let record = StoredRun {
            run_id: &run_id,
            name: &run.name,
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            status: "FINISHED",
            version,
            artifacts: vec![format!("bundles/{hex}.json")],
            params: &run.params,
            metrics: &run.metrics,
            tags: run.stored_tags(),
        };
        let record = serde_json::to_vec_pretty(&record).map_err(|e| RegistryError::BadRun {
            run: run.name.clone(),
            reason: e.to_string(),
        })?;
        let (version, id) = (version.clone(), run_id.clone());
        self.blocking(move |r| {
            // The bundle first: a run record never names a bundle that is not there.
            r.put_bytes(&version, &bytes)?;
            write_atomic(&r.root.join("runs").join(format!("{id}.json")), &record)
        })
        .await?;
        Ok(run_id)
    }
}

/// 32 random hex digits, the shape of MLflow's run ids.
fn new_run_id() -> Result<String, RegistryError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| RegistryError::BadRun {
        run: String::new(),
        reason: format!("no randomness for a run id: {e}"),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RegistryError> {
    // Unique per process and call, so concurrent writers never share a temporary file.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| RegistryError::io("create", dir, e))?;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| RegistryError::io("write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        RegistryError::io("rename into", path, e)
    })
}
