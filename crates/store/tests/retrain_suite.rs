//! The state of retraining runs, on SQLite and on the real PostgreSQL: a done task is never
//! started again, a failed or interrupted one is.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::sync::Arc;

use common::{postgres, sqlite};
use fraudwatch_store::{CaseStore, StoreError};

async fn done_tasks_stay_done_and_failed_ones_start_again(store: Arc<dyn CaseStore>) {
    let extract = store.begin_task("run-1", "extract").await.unwrap();
    assert_eq!(
        (extract.status.as_str(), extract.output.as_deref()),
        ("running", None)
    );
    let done = store
        .end_task("run-1", "extract", Ok(r#"{"rows":10}"#))
        .await
        .unwrap();
    assert!(done.is_done() && done.finished_at.is_some());
    // Again: a no-op that hands back the recorded output.
    let again = store.begin_task("run-1", "extract").await.unwrap();
    assert_eq!(again, done);
    assert!(matches!(
        store.end_task("run-1", "extract", Ok("{}")).await,
        Err(StoreError::NotFound(_))
    ));

    store.begin_task("run-1", "validate").await.unwrap();
    let failed = store
        .end_task("run-1", "validate", Err("0 frauds among the training rows"))
        .await
        .unwrap();
    assert_eq!(failed.status, "failed");
    assert_eq!(
        failed.error.as_deref(),
        Some("0 frauds among the training rows")
    );
    // Interrupted (never ended) and failed tasks both start again, clean.
    let retried = store.begin_task("run-1", "validate").await.unwrap();
    assert_eq!((retried.status.as_str(), retried.error), ("running", None));
    store.begin_task("run-1", "train").await.unwrap();
    let restarted = store.begin_task("run-1", "train").await.unwrap();
    assert_eq!(restarted.status, "running");

    let tasks: Vec<String> = store
        .run_tasks("run-1")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.task)
        .collect();
    assert_eq!(tasks, ["extract", "train", "validate"], "by name");
    assert!(store.run_tasks("run-2").await.unwrap().is_empty());
    assert!(matches!(
        store.end_task("run-2", "train", Ok("{}")).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn sqlite_tasks() {
    done_tasks_stay_done_and_failed_ones_start_again(sqlite().await.store).await;
}

#[tokio::test]
async fn postgres_tasks() {
    done_tasks_stay_done_and_failed_ones_start_again(postgres().await.store).await;
}
