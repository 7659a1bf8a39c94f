//! Drift events and reports, on SQLite and on the real PostgreSQL.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::sync::Arc;

use common::{postgres, sqlite};
use fraudwatch_core::{DriftEvent, DriftKind, DriftedColumn, Severity, time};
use fraudwatch_store::CaseStore;

fn event(kind: DriftKind, start_ms: i64) -> DriftEvent {
    let at = |ms| time::from_millis(ms).unwrap();
    DriftEvent {
        id: format!("{}-{start_ms}", kind.as_str()),
        kind,
        severity: Severity::Warning,
        start: at(start_ms),
        detected: at(start_ms + 3_600_000),
        end: None,
        share: 0.25,
        columns: vec![DriftedColumn {
            name: "amount".into(),
            method: "wasserstein".into(),
            statistic: 0.31,
            p_value: None,
            threshold: 0.1,
        }],
        window_rows: 20_000,
        updated_at: at(1_700_000_000_000),
    }
}

async fn events_upsert_by_id_and_list_latest_first(store: Arc<dyn CaseStore>) {
    let first = event(DriftKind::Data, 1_600_000_000_000);
    let second = event(DriftKind::Prediction, 1_600_000_900_000);
    store.upsert_drift_event(&first).await.unwrap();
    store.upsert_drift_event(&second).await.unwrap();

    // The first grows, escalates and ends: the row is replaced, not duplicated.
    let mut grown = first.clone();
    grown.severity = Severity::Critical;
    grown.columns.push(DriftedColumn {
        name: "channel_online".into(),
        method: "chisquare".into(),
        statistic: f64::INFINITY,
        p_value: Some(0.0),
        threshold: 0.05,
    });
    grown.end = Some(time::from_millis(1_600_100_000_000).unwrap());
    store.upsert_drift_event(&grown).await.unwrap();

    let all = store.drift_events(false, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], second, "latest start first");
    let stored = &all[1];
    assert_eq!(stored.severity, Severity::Critical);
    assert_eq!(stored.end, grown.end);
    assert_eq!(stored.columns.len(), 2);
    assert!(
        stored.columns[1].statistic.is_nan(),
        "an infinite statistic is stored as null and reads back as NaN"
    );
    let open = store.drift_events(true, 10).await.unwrap();
    assert_eq!(open, vec![second]);
    assert_eq!(store.drift_events(false, 1).await.unwrap().len(), 1);
}

async fn the_latest_report_replaces_the_previous(store: Arc<dyn CaseStore>) {
    assert_eq!(store.latest_drift_report("monitor").await.unwrap(), None);
    let now = time::now();
    store
        .put_drift_report("monitor", now, r#"{"n":1}"#)
        .await
        .unwrap();
    store
        .put_drift_report("monitor", now, r#"{"n":2, "text": "<b>é</b>"}"#)
        .await
        .unwrap();
    store.put_drift_report("other", now, "{}").await.unwrap();
    assert_eq!(
        store
            .latest_drift_report("monitor")
            .await
            .unwrap()
            .as_deref(),
        Some(r#"{"n":2, "text": "<b>é</b>"}"#)
    );
}

macro_rules! suite {
    ($backend:ident) => {
        mod $backend {
            #[tokio::test]
            async fn events_upsert_by_id_and_list_latest_first() {
                super::events_upsert_by_id_and_list_latest_first(super::$backend().await.store)
                    .await;
            }

            #[tokio::test]
            async fn the_latest_report_replaces_the_previous() {
                super::the_latest_report_replaces_the_previous(super::$backend().await.store).await;
            }
        }
    };
}

suite!(sqlite);
suite!(postgres);
