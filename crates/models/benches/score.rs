//! Scoring speed, per row, on one core:
//! - the Isolation Forest (100 trees, ψ = 256, fitted on 100,000 synthetic rows of 15 features);
//! - a synthetic XGBoost model (100 trees of depth 6 over 15 features, its JSON built here);
//! - that model's SHAP feature contributions (`contributions_with`, and `top_reasons` with k = 3),
//!   on 1,000 rows, one at a time (group `gbtree_synthetic_shap`);
//! - with `FW_BENCH_XGB_MODEL=path/to/model.json`, that real XGBoost model too, on synthetic rows
//!   of its width;
//! - with `FW_BENCH_DATA=dir` (written by `scripts/reference/model_speed.py`, which times the same
//!   models in Python), groups `iforest_data` and `gbtree_data`: a forest fitted on `dir/train.f64`
//!   with the settings above and the XGBoost model `dir/xgb.json`, both scoring `dir/score.f64`.
//!   Their batch outputs go to `dir/rust_iforest_score.f64` and `dir/rust_xgb_pred.f64`, so that
//!   `scripts/bench-models.sh` can check them against Python's.
//!
//! Each is scored on 10,000 rows, in one batch call and one row at a time; criterion reports
//! rows/s (`Throughput::Elements`). `cargo bench -p fraudwatch-models --bench score -- --quick`
//! for a short run.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput};
use fraudwatch_models::{GradientBoosted, IsolationForest, Params};
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

type Rng = rand_pcg::Pcg64Mcg;

const WIDTH: usize = 15;
const TRAINING_ROWS: usize = 100_000;
const SCORED_ROWS: usize = 10_000;

/// `n` rows of `width` features: sums of uniforms around 0 (roughly normal), a few missing
/// (NaN) when `missing` is above 0.
fn rows(rng: &mut Rng, n: usize, width: usize, missing: f64) -> Vec<f64> {
    (0..n * width)
        .map(|_| {
            if rng.random::<f64>() < missing {
                f64::NAN
            } else {
                (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0
            }
        })
        .collect()
}

/// An XGBoost JSON model of `trees` full trees of `depth` over `width` features, laid out as
/// XGBoost lays them out (breadth-first, siblings side by side).
fn synthetic_model(rng: &mut Rng, trees: usize, depth: u32, width: usize) -> String {
    let splits = (1usize << depth) - 1;
    let nodes = 2 * splits + 1;
    let trees_json: Vec<Value> = (0..trees)
        .map(|id| {
            let mut left = Vec::with_capacity(nodes);
            let mut right = Vec::with_capacity(nodes);
            let mut feature = Vec::with_capacity(nodes);
            let mut condition = Vec::with_capacity(nodes);
            let mut default_left = Vec::with_capacity(nodes);
            for i in 0..nodes {
                if i < splits {
                    left.push(2 * i as i64 + 1);
                    right.push(2 * i as i64 + 2);
                    feature.push(rng.random_range(0..width));
                    condition.push(rng.random_range(-1.2f32..1.2));
                    default_left.push(u8::from(rng.random::<bool>()));
                } else {
                    left.push(-1);
                    right.push(-1);
                    feature.push(0);
                    condition.push(rng.random_range(-0.1f32..0.1));
                    default_left.push(0);
                }
            }
            // Covers that add up: fixed leaf covers (not drawn from `rng`, which would change
            // the other benchmarks' data), sums at the splits.
            let mut cover = vec![0f32; nodes];
            for i in (0..nodes).rev() {
                cover[i] = if i < splits {
                    cover[2 * i + 1] + cover[2 * i + 2]
                } else {
                    (1 + (i * 7919) % 97) as f32
                };
            }
            json!({
                "base_weights": vec![0.0; nodes],
                "default_left": default_left,
                "id": id,
                "left_children": left,
                "loss_changes": vec![0.0; nodes],
                "parents": vec![0; nodes],
                "right_children": right,
                "split_conditions": condition,
                "split_indices": feature,
                "split_type": vec![0; nodes],
                "sum_hessian": cover,
                "tree_param": {
                    "num_deleted": "0",
                    "num_feature": width.to_string(),
                    "num_nodes": nodes.to_string(),
                    "size_leaf_vector": "1",
                },
            })
        })
        .collect();
    json!({
        "learner": {
            "attributes": {},
            "feature_names": [],
            "feature_types": [],
            "gradient_booster": {
                "model": {
                    "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": trees.to_string()},
                    "iteration_indptr": (0..=trees).collect::<Vec<_>>(),
                    "tree_info": vec![0; trees],
                    "trees": trees_json,
                },
                "name": "gbtree",
            },
            "learner_model_param": {
                "base_score": "[1E-2]",
                "boost_from_average": "1",
                "num_class": "0",
                "num_feature": width.to_string(),
                "num_target": "1",
            },
            "objective": {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1"}},
        },
        "version": [3, 2, 0],
    })
    .to_string()
}

/// A `.f64` file: a 16-byte header (rows, width: u64 little-endian), then rows × width f64
/// little-endian, row after row. Returns (values, width).
fn read_rows(path: &Path) -> (Vec<f64>, usize) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let word = |i: usize| {
        let b = bytes.get(8 * i..8 * i + 8).expect("a header of two u64");
        u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize
    };
    let (rows, width) = (word(0), word(1));
    let values: Vec<f64> = bytes[16..]
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    assert_eq!(
        values.len(),
        rows * width,
        "{}: {rows} × {width} values",
        path.display()
    );
    (values, width)
}

/// One value per row, in [`read_rows`]' format.
fn write_column(path: &Path, values: &[f64]) {
    let mut bytes = Vec::with_capacity(16 + 8 * values.len());
    bytes.extend_from_slice(&(values.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn fit_forest(training: &[f64], width: usize) -> IsolationForest {
    IsolationForest::fit(
        training,
        width,
        &Params {
            trees: 100,
            sample_size: 256,
            seed: 42,
            threads: 2,
        },
    )
    .expect("a forest")
}

fn bench_iforest(c: &mut Criterion, name: &str, forest: &IsolationForest, data: &[f64]) {
    let w = forest.width();
    let n = data.len() / w;
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(n as u64));
    let mut out = vec![0.0; n];
    group.bench_function("batch", |b| {
        b.iter(|| {
            forest
                .score_batch(black_box(data), &mut out)
                .expect("rows of the forest's width");
            black_box(&out);
        })
    });
    group.bench_function("single", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for row in black_box(data).chunks_exact(w) {
                sum += forest.score(row).expect("a row of the forest's width");
            }
            black_box(sum)
        })
    });
    group.finish();
}

fn bench_gbtree(c: &mut Criterion, name: &str, model: &GradientBoosted, data: &[f64]) {
    let w = model.width();
    let n = data.len() / w.max(1);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(n as u64));
    let mut out = vec![0.0; n];
    group.bench_function("batch", |b| {
        b.iter(|| {
            model
                .predict_batch(black_box(data), &mut out)
                .expect("rows of the model's width");
            black_box(&out);
        })
    });
    group.bench_function("single", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for row in black_box(data).chunks_exact(w.max(1)) {
                sum += model.predict(row).expect("a row of the model's width");
            }
            black_box(sum)
        })
    });
    group.finish();
}

/// Rows explained per iteration: a contribution costs far more than a prediction.
const EXPLAINED_ROWS: usize = 1_000;

fn bench_shap(c: &mut Criterion, name: &str, model: &GradientBoosted, data: &[f64]) {
    let w = model.width().max(1);
    let data = &data[..(EXPLAINED_ROWS * w).min(data.len())];
    let n = data.len() / w;
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(n as u64));
    let mut scratch = model.shap_scratch();
    let mut out = vec![0.0; model.width() + 1];
    group.bench_function("contributions", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for row in black_box(data).chunks_exact(w) {
                model
                    .contributions_with(row, &mut out, &mut scratch)
                    .expect("a row of the model's width");
                sum += out[0];
            }
            black_box(sum)
        })
    });
    group.bench_function("top_reasons_3", |b| {
        b.iter(|| {
            let mut count = 0;
            for row in black_box(data).chunks_exact(w) {
                count += model
                    .top_reasons(row, 3, &mut scratch)
                    .expect("a row of the model's width")
                    .len();
            }
            black_box(count)
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut rng = Rng::seed_from_u64(42);

    let training = rows(&mut rng, TRAINING_ROWS, WIDTH, 0.0);
    let forest = fit_forest(&training, WIDTH);
    let scored = rows(&mut rng, SCORED_ROWS, WIDTH, 0.0);
    bench_iforest(&mut c, "iforest", &forest, &scored);

    let json = synthetic_model(&mut rng, 100, 6, WIDTH);
    let model = GradientBoosted::from_json(json.as_bytes()).expect("the synthetic model");
    let scored = rows(&mut rng, SCORED_ROWS, WIDTH, 0.02);
    bench_gbtree(&mut c, "gbtree_synthetic", &model, &scored);
    bench_shap(&mut c, "gbtree_synthetic_shap", &model, &scored);

    if let Some(path) = std::env::var_os("FW_BENCH_XGB_MODEL") {
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("FW_BENCH_XGB_MODEL = {}: {e}", path.display()));
        let model = GradientBoosted::from_json(&bytes)
            .unwrap_or_else(|e| panic!("FW_BENCH_XGB_MODEL = {}: {e}", path.display()));
        let scored = rows(&mut rng, SCORED_ROWS, model.width(), 0.02);
        bench_gbtree(&mut c, "gbtree_file", &model, &scored);
    }

    if let Some(dir) = std::env::var_os("FW_BENCH_DATA") {
        let dir = Path::new(&dir);
        let (training, width) = read_rows(&dir.join("train.f64"));
        let (scored, scored_width) = read_rows(&dir.join("score.f64"));
        assert_eq!(scored_width, width, "train.f64 and score.f64 widths");
        let mut out = vec![0.0; scored.len() / width];

        let forest = fit_forest(&training, width);
        forest
            .score_batch(&scored, &mut out)
            .expect("rows of the forest's width");
        write_column(&dir.join("rust_iforest_score.f64"), &out);
        bench_iforest(&mut c, "iforest_data", &forest, &scored);

        let path = dir.join("xgb.json");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let model = GradientBoosted::from_json(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        model
            .predict_batch(&scored, &mut out)
            .expect("rows of the model's width");
        write_column(&dir.join("rust_xgb_pred.f64"), &out);
        bench_gbtree(&mut c, "gbtree_data", &model, &scored);
    }

    c.final_summary();
}
