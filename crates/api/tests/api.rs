//! The REST API over HTTP on loopback against a real store: every endpoint with every role,
//! paging, concurrent claims, stale updates, labels, keys, and garbage of every kind answered with
//! a JSON 4xx (the `call` helper fails any test that sees a 500 or a non-JSON error).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::{Api, case, sqlite};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TX: &str = r#"{"transaction_id":"t1","customer_id":"c1","terminal_id":"m1","amount":12.5,"currency":"EUR","timestamp":"2026-11-29T10:00:00.000Z"}"#;

/// Each endpoint, the least role it needs (None: open), and a request that role may make.
fn endpoints() -> Vec<(Method, &'static str, Option<&'static str>, Option<Value>)> {
    vec![
        (Method::GET, "/v1/cases", Some("viewer"), None),
        (Method::GET, "/v1/cases/1", Some("viewer"), None),
        (Method::GET, "/v1/labels/1", Some("viewer"), None),
        (Method::GET, "/v1/model", Some("viewer"), None),
        (Method::GET, "/v1/drift/events", Some("viewer"), None),
        (Method::GET, "/v1/drift/report.json", Some("viewer"), None),
        (
            Method::PATCH,
            "/v1/cases/2",
            Some("analyst"),
            Some(json!({"version": 1, "assignee": "ana"})),
        ),
        (
            Method::POST,
            "/v1/cases/3/notes",
            Some("analyst"),
            Some(json!({"text": "called the customer"})),
        ),
        (Method::POST, "/v1/cases/next", Some("analyst"), None),
        (
            Method::POST,
            "/v1/labels",
            Some("analyst"),
            Some(
                json!({"labels": [{"transaction_id": "9", "customer_id": "c", "is_fraud": true}]}),
            ),
        ),
        (
            Method::POST,
            "/v1/score",
            Some("analyst"),
            Some(serde_json::from_str(TX).unwrap()),
        ),
        (Method::GET, "/v1/keys", Some("admin"), None),
        (
            Method::POST,
            "/v1/keys",
            Some("admin"),
            Some(json!({"name": "new-key", "role": "viewer"})),
        ),
        (Method::DELETE, "/v1/keys/nonexistent", Some("admin"), None),
        (Method::GET, "/healthz", None, None),
        (Method::GET, "/readyz", None, None),
        (Method::GET, "/metrics", None, None),
        (Method::GET, "/openapi.json", None, None),
    ]
}

async fn seed(api: &Api, n: u64) {
    let cases: Vec<_> = (1..=n)
        .map(|i| case(i, &format!("c{}", i % 3), (i % 10) as f64 / 10.0 + 0.05))
        .collect();
    api.store.insert_cases(&cases).await.unwrap();
}

#[tokio::test]
async fn every_endpoint_with_every_role() {
    let api = sqlite().await;
    seed(&api, 10).await;
    let rank = |r: &str| {
        ["viewer", "analyst", "admin"]
            .iter()
            .position(|x| *x == r)
            .unwrap()
    };
    for (method, path, needed, body) in endpoints() {
        let (status, json) = api.call(method.clone(), path, None, body.clone()).await;
        match needed {
            None => assert!(status.is_success(), "{method} {path}: {status} {json}"),
            Some(_) => {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without a key"
                );
                let (status, _) = api
                    .call(method.clone(), path, Some("fw_wrong"), body.clone())
                    .await;
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} with a wrong key"
                );
            }
        }
        let Some(needed) = needed else { continue };
        for (role, key) in [
            ("viewer", &api.viewer),
            ("analyst", &api.analyst),
            ("admin", &api.admin),
        ] {
            let (status, json) = api
                .call(method.clone(), path, Some(key), body.clone())
                .await;
            if rank(role) < rank(needed) {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} as {role}: {json}"
                );
                assert!(json["error"]["message"].as_str().unwrap().contains(needed));
            } else {
                // Allowed: the answer is about the request, never about the key.
                assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&status),
                    "{method} {path} as {role}: {status} {json}"
                );
            }
        }
    }
}

#[tokio::test]
async fn pages_are_stable_and_filters_apply() {
    let api = sqlite().await;
    seed(&api, 250).await;
    let mut seen = Vec::new();
    let mut path = "/v1/cases?limit=17".to_string();
    loop {
        let (status, page) = api.get(&path, &api.viewer).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for c in page["cases"].as_array().unwrap() {
            seen.push((
                c["risk"].as_f64().unwrap(),
                c["transaction_id"].as_str().unwrap().to_string(),
            ));
        }
        if seen.len() == 34 {
            // Claiming cases (which changes them) between pages moves nothing across pages.
            api.call(Method::POST, "/v1/cases/next", Some(&api.analyst), None)
                .await;
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/cases?limit=17&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 250);
    assert_eq!(
        seen.iter().map(|(_, id)| id).collect::<HashSet<_>>().len(),
        250
    );
    assert!(
        seen.windows(2)
            .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1))
    );

    let (_, page) = api
        .get(
            "/v1/cases?decision=block&customer_id=c1&min_risk=0.9",
            &api.viewer,
        )
        .await;
    let cases = page["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    assert!(cases.iter().all(|c| c["decision"] == "block"
        && c["customer_id"] == "c1"
        && c["risk"].as_f64().unwrap() >= 0.9));
    let (_, page) = api
        .get(
            "/v1/cases?from=2018-04-01T00:00:00.010Z&to=2018-04-01T00:00:00.020Z&limit=1000",
            &api.viewer,
        )
        .await;
    assert_eq!(
        page["cases"].as_array().unwrap().len(),
        10,
        "event times 10..20 ms, to exclusive"
    );
    let (_, page) = api
        .get(
            "/v1/cases?status=investigating&assignee=analyst",
            &api.viewer,
        )
        .await;
    assert_eq!(page["cases"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_next_case_claims_never_share_a_case() {
    claims(sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_next_case_claims_never_share_a_case_postgres() {
    claims(common::postgres().await).await;
}

async fn claims(api: Api) {
    seed(&api, 60).await;
    let mut keys = Vec::new();
    for i in 0..6 {
        let (s, created) = api
            .call(
                Method::POST,
                "/v1/keys",
                Some(&api.admin),
                Some(json!({"name": format!("analyst-{i}"), "role": "analyst"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        keys.push(created["secret"].as_str().unwrap().to_string());
    }
    let api = std::sync::Arc::new(api);
    let tasks: Vec<_> = keys
        .into_iter()
        .map(|key| {
            let api = api.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let (status, case) = api
                        .call(Method::POST, "/v1/cases/next", Some(&key), None)
                        .await;
                    if status == StatusCode::NO_CONTENT {
                        return got;
                    }
                    assert_eq!(status, StatusCode::OK, "{case}");
                    assert_eq!(case["status"], "investigating");
                    got.push((
                        case["transaction_id"].as_str().unwrap().to_string(),
                        case["assignee"].as_str().unwrap().to_string(),
                    ));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), 60);
    assert_eq!(
        all.iter().map(|(id, _)| id).collect::<HashSet<_>>().len(),
        60,
        "no case claimed twice"
    );
    for (id, assignee) in &all {
        let (_, case) = api.get(&format!("/v1/cases/{id}"), &api.viewer).await;
        assert_eq!(&case["assignee"], assignee.as_str());
        assert_eq!(
            case["audit"].as_array().unwrap().last().unwrap()["actor"],
            format!("key:{assignee}")
        );
    }
}

#[tokio::test]
async fn stale_updates_conflict_and_the_audit_names_the_key() {
    let api = sqlite().await;
    seed(&api, 3).await;
    let patch = |v: Value| api.call(Method::PATCH, "/v1/cases/1", Some(&api.analyst), Some(v));
    let (s, c) = patch(json!({"version": 1, "status": "investigating", "assignee": "ana"})).await;
    assert_eq!((s, c["version"].as_i64()), (StatusCode::OK, Some(2)));
    let (s, e) = patch(json!({"version": 1, "assignee": "bob"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "stale_version");
    let (s, e) = patch(json!({"version": 2, "status": "closed"})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("workflow_rule"))
    );
    let (s, c) = patch(
        json!({"version": 2, "status": "closed", "outcome": "fraud_confirmed", "assignee": null}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["assignee"], Value::Null);
    assert!(
        c["audit"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .all(|a| a["actor"] == "key:analyst")
    );
    let (s, note) = api
        .call(
            Method::POST,
            "/v1/cases/1/notes",
            Some(&api.analyst),
            Some(json!({"text": "card blocked"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(note["notes"][0]["author"], "key:analyst");

    let (s, label) = api.get("/v1/labels/1", &api.viewer).await;
    assert_eq!(s, StatusCode::OK, "a closed case's outcome is a label");
    assert_eq!(
        (label["is_fraud"].as_bool(), label["source"].as_str()),
        (Some(true), Some("case_outcome"))
    );
    let (s, w) = api
        .call(Method::POST, "/v1/labels", Some(&api.analyst), Some(json!({"labels": [
            {"transaction_id": "2", "customer_id": "c2", "is_fraud": true, "labelled_at": "2026-11-01T00:00:00.000Z"},
            {"transaction_id": "77", "customer_id": "c7", "is_fraud": false, "fraud_scenario": "none"}
        ]})))
        .await;
    assert_eq!((s, w["written"].as_u64()), (StatusCode::OK, Some(2)));
    let (_, label) = api.get("/v1/labels/2", &api.viewer).await;
    assert_eq!(label["source"], "chargeback");
}

#[tokio::test]
async fn keys_are_created_listed_and_revoked() {
    let api = sqlite().await;
    let (s, created) = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(&api.admin),
            Some(json!({"name": "ops", "role": "viewer"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("fw_") && secret.len() == 67);
    let (s, _) = api.get("/v1/cases", &secret).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(&api.admin),
            Some(json!({"name": "ops", "role": "admin"})),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate"))
    );
    let (_, list) = api.get("/v1/keys", &api.admin).await;
    let text = list.to_string();
    assert!(
        !text.contains(&secret) && !text.contains("hash"),
        "never a secret or hash: {text}"
    );
    assert_eq!(list.as_array().unwrap().len(), 4);
    let id = created["key"]["id"].as_str().unwrap();
    let (s, revoked) = api
        .call(
            Method::DELETE,
            &format!("/v1/keys/{id}"),
            Some(&api.admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    let (s, e) = api.get("/v1/cases", &secret).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "revoked at once: {e}");
}

#[tokio::test]
async fn garbage_gets_a_clear_4xx() {
    let api = sqlite().await;
    seed(&api, 3).await;
    let k = Some(api.analyst.as_str());
    let long = "x".repeat(65);
    let cases: Vec<(Method, String, Option<Value>, StatusCode)> = vec![
        (
            Method::GET,
            format!("/v1/cases/{long}"),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases/a%20b".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases/%27%3B%20DROP%20TABLE%20cases%3B--".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases/1'OR'1'='1".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/v1/cases?status=lost".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases?limit=0".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases?limit=99999999999".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases?min_risk=NaN".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases?min_risk=2".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases?from=yesterday".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases?cursor=garbage".into(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::GET,
            "/v1/cases?colour=red".into(),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v1/cases?customer_id=x%27%20OR%201%3D1%20--".into(),
            None,
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            "/v1/cases/1".into(),
            Some(json!({"version": 1, "status": "deleted"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PATCH,
            "/v1/cases/1".into(),
            Some(json!({"version": "one"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PATCH,
            "/v1/cases/1".into(),
            Some(json!({"status": "closed"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PATCH,
            "/v1/cases/1".into(),
            Some(json!({"version": 1, "outcome": "fraud_confirmed"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::PATCH,
            "/v1/cases/1".into(),
            Some(json!({"version": 1, "assignee": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::PATCH,
            "/v1/cases/404".into(),
            Some(json!({"version": 1})),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/v1/cases/1/notes".into(),
            Some(json!({"text": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/cases/1/notes".into(),
            Some(json!({"text": "x".repeat(10_001)})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/labels".into(),
            Some(json!({"labels": []})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/labels".into(),
            Some(json!({"labels": [{"transaction_id": "", "customer_id": "c", "is_fraud": true}]})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/labels".into(),
            Some(
                json!({"labels": [{"transaction_id": "1", "customer_id": "c", "is_fraud": "yes"}]}),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/score".into(),
            Some(json!({"transaction_id": "t"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v1/score".into(),
            Some(serde_json::from_str(&TX.replace("12.5", "-3")).unwrap()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/score".into(),
            Some(serde_json::from_str(&TX.replace("EUR", "EURO")).unwrap()),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            "/v1/cases/1".into(),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            Method::GET,
            "/v2/anything".into(),
            None,
            StatusCode::NOT_FOUND,
        ),
    ];
    for (method, path, body, want) in cases {
        let (status, json) = api.call(method.clone(), &path, k, body).await;
        assert_eq!(status, want, "{method} {path}: {json}");
    }
    let (s, e) = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(&api.admin),
            Some(json!({"name": "x", "role": "root"})),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_body"))
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("root"));
    let (s, e) = api
        .call(
            Method::POST,
            "/v1/keys",
            Some(&api.admin),
            Some(json!({"name": "a b'--", "role": "viewer"})),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );

    // A body over 1 MiB, a body that is not JSON, a body with the wrong content type.
    let url = format!("{}/v1/cases/1/notes", api.base);
    let huge = format!("{{\"text\":\"{}\"}}", "x".repeat(2 << 20));
    for (body, ctype, want) in [
        (huge, "application/json", StatusCode::PAYLOAD_TOO_LARGE),
        (
            "{\"text\":".to_string(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "{\"text\":\"hi\"}".to_string(),
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let resp = api
            .http
            .post(&url)
            .bearer_auth(&api.analyst)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), want);
        let json: Value = resp.json().await.unwrap();
        assert!(json["error"]["message"].is_string(), "{json}");
    }
    let (_, case) = api.get("/v1/cases/1", &api.viewer).await;
    assert_eq!(case["version"], 1, "no garbage changed the case");
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let api = sqlite().await;
    let (s, doc) = api.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (_, path, _, _) in endpoints() {
        let template: Vec<&str> = path
            .split('/')
            .map(|seg| match seg {
                "nonexistent" => "{id}",
                s if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => "{transaction_id}",
                s => s,
            })
            .collect();
        let template = template.join("/");
        assert!(paths.contains_key(&template), "{template} documented");
    }
    let (s, ready) = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!((s, ready["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, e) = api
        .call(
            Method::POST,
            "/v1/score",
            Some(&api.analyst),
            Some(serde_json::from_str(TX).unwrap()),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("not_ready")),
        "no scorer wired"
    );
}

/// A drift report as the monitor stores it, comparing two small tables.
fn stored_report() -> String {
    use fraudwatch_monitor::{Options, Report, Table, compare};
    let table = |shift: f64| {
        let mut csv = String::from("amount,channel\n");
        for i in 0..1500 {
            let channel = if i % 3 == 0 { "online" } else { "pos" };
            csv += &format!("{},{channel}\n", (i % 50) as f64 + shift);
        }
        Table::from_csv(csv.as_bytes(), "t.csv").unwrap()
    };
    let c = compare(&table(0.0), &table(30.0), &Options::default()).unwrap();
    serde_json::to_string(&Report::from_comparison(
        &c,
        "test",
        "2026-11-29T10:00:00.000Z",
    ))
    .unwrap()
}

#[tokio::test]
async fn drift_events_and_the_latest_report_are_served() {
    use fraudwatch_core::{DriftEvent, DriftKind, DriftedColumn, Severity, time};
    let api = sqlite().await;
    // Nothing yet: an empty list, and a 404 that says why.
    let (status, json) = api.get("/v1/drift/events", &api.viewer).await;
    assert_eq!((status, json), (StatusCode::OK, json!([])));
    let (status, json) = api.get("/v1/drift/report.json", &api.viewer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no drift report yet")
    );

    let at = |ms| time::from_millis(ms).unwrap();
    for (kind, start, end) in [
        (DriftKind::Data, 1_000, Some(5_000)),
        (DriftKind::Prediction, 2_000, None),
    ] {
        let event = DriftEvent {
            id: format!("{}-{start}", kind.as_str()),
            kind,
            severity: Severity::Warning,
            start: at(start),
            detected: at(start + 500),
            end: end.map(at),
            share: 0.5,
            columns: vec![DriftedColumn {
                name: "amount".into(),
                method: "wasserstein".into(),
                statistic: 0.4,
                p_value: None,
                threshold: 0.1,
            }],
            window_rows: 20_000,
            updated_at: time::now(),
        };
        api.store.upsert_drift_event(&event).await.unwrap();
    }
    let (_, all) = api.get("/v1/drift/events", &api.viewer).await;
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["prediction-2000", "data-1000"], "latest start first");
    assert_eq!(all[1]["end"], "1970-01-01T00:00:05.000Z");
    let (_, open) = api
        .get("/v1/drift/events?open=true&limit=5", &api.viewer)
        .await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (_, one) = api.get("/v1/drift/events?limit=1", &api.viewer).await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "open=maybe",
        "kind=data",
        "limit=-1",
    ] {
        let (status, _) = api
            .get(&format!("/v1/drift/events?{bad}"), &api.viewer)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    api.store
        .put_drift_report("monitor", time::now(), &stored_report())
        .await
        .unwrap();
    let (status, json) = api.get("/v1/drift/report.json", &api.viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["dataset"]["drifted_columns"], json!(["amount"]));
    // The page: HTML, self-contained, one plot per column; a key is still needed.
    let url = format!("{}/v1/drift/report", api.base);
    let page = api
        .http
        .get(&url)
        .bearer_auth(&api.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let kind = page.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/html"), "{kind}");
    let html = page.text().await.unwrap();
    assert_eq!(html.matches("class=\"dist-plot\"").count(), 2);
    let anonymous = api.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
