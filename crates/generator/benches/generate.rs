//! Generation throughput. Criterion measures the kernels (30 days of the world alone, and encoded to
//! CSV / JSON in memory); then a JSON line per case reports the median of 5 runs that write 30 days
//! of transactions to a real file, the number the README quotes:
//!
//! `cargo bench -p fraudwatch-generator --bench generate`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use fraudwatch_generator::format::Encoder;
use fraudwatch_generator::run::{self, Control};
use fraudwatch_generator::{Config, FileSink, Format, Labels, Profile, World, events};

/// Days of event time a kernel iteration generates (building the population is part of it).
const KERNEL_DAYS: u32 = 30;

fn config(profile: Profile, days: u32) -> Config {
    let mut c = Config::new(profile);
    c.days = Some(days);
    c
}

fn world(profile: Profile) -> World {
    World::new(config(profile, KERNEL_DAYS)).expect("a valid config")
}

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("generate");
    g.sample_size(10);
    for profile in [Profile::Handbook, Profile::Default] {
        let n = world(profile).count() as u64;
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("{profile}_world_30d"), |b| {
            b.iter(|| world(profile).map(|t| black_box(t).cents).sum::<u64>())
        });
        let origin = config(profile, KERNEL_DAYS).start_ms;
        g.bench_function(format!("{profile}_csv_30d"), |b| {
            let mut enc = Encoder::new();
            let mut buf = Vec::with_capacity(1 << 20);
            b.iter(|| {
                for tx in world(profile) {
                    enc.csv_row(&tx, origin, &mut buf);
                    if buf.len() > 1 << 20 {
                        buf.clear();
                    }
                }
                black_box(buf.len())
            })
        });
        g.bench_function(format!("{profile}_jsonl_30d"), |b| {
            let mut enc = Encoder::new();
            let mut buf = Vec::with_capacity(1 << 20);
            b.iter(|| {
                for tx in world(profile) {
                    enc.labelled_json(&tx, &mut buf);
                    buf.push(b'\n');
                    if buf.len() > 1 << 20 {
                        buf.clear();
                    }
                }
                black_box(buf.len())
            })
        });
    }
    g.finish();
}

/// Median transactions per second of `runs` runs writing `days` days to a file, as one JSON line.
fn to_file(profile: Profile, format: Format, days: u32, runs: usize) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("out");
    let mut rates = Vec::new();
    let mut transactions = 0;
    let mut bytes = 0;
    for _ in 0..runs {
        let cfg = config(profile, days);
        let file = std::fs::File::create(&path).expect("a file");
        let mut sink = FileSink::new(file, format, Some(cfg.start_ms), "bench file");
        let mut ev = events(World::new(cfg).expect("a valid config"), 0, Labels::None);
        let start = Instant::now();
        let s = run::to_file(&mut ev, &mut sink, Control::default(), &mut |_| {}).expect("written");
        sink.finish().expect("flushed");
        let secs = start.elapsed().as_secs_f64();
        rates.push(s.transactions as f64 / secs);
        transactions = s.transactions;
        bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let format = match format {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
    };
    println!(
        "{{\"bench\":\"generate_to_file\",\"profile\":\"{profile}\",\"format\":\"{format}\",\"days\":{days},\"transactions\":{transactions},\"bytes\":{bytes},\"runs\":{runs},\"median_transactions_per_second\":{median:.0},\"min\":{:.0},\"max\":{:.0},\"threads\":1}}",
        rates[0],
        rates[rates.len() - 1]
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--test");
    let mut c = Criterion::default().configure_from_args();
    kernels(&mut c);
    c.final_summary();
    let (days, runs) = if quick { (2, 1) } else { (30, 5) };
    to_file(Profile::Handbook, Format::Csv, days, runs);
    to_file(Profile::Handbook, Format::Jsonl, days, runs);
    to_file(Profile::Default, Format::Jsonl, days, runs);
}
