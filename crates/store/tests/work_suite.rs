//! The analysts' side of the store, run against every backend (fixtures in `common`): paging,
//! the "next case" queue under concurrent claims, labels from case outcomes, API keys.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::HashSet;
use std::sync::Arc;

use fraudwatch_core::{ApiKey, CaseStatus, CaseUpdate, Decision, LabelSource, Outcome, Role, time};
use fraudwatch_store::{CaseFilter, CaseStore, Cursor, StoreError};

mod common;
use common::{case, postgres, sqlite};

/// Pages of 7 over 100 cases with many equal risks give every case exactly once, in order, even
/// when new cases arrive between pages.
async fn keyset_pages_are_stable(store: Arc<dyn CaseStore>) {
    let cases: Vec<_> = (1..=100)
        .map(|i| case(i, "c", f64::from((i % 5) as u32) / 5.0 + 0.1))
        .collect();
    store.insert_cases(&cases).await.unwrap();
    let mut seen = Vec::new();
    let mut filter = CaseFilter {
        limit: 7,
        ..CaseFilter::default()
    };
    loop {
        let page = store.list_cases(&filter).await.unwrap();
        let Some(last) = page.last() else { break };
        filter.after = Some(Cursor {
            risk: last.risk,
            transaction_id: last.transaction_id.to_string(),
        });
        seen.extend(page.iter().map(|c| (c.risk, c.transaction_id.to_string())));
        if seen.len() == 14 {
            // A lower-risk case arriving mid-listing shows up on a later page; no case repeats.
            store.insert_cases(&[case(1000, "c", 0.05)]).await.unwrap();
        }
    }
    assert_eq!(seen.len(), 101);
    let unique: HashSet<_> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(unique.len(), 101, "no case on two pages");
    assert!(
        seen.windows(2)
            .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)),
        "risk descending, then transaction id"
    );
}

async fn filters_by_decision_and_time(store: Arc<dyn CaseStore>) {
    // `case` puts transaction i at 1_522_540_800_000 + i ms and blocks above risk 0.8.
    let cases: Vec<_> = (1..=10)
        .map(|i| case(i, "c", f64::from(i as u32) / 10.0))
        .collect();
    store.insert_cases(&cases).await.unwrap();
    let ids = |cs: Vec<fraudwatch_core::Case>| {
        let mut v: Vec<String> = cs.iter().map(|c| c.transaction_id.to_string()).collect();
        v.sort();
        v
    };
    let blocked = CaseFilter {
        decision: Some(Decision::Block),
        ..CaseFilter::default()
    };
    assert_eq!(ids(store.list_cases(&blocked).await.unwrap()), ["10", "9"]);
    let window = CaseFilter {
        from: time::from_millis(1_522_540_800_003),
        to: time::from_millis(1_522_540_800_006),
        ..CaseFilter::default()
    };
    assert_eq!(
        ids(store.list_cases(&window).await.unwrap()),
        ["3", "4", "5"],
        "from inclusive, to exclusive"
    );
}

/// Eight analysts claim at once, repeatedly: every case goes to exactly one of them, highest
/// risk first, and the queue then answers `None`.
async fn concurrent_claims_never_share_a_case(store: Arc<dyn CaseStore>) {
    let cases: Vec<_> = (1..=40)
        .map(|i| case(i, "c", f64::from(i as u32) / 50.0))
        .collect();
    store.insert_cases(&cases).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|a| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(c) = store
                    .claim_next_case(&format!("analyst-{a}"), &format!("key:analyst-{a}"))
                    .await
                    .unwrap()
                {
                    assert_eq!(c.assignee.as_deref(), Some(format!("analyst-{a}").as_str()));
                    assert_eq!(c.status, CaseStatus::Investigating);
                    assert_eq!(c.audit.last().unwrap().actor, format!("key:analyst-{a}"));
                    got.push(c.transaction_id.to_string());
                }
                got
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), 40);
    assert_eq!(
        all.iter().collect::<HashSet<_>>().len(),
        40,
        "no double assignment"
    );
    assert!(
        store
            .claim_next_case("late", "key:late")
            .await
            .unwrap()
            .is_none()
    );

    store
        .insert_cases(&[case(100, "c", 0.3), case(101, "c", 0.6)])
        .await
        .unwrap();
    let first = store
        .claim_next_case("ana", "key:ana")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.transaction_id.to_string(),
        "101",
        "highest risk first"
    );
}

async fn closing_a_case_labels_its_transaction(store: Arc<dyn CaseStore>) {
    store
        .insert_cases(&[case(1, "c1", 0.9), case(2, "c1", 0.8)])
        .await
        .unwrap();
    let close = |outcome| CaseUpdate {
        status: Some(CaseStatus::Closed),
        outcome: Some(outcome),
        ..CaseUpdate::default()
    };
    store
        .update_case("1", 1, &close(Outcome::FraudConfirmed), "key:ana")
        .await
        .unwrap();
    let label = store.get_label("1").await.unwrap().unwrap();
    assert!(label.is_fraud && label.source == LabelSource::CaseOutcome);
    assert_eq!(label.customer_id.to_string(), "c1");

    let reopen = CaseUpdate {
        status: Some(CaseStatus::Investigating),
        ..CaseUpdate::default()
    };
    store
        .update_case("1", 2, &reopen, "key:lead")
        .await
        .unwrap();
    assert!(
        store.get_label("1").await.unwrap().is_none(),
        "reopening withdraws it"
    );

    store
        .update_case("2", 1, &close(Outcome::Inconclusive), "key:ana")
        .await
        .unwrap();
    assert!(
        store.get_label("2").await.unwrap().is_none(),
        "inconclusive teaches nothing"
    );
    store.update_case("2", 2, &reopen, "key:ana").await.unwrap();
    store
        .update_case("2", 3, &close(Outcome::FalsePositive), "key:ana")
        .await
        .unwrap();
    assert!(!store.get_label("2").await.unwrap().unwrap().is_fraud);
}

async fn keys_are_found_by_hash_and_revoked(store: Arc<dyn CaseStore>) {
    store.ping().await.unwrap();
    let key = |id: &str, name: &str, role| ApiKey {
        id: id.into(),
        name: name.into(),
        role,
        created_at: time::from_millis(1_700_000_000_000).unwrap(),
        revoked_at: None,
    };
    store
        .create_key(&key("k1", "ana", Role::Analyst), "h1")
        .await
        .unwrap();
    store
        .create_key(&key("k2", "root", Role::Admin), "h2")
        .await
        .unwrap();
    let dup = store
        .create_key(&key("k3", "ana", Role::Viewer), "h3")
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Duplicate(_)), "{dup}");
    assert_eq!(
        store.key_by_hash("h1").await.unwrap().unwrap(),
        key("k1", "ana", Role::Analyst)
    );
    assert!(store.key_by_hash("h3").await.unwrap().is_none());
    assert!(store.key_by_hash("' OR 1=1 --").await.unwrap().is_none());
    let revoked = store.revoke_key("k1").await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(store.revoke_key("k1").await.unwrap(), revoked, "idempotent");
    assert!(
        store
            .key_by_hash("h1")
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert!(matches!(
        store.revoke_key("nope").await,
        Err(StoreError::NotFound(_))
    ));
    let names: Vec<_> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, ["ana", "root"]);
}

macro_rules! suite {
    ($backend:ident) => {
        mod $backend {
            #[tokio::test]
            async fn keyset_pages_are_stable() {
                super::keyset_pages_are_stable(super::$backend().await.store).await;
            }

            #[tokio::test]
            async fn filters_by_decision_and_time() {
                super::filters_by_decision_and_time(super::$backend().await.store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_claims_never_share_a_case() {
                let f = super::$backend().await;
                super::concurrent_claims_never_share_a_case(f.store.clone()).await;
            }

            #[tokio::test]
            async fn closing_a_case_labels_its_transaction() {
                super::closing_a_case_labels_its_transaction(super::$backend().await.store).await;
            }

            #[tokio::test]
            async fn keys_are_found_by_hash_and_revoked() {
                super::keys_are_found_by_hash_and_revoked(super::$backend().await.store).await;
            }
        }
    };
}

suite!(sqlite);
suite!(postgres);
