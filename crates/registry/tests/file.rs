//! The registry contract on `file://` (a temporary directory), plus the on-disk layout that
//! registries written before this crate existed rely on.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use common::{Fixture, RunView};
use fraudwatch_models::Bundle;
use fraudwatch_registry::{CHAMPION, Registry};
use serde_json::Value;
use tempfile::TempDir;

#[derive(Default)]
struct FileFixture {
    dirs: Mutex<Vec<TempDir>>,
}

fn root(registry: &dyn Registry) -> PathBuf {
    PathBuf::from(
        registry
            .url()
            .strip_prefix("file://")
            .expect("a file:// URL"),
    )
}

fn hex(version: &str) -> &str {
    version.strip_prefix("sha256:").expect("a bundle version")
}

#[async_trait]
impl Fixture for FileFixture {
    async fn fresh(&self) -> Box<dyn Registry> {
        let dir = TempDir::new().unwrap();
        let url = format!("file://{}", dir.path().join("registry").display());
        self.dirs.lock().unwrap().push(dir);
        fraudwatch_registry::open(&url).await.unwrap()
    }

    async fn run_view(&self, registry: &dyn Registry, run_id: &str) -> RunView {
        let path = root(registry).join("runs").join(format!("{run_id}.json"));
        let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        fn field<T: serde::de::DeserializeOwned>(doc: &Value, name: &str) -> T {
            serde_json::from_value(doc[name].clone()).unwrap()
        }
        RunView {
            status: field(&doc, "status"),
            params: field(&doc, "params"),
            metrics: field(&doc, "metrics"),
            tags: field(&doc, "tags"),
            artifacts: field(&doc, "artifacts"),
        }
    }

    fn expected_artifacts(&self, bundle: &Bundle) -> BTreeSet<String> {
        BTreeSet::from([format!("bundles/{}.json", hex(&bundle.version))])
    }

    async fn raw_aliases(&self, registry: &dyn Registry) -> BTreeMap<String, String> {
        let bytes = std::fs::read(root(registry).join("aliases.json")).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    async fn raw_versions(&self, registry: &dyn Registry) -> Vec<String> {
        std::fs::read_dir(root(registry).join("bundles"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .map(|name| format!("sha256:{}", name.strip_suffix(".json").unwrap()))
            .collect()
    }

    async fn raw_bundle(&self, registry: &dyn Registry, version: &str) -> Vec<u8> {
        let path = root(registry)
            .join("bundles")
            .join(format!("{}.json", hex(version)));
        std::fs::read(path).unwrap()
    }
}

#[tokio::test]
async fn round_trip() {
    common::round_trip(&FileFixture::default()).await;
}

#[tokio::test]
async fn put_is_idempotent() {
    common::put_is_idempotent(&FileFixture::default()).await;
}

#[tokio::test]
async fn aliases_set_move_and_read() {
    common::aliases_set_move_and_read(&FileFixture::default()).await;
}

#[tokio::test]
async fn unknown_and_malformed_inputs_are_clear_errors() {
    common::unknown_and_malformed_inputs_are_clear_errors(&FileFixture::default()).await;
}

#[tokio::test]
async fn log_run_is_recorded() {
    common::log_run_is_recorded(&FileFixture::default()).await;
}

#[tokio::test]
async fn bad_urls_are_refused() {
    common::bad_urls_are_refused().await;
}

/// A registry as `fraudwatch` wrote it before this crate (bundles/<hex>.json, aliases.json,
/// written by hand here) reads the same through the new crate.
#[tokio::test]
async fn reads_registries_written_in_the_original_layout() {
    let dir = TempDir::new().unwrap();
    let b = common::bundle(7);
    std::fs::create_dir_all(dir.path().join("bundles")).unwrap();
    let file = dir
        .path()
        .join("bundles")
        .join(format!("{}.json", hex(&b.version)));
    std::fs::write(&file, b.to_json().unwrap()).unwrap();
    let aliases = serde_json::json!({ CHAMPION: b.version });
    std::fs::write(
        dir.path().join("aliases.json"),
        serde_json::to_vec_pretty(&aliases).unwrap(),
    )
    .unwrap();

    let reg = fraudwatch_registry::open(&format!("file://{}", dir.path().display()))
        .await
        .unwrap();
    assert_eq!(reg.by_alias(CHAMPION).await.unwrap().unwrap(), b);
    assert_eq!(reg.versions().await.unwrap(), vec![b.version.clone()]);

    // A damaged bundle file is refused with its path, never served.
    std::fs::write(&file, &b.to_json().unwrap()[..100]).unwrap();
    common::assert_err(reg.get(&b.version).await, &[&file.display().to_string()]);
    // So is an aliases file that is not an object of aliases.
    std::fs::write(dir.path().join("aliases.json"), b"[1, 2]").unwrap();
    common::assert_err(
        reg.aliases().await,
        &["aliases.json", "not a JSON object of aliases"],
    );
}

#[tokio::test]
async fn a_file_where_the_directory_should_be_is_refused() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let url = format!("file://{}", file.display());
    common::assert_err(
        fraudwatch_registry::open(&url).await,
        &[&url, "is not a directory"],
    );
}
