//! The model registry, chosen by URL. `file://DIR`: bundles as `DIR/bundles/<hash>.json`, the
//! aliases (`champion`, `challenger`) in `DIR/aliases.json`. Writes go to a temporary file
//! renamed into place, so a reader never sees half a bundle or half an alias file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fraudwatch_models::Bundle;

/// The alias the scorer follows.
pub const CHAMPION: &str = "champion";
/// The alias of the newest candidate.
pub const CHALLENGER: &str = "challenger";

#[derive(Debug, Clone)]
pub struct FileRegistry {
    root: PathBuf,
}

/// Opens the registry named by `url`.
pub fn open(url: &str) -> anyhow::Result<FileRegistry> {
    match url.strip_prefix("file://") {
        Some(path) if !path.is_empty() => Ok(FileRegistry {
            root: PathBuf::from(path),
        }),
        _ => anyhow::bail!(
            "registry URL {url:?}: expected file://DIR (mlflow+http:// arrives with retraining)"
        ),
    }
}

impl FileRegistry {
    /// Stores a bundle under its version; storing the same bundle twice is a no-op.
    pub fn put(&self, bundle: &Bundle) -> anyhow::Result<String> {
        let path = self.bundle_path(&bundle.version)?;
        if !path.exists() {
            write_atomic(&path, &bundle.to_json()?)?;
        }
        Ok(bundle.version.clone())
    }

    pub fn get(&self, version: &str) -> anyhow::Result<Bundle> {
        let path = self.bundle_path(version)?;
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Bundle::from_json(&bytes).with_context(|| format!("bundle {}", path.display()))
    }

    pub fn aliases(&self) -> anyhow::Result<BTreeMap<String, String>> {
        let path = self.root.join("aliases.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a JSON object of aliases", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Points `alias` at a stored version.
    pub fn set_alias(&self, alias: &str, version: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.bundle_path(version)?.exists(),
            "no bundle {version} in the registry {}",
            self.root.display()
        );
        let mut aliases = self.aliases()?;
        aliases.insert(alias.to_string(), version.to_string());
        write_atomic(
            &self.root.join("aliases.json"),
            &serde_json::to_vec_pretty(&aliases)?,
        )
    }

    /// The bundle an alias points at, if any.
    pub fn by_alias(&self, alias: &str) -> anyhow::Result<Option<Bundle>> {
        match self.aliases()?.get(alias) {
            Some(v) => self.get(v).map(Some),
            None => Ok(None),
        }
    }

    fn bundle_path(&self, version: &str) -> anyhow::Result<PathBuf> {
        let hex = version
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .with_context(|| format!("{version:?} is not a bundle version (sha256:<64 hex>)"))?;
        Ok(self.root.join("bundles").join(format!("{hex}.json")))
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("a registry path has a parent")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot rename into {}", path.display()))
}
