//! One suite, run against every case-store backend: SQLite in a temporary file, and the real
//! PostgreSQL that `scripts/postgres-start.sh` runs on loopback (admin URL in `FW_POSTGRES_URL`,
//! default `postgres://fraudwatch:fraudwatch@127.0.0.1:55432/fraudwatch`; each test gets a fresh
//! database). Without PostgreSQL the postgres tests fail; they never skip.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;

use fraudwatch_core::{Case, CaseStatus, CaseUpdate, Id, Label, LabelSource, Outcome, time};
use fraudwatch_store::{CaseFilter, CaseStore, StoreError};

mod common;
use common::{case, postgres, sqlite};

async fn inserts_are_idempotent_and_read_back_whole(store: Arc<dyn CaseStore>) {
    let cases = [case(1, "c1", 0.9), case(2, "c1", 0.5), case(3, "c2", 0.7)];
    assert_eq!(store.insert_cases(&cases).await.unwrap(), 3);
    let again = [case(2, "c1", 0.99), case(4, "c3", 0.6), case(4, "c3", 0.6)];
    assert_eq!(
        store.insert_cases(&again).await.unwrap(),
        1,
        "existing cases are left alone"
    );
    let two = store.get_case("2").await.unwrap().unwrap();
    assert_eq!(
        two, cases[1],
        "a case reads back exactly as written, features in order"
    );
    assert_eq!(
        two.features.unwrap().names().collect::<Vec<_>>(),
        ["z_last", "a_first", "m_mid"]
    );
    let four = store.get_case("4").await.unwrap().unwrap();
    assert_eq!(
        four.audit.len(),
        1,
        "a case listed twice in one batch is opened once"
    );
    assert!(store.get_case("404").await.unwrap().is_none());
    assert!(
        store
            .get_case("'; DROP TABLE cases; --")
            .await
            .unwrap()
            .is_none()
    );
    let many: Vec<Case> = (100..1300).map(|i| case(i, "bulk", 0.5)).collect();
    assert_eq!(
        store.insert_cases(&many).await.unwrap(),
        1200,
        "batches larger than one statement"
    );
}

async fn listing_filters_and_orders_by_risk(store: Arc<dyn CaseStore>) {
    store
        .insert_cases(&[
            case(1, "c1", 0.9),
            case(2, "c1", 0.5),
            case(3, "c2", 0.7),
            case(4, "c2", 0.7),
        ])
        .await
        .unwrap();
    let close = CaseUpdate {
        status: Some(CaseStatus::Closed),
        outcome: Some(Outcome::FalsePositive),
        ..Default::default()
    };
    store.update_case("3", 1, &close, "ana").await.unwrap();
    let ids = |cases: Vec<Case>| {
        cases
            .into_iter()
            .map(|c| c.transaction_id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.list_cases(&CaseFilter::default()).await.unwrap()),
        ["1", "3", "4", "2"]
    );
    let open = CaseFilter {
        status: Some(CaseStatus::Open),
        ..Default::default()
    };
    assert_eq!(ids(store.list_cases(&open).await.unwrap()), ["1", "4", "2"]);
    let c2 = CaseFilter {
        customer_id: Some("c2".into()),
        min_risk: Some(0.6),
        ..Default::default()
    };
    assert_eq!(ids(store.list_cases(&c2).await.unwrap()), ["3", "4"]);
    let top = CaseFilter {
        limit: 1,
        ..Default::default()
    };
    assert_eq!(ids(store.list_cases(&top).await.unwrap()), ["1"]);
    let zero = CaseFilter {
        limit: 0,
        ..Default::default()
    };
    assert_eq!(
        store.list_cases(&zero).await.unwrap().len(),
        1,
        "a limit of 0 is clamped to 1"
    );
    let ana = CaseFilter {
        assignee: Some("ana".into()),
        ..Default::default()
    };
    assert!(store.list_cases(&ana).await.unwrap().is_empty());
}

async fn updates_follow_the_workflow_with_optimistic_concurrency(store: Arc<dyn CaseStore>) {
    store.insert_cases(&[case(1, "c1", 0.9)]).await.unwrap();
    let claim = CaseUpdate {
        status: Some(CaseStatus::Investigating),
        assignee: Some(Some("ana".into())),
        ..Default::default()
    };
    let c = store.update_case("1", 1, &claim, "key:ana").await.unwrap();
    assert_eq!(
        (c.version, c.status, c.assignee.as_deref()),
        (2, CaseStatus::Investigating, Some("ana"))
    );
    assert_eq!(c.audit.last().unwrap().actor, "key:ana");

    match store.update_case("1", 1, &claim, "key:bob").await {
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2,
            ..
        }) => {}
        other => panic!("a stale update must conflict, got {other:?}"),
    }
    let bad = CaseUpdate {
        status: Some(CaseStatus::Closed),
        ..Default::default()
    };
    assert!(matches!(
        store.update_case("1", 2, &bad, "key:ana").await,
        Err(StoreError::Rule(_))
    ));
    assert!(matches!(
        store.update_case("nope", 1, &claim, "key:ana").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.get_case("1").await.unwrap().unwrap().version,
        2,
        "refused changes leave no trace"
    );

    let c = store
        .add_note("1", "ana", "customer confirms the card was stolen")
        .await
        .unwrap();
    assert_eq!((c.version, c.notes.len()), (3, 1));
    assert!(store.add_note("1", "ana", "").await.is_err());
    let close = CaseUpdate {
        status: Some(CaseStatus::Closed),
        outcome: Some(Outcome::FraudConfirmed),
        ..Default::default()
    };
    let c = store.update_case("1", 3, &close, "key:ana").await.unwrap();
    assert_eq!(
        c.audit
            .iter()
            .map(|a| a.action.as_str())
            .collect::<Vec<_>>(),
        ["opened", "status", "assignee", "note", "status", "outcome"]
    );
    assert!(c.label().unwrap().is_fraud);
}

async fn concurrent_updates_of_one_version_let_exactly_one_win(store: Arc<dyn CaseStore>) {
    store.insert_cases(&[case(1, "c1", 0.9)]).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let u = CaseUpdate {
                    status: Some(CaseStatus::Investigating),
                    assignee: Some(Some(format!("analyst-{i}"))),
                    ..Default::default()
                };
                store.update_case("1", 1, &u, &format!("key:{i}")).await
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.get_case("1").await.unwrap().unwrap().version, 2);
}

async fn labels_upsert_keeping_the_latest(store: Arc<dyn CaseStore>) {
    let label = |id: u64, fraud: bool, source| Label {
        transaction_id: Id::from(id),
        customer_id: Id::from("c1"),
        is_fraud: fraud,
        source,
        labelled_at: time::from_millis(1_523_000_000_000 + id as i64).unwrap(),
        fraud_scenario: fraud.then(|| "compromised_card".into()),
    };
    let batch = [
        label(1, false, LabelSource::CaseOutcome),
        label(2, true, LabelSource::Chargeback),
        label(1, true, LabelSource::Chargeback),
    ];
    store.upsert_labels(&batch).await.unwrap();
    assert_eq!(
        store.get_label("1").await.unwrap().unwrap(),
        batch[2],
        "the last label of a batch wins"
    );
    store
        .upsert_labels(&[label(2, false, LabelSource::CaseOutcome)])
        .await
        .unwrap();
    assert!(!store.get_label("2").await.unwrap().unwrap().is_fraud);
    assert!(store.get_label("3").await.unwrap().is_none());
    // Pages in transaction-id order.
    let first = store.labels_after(None, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    let rest = store
        .labels_after(Some(first[0].transaction_id.as_str()), 10)
        .await
        .unwrap();
    assert!(
        rest.iter()
            .all(|l| l.transaction_id.as_str() > first[0].transaction_id.as_str())
    );
    assert_eq!(first.len() + rest.len(), 2);
}

macro_rules! suite {
    ($backend:ident) => {
        mod $backend {
            #[tokio::test]
            async fn inserts_are_idempotent_and_read_back_whole() {
                super::inserts_are_idempotent_and_read_back_whole(super::$backend().await.store)
                    .await;
            }

            #[tokio::test]
            async fn listing_filters_and_orders_by_risk() {
                super::listing_filters_and_orders_by_risk(super::$backend().await.store).await;
            }

            #[tokio::test]
            async fn updates_follow_the_workflow_with_optimistic_concurrency() {
                super::updates_follow_the_workflow_with_optimistic_concurrency(
                    super::$backend().await.store,
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_updates_of_one_version_let_exactly_one_win() {
                let f = super::$backend().await;
                super::concurrent_updates_of_one_version_let_exactly_one_win(f.store.clone()).await;
            }

            #[tokio::test]
            async fn labels_upsert_keeping_the_latest() {
                super::labels_upsert_keeping_the_latest(super::$backend().await.store).await;
            }
        }
    };
}

suite!(sqlite);
suite!(postgres);

#[tokio::test]
async fn bad_urls_are_refused_with_the_url() {
    for bad in [
        "mysql://x",
        "",
        "sqlite",
        "postgres://nobody@127.0.0.1:1/none?connect_timeout=1",
    ] {
        let err = fraudwatch_store::open(bad).await.unwrap_err().to_string();
        assert!(!err.is_empty(), "{bad}");
    }
    let err = fraudwatch_store::open("mysql://x")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("mysql://x"), "{err}");
}
