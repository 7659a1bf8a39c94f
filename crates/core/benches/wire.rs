//! The wire format's hot kernels, each beside the general path it replaced, on one core:
//! - a `risk` feature vector written by `FeatureVectorRef::encode_into` against serde_json
//!   serialising the equal `FeatureVector`;
//! - the same vector read by `wire::decode` (UTF-8 checked once, names by position) against
//!   serde_json reading the bytes (UTF-8 checked string by string) and the same validation;
//! - a timestamp written and read in the wire format against chrono's RFC 3339 functions.
//!
//! `cargo bench -p fraudwatch-core --bench wire` prints criterion's report, then one line of JSON
//! with the median nanoseconds per operation of each (over 9 timed loops) and their ratios.

// Fixed, valid inputs: a failure here is a broken kernel, and should stop the bench.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat};
use criterion::Criterion;
use fraudwatch_core::engine::FeatureSet;
use fraudwatch_core::{FeatureVector, FeatureVectorRef, Id, Timestamp, Validate, time, wire};

/// Operations per timed loop of the JSON summary.
const OPS: usize = 200_000;

/// A `risk` vector with values of every kind the engine writes (counts, means, ratios, flags).
fn vector() -> (FeatureVector, Vec<f64>) {
    let set = FeatureSet::Risk;
    let values: Vec<f64> = (0..set.specs().len())
        .map(|i| match i % 4 {
            0 => (i * 3) as f64,
            1 => 57.16 + i as f64 / 7.0,
            2 => 0.0,
            _ => 1.0 / (i as f64 + 3.0),
        })
        .collect();
    let at = time::parse("2018-06-18T09:41:07.250Z").unwrap();
    let v = FeatureVector {
        transaction_id: Id::from(1_795_975_316_362u64),
        customer_id: Id::from(4_321u64),
        timestamp: at,
        features: set.named(&values),
        ingested_at: at + chrono::Duration::milliseconds(3),
    };
    (v, values)
}

/// The kernels, each as a closure run once per call.
struct Kernels {
    vector: FeatureVector,
    values: Vec<f64>,
    bytes: Vec<u8>,
    buf: Vec<u8>,
    at: Timestamp,
    text: String,
}

impl Kernels {
    fn new() -> Kernels {
        let (vector, values) = vector();
        let bytes = serde_json::to_vec(&vector).unwrap();
        let at = vector.timestamp;
        Kernels {
            vector,
            values,
            bytes,
            buf: Vec::with_capacity(4096),
            text: time::format(&at),
            at,
        }
    }

    fn encode_direct(&mut self) {
        self.buf.clear();
        let v = &self.vector;
        FeatureVectorRef {
            transaction_id: &v.transaction_id,
            customer_id: &v.customer_id,
            timestamp: &v.timestamp,
            specs: FeatureSet::Risk.specs(),
            values: &self.values,
            ingested_at: &v.ingested_at,
        }
        .encode_into(&mut self.buf);
        black_box(&self.buf);
    }

    fn encode_serde(&mut self) {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &self.vector).unwrap();
        black_box(&self.buf);
    }

    fn decode_wire(&mut self) {
        black_box(wire::decode::<FeatureVector>(black_box(&self.bytes)).unwrap());
    }

    fn decode_serde(&mut self) {
        let v: FeatureVector = serde_json::from_slice(black_box(&self.bytes)).unwrap();
        v.validate().unwrap();
        black_box(v);
    }

    fn format_wire(&mut self) {
        black_box(time::format(black_box(&self.at)));
    }

    fn format_chrono(&mut self) {
        black_box(black_box(&self.at).to_rfc3339_opts(SecondsFormat::Millis, true));
    }

    fn parse_wire(&mut self) {
        black_box(time::parse(black_box(&self.text)).unwrap());
    }

    /// As `time::parse` did before: chrono's parser, then to UTC at millisecond precision.
    fn parse_chrono(&mut self) {
        let t = DateTime::parse_from_rfc3339(black_box(&self.text)).unwrap();
        black_box(time::from_millis(t.timestamp_millis()).unwrap());
    }
}

type Kernel = fn(&mut Kernels);

/// (name, kernel): pairs of the new path and the one it replaced.
const PAIRS: [(&str, Kernel, &str, Kernel); 4] = [
    (
        "encode_vector",
        Kernels::encode_direct,
        "encode_vector_serde",
        Kernels::encode_serde,
    ),
    (
        "decode_vector",
        Kernels::decode_wire,
        "decode_vector_serde",
        Kernels::decode_serde,
    ),
    (
        "format_time",
        Kernels::format_wire,
        "format_time_chrono",
        Kernels::format_chrono,
    ),
    (
        "parse_time",
        Kernels::parse_wire,
        "parse_time_chrono",
        Kernels::parse_chrono,
    ),
];

/// Median nanoseconds per call over 9 loops of `OPS` calls.
fn median_ns(k: &mut Kernels, f: Kernel) -> f64 {
    let mut ns: Vec<f64> = (0..9)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..OPS {
                f(k);
            }
            start.elapsed().as_nanos() as f64 / OPS as f64
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    ns[4]
}

fn main() {
    let mut k = Kernels::new();
    // The direct encoding is the serde one, byte for byte (as the unit tests hold too).
    k.encode_direct();
    assert_eq!(k.buf, k.bytes);

    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = c.benchmark_group("wire");
    for (new, f, old, g) in PAIRS {
        group.bench_function(new, |b| b.iter(|| f(&mut k)));
        group.bench_function(old, |b| b.iter(|| g(&mut k)));
    }
    group.finish();
    c.final_summary();

    // `cargo test --benches` runs this binary in test mode: criterion's quick check is enough.
    let filtered = std::env::args().skip(1).any(|a| !a.starts_with('-'));
    if std::env::args().any(|a| a == "--bench") && !filtered {
        let fields: Vec<String> = PAIRS
            .iter()
            .map(|&(new, f, old, g)| {
                let (a, b) = (median_ns(&mut k, f), median_ns(&mut k, g));
                format!(
                    "\"{new}\":{a:.1},\"{old}\":{b:.1},\"{new}_speedup\":{:.2}",
                    b / a
                )
            })
            .collect();
        println!(
            "{{\"bench\":\"wire\",\"unit\":\"ns_per_op\",\"statistic\":\"median of 9 loops of {OPS}\",\"vector_bytes\":{},{}}}",
            k.bytes.len(),
            fields.join(",")
        );
    }
}
