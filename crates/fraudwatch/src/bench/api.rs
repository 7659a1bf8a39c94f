//! `fraudwatch bench api --events N [--rate R]`: `POST /v1/score` as an authorisation flow calls
//! it. An API with a live scorer (memory:// bus, SQLite and a file registry in a temporary
//! directory, a champion trained as the demo trains it) serves on a loopback port; a load
//! generator in the same process offers N requests at R per second (default 1,000), open loop:
//! request i is due at `start + i / R` and its latency runs from then to its answer, so a stall
//! delays the requests behind it and shows in their latencies (no coordinated omission). Each
//! request is a new transaction of one of the world's 5,000 customers, 10 ms of event time after
//! the one before. Server and generator share the machine's cores.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_api::ApiState;
use fraudwatch_core::Role;
use serde::Serialize;
use serde_json::json;

use super::latency::{Samples, Summary};
use super::pipeline::TempDir;
use crate::cli::BenchArgs;
use crate::registry::CHAMPION;
use crate::serve::{LiveScoring, ServeArgs};

const CUSTOMERS: u64 = 5_000;
const DEFAULT_RATE: u64 = 1_000;

#[derive(Debug, Serialize)]
struct Report {
    bench: &'static str,
    endpoint: &'static str,
    rate: u64,
    requests: u64,
    seconds: f64,
    ok: u64,
    errors: u64,
    latency_ms: Summary,
}

pub(super) async fn run(args: &BenchArgs) -> anyhow::Result<String> {
    let rate = args.rate.unwrap_or(DEFAULT_RATE);
    let dir = TempDir::new()?;
    let registry_url = format!("file://{}", dir.0.join("registry").display());
    let history = dir.0.join("history.csv");
    let bundle = tokio::task::spawn_blocking(move || {
        crate::demo::train_champion(&history, 28, CUSTOMERS as u32, 43)
    })
    .await??;
    let registry = crate::registry::open(&registry_url).await?;
    registry.put(&bundle).await?;
    registry.set_alias(CHAMPION, &bundle.version).await?;

    let bus = fraudwatch_bus::open("memory://")?;
    let store =
        fraudwatch_store::open(&format!("sqlite://{}", dir.0.join("cases.db").display())).await?;
    let serve_args = ServeArgs::embedded("127.0.0.1:0".parse()?, "bench");
    let live = LiveScoring::start(bus, registry, 1, &serve_args)
        .await?
        .context("the champion was just registered")?;
    let (_, key) = fraudwatch_api::create_key(&*store, "bench", Role::Analyst)
        .await
        .map_err(|e| anyhow::anyhow!("creating the bench's key: {}", e.message))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/score", listener.local_addr()?);
    let state = ApiState::new(store).with_scoring(live.clone());
    tokio::spawn(fraudwatch_api::serve(
        listener,
        state,
        std::future::pending(),
    ));
    while !fraudwatch_api::Scoring::ready(&*live) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let key = Arc::new(format!("Bearer {key}"));
    let start = Instant::now();
    let base_ms = 1_704_067_200_000_i64; // 2024-01-01, the demo world's first day
    let mut tasks = Vec::with_capacity(args.events as usize);
    for i in 0..args.events {
        let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let body = json!({
            "transaction_id": format!("bench-{i}"),
            "customer_id": (i * 7_919 % CUSTOMERS).to_string(),
            "terminal_id": (i % 10_000).to_string(),
            "amount": 5.0 + (i % 400) as f64,
            "currency": "EUR",
            "timestamp": fraudwatch_core::time::format(
                &fraudwatch_core::time::from_millis(base_ms + i as i64 * 10).context("time")?
            ),
        });
        let (client, url, key) = (client.clone(), url.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let sent = client
                .post(url)
                .header("authorization", key.as_str())
                .json(&body)
                .send()
                .await;
            let ok = match sent {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (ok, due.elapsed())
        }));
    }
    let mut samples = Samples::default();
    let (mut ok, mut errors) = (0, 0);
    for t in tasks {
        let (fine, latency) = t.await?;
        if fine {
            ok += 1;
        } else {
            errors += 1;
        }
        samples.push_ms(latency.as_secs_f64() * 1_000.0);
    }
    let report = Report {
        bench: "api",
        endpoint: "POST /v1/score",
        rate,
        requests: args.events,
        seconds: super::latency::round3(start.elapsed().as_secs_f64()),
        ok,
        errors,
        latency_ms: samples.summary(),
    };
    Ok(serde_json::to_string(&report)?)
}
