//! The model bundle against bad input: truncated, edited, of another format, with models that do
//! not fit its inputs, with forests that point outside their trees, with bad scales; the input
//! check against the running feature set; the scorer's refusals; and fuzzing. Every bad input is
//! a clear error, never a panic.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::BTreeMap;

use fraudwatch_models::bundle::{DataRange, FORMAT, Scale, Thresholds};
use fraudwatch_models::{Bundle, IsolationForest, ModelError, ModelKind, Params, Risk, Scorer};
use proptest::prelude::*;
use serde_json::{Value, json};

const FEATURES: [&str; 3] = ["amount", "nb_tx_1day", "risk_7day"];
const WIDTH: usize = FEATURES.len();
const SCALING: [(f64, f64); WIDTH] = [(50.0, 20.0), (3.0, 1.5), (0.01, 0.02)];

/// A tree from (left, right, feature, condition, default_left) per node, as XGBoost writes it.
fn tree(id: usize, width: usize, nodes: &[(i64, i64, u64, f64, u8)]) -> Value {
    let n = nodes.len();
    let mut parents = vec![2_147_483_647i64; n];
    for (i, &(l, r, ..)) in nodes.iter().enumerate() {
        if l >= 0 {
            parents[l as usize] = i as i64;
            parents[r as usize] = i as i64;
        }
    }
    json!({
        "base_weights": vec![0.0; n],
        "categories": [],
        "categories_nodes": [],
        "categories_segments": [],
        "categories_sizes": [],
        "default_left": nodes.iter().map(|x| x.4).collect::<Vec<_>>(),
        "id": id,
        "left_children": nodes.iter().map(|x| x.0).collect::<Vec<_>>(),
        "loss_changes": vec![0.0; n],
        "parents": parents,
        "right_children": nodes.iter().map(|x| x.1).collect::<Vec<_>>(),
        "split_conditions": nodes.iter().map(|x| x.3).collect::<Vec<_>>(),
        "split_indices": nodes.iter().map(|x| x.2).collect::<Vec<_>>(),
        "split_type": vec![0; n],
        "sum_hessian": vec![1.0; n],
        "tree_param": {
            "num_deleted": "0",
            "num_feature": width.to_string(),
            "num_nodes": n.to_string(),
            "size_leaf_vector": "1",
        },
    })
}

/// A hand-made `binary:logistic` XGBoost model of `width` inputs (base score 0.5, so the margin
/// starts at 0): tree 0 splits the first (scaled) input at 0, leaves −1 and +1; tree 1 splits
/// the last input at 0.5, leaves 0 and +2 (the anomaly score in a combined bundle).
fn xgboost_model(width: usize) -> String {
    let last = (width - 1) as u64;
    json!({
        "learner": {
            "attributes": {},
            "feature_names": [],
            "feature_types": [],
            "gradient_booster": {
                "model": {
                    "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": "2"},
                    "iteration_indptr": [0, 1, 2],
                    "tree_info": [0, 0],
                    "trees": [
                        tree(0, width, &[
                            (1, 2, 0, 0.0, 1),
                            (-1, -1, 0, -1.0, 0),
                            (-1, -1, 0, 1.0, 0),
                        ]),
                        tree(1, width, &[
                            (1, 2, last, 0.5, 1),
                            (-1, -1, 0, 0.0, 0),
                            (-1, -1, 0, 2.0, 0),
                        ]),
                    ],
                },
                "name": "gbtree",
            },
            "learner_model_param": {
                "base_score": "5E-1",
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

/// Deterministic rows around the scaling's means (xorshift, sums of uniforms).
fn rows(n: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n * WIDTH)
        .map(|k| {
            let (mean, std) = SCALING[k % WIDTH];
            mean + std * ((0..12).map(|_| uniform()).sum::<f64>() - 6.0)
        })
        .collect()
}

fn scaled(raw: &[f64]) -> Vec<f64> {
    raw.iter()
        .zip(SCALING.iter().cycle())
        .map(|(x, (mean, std))| (x - mean) / std)
        .collect()
}

fn forest() -> IsolationForest {
    let params = Params {
        trees: 4,
        sample_size: 16,
        seed: 3,
        threads: 1,
    };
    IsolationForest::fit(&scaled(&rows(64)), WIDTH, &params).unwrap()
}

/// An unsealed bundle of `kind` whose models fit its inputs.
fn unsealed(kind: ModelKind) -> Bundle {
    let xgboost_width = WIDTH + usize::from(kind == ModelKind::Combined);
    Bundle {
        format: FORMAT,
        version: String::new(),
        created_at: "2018-08-01T00:00:00+00:00".to_string(),
        feature_set: "handbook".to_string(),
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        scaling: SCALING
            .iter()
            .map(|&(mean, std)| Scale { mean, std })
            .collect(),
        model: kind,
        xgboost: if kind.uses_xgboost() {
            xgboost_model(xgboost_width)
        } else {
            String::new()
        },
        iforest: kind.uses_iforest().then(forest),
        iforest_inputs: Vec::new(),
        thresholds: Thresholds {
            review: 0.3,
            block: 0.8,
        },
        metrics: BTreeMap::from([
            ("train_auc_roc".to_string(), 0.91),
            ("train_average_precision".to_string(), 0.42),
        ]),
        data: DataRange {
            start: "2018-07-25".to_string(),
            end: "2018-07-31".to_string(),
            rows: 67_240,
            frauds: 598,
        },
        params: BTreeMap::from([
            ("model".to_string(), kind.name().to_string()),
            ("xgboost.params.max_depth".to_string(), "3".to_string()),
        ]),
        reference: rows(5).chunks(WIDTH).map(<[f64]>::to_vec).collect(),
        reference_risks: Vec::new(),
    }
}

fn sealed(kind: ModelKind) -> Bundle {
    unsealed(kind).seal().unwrap()
}

fn json_of(bundle: &Bundle) -> Value {
    serde_json::from_slice(&bundle.to_json().unwrap()).unwrap()
}

/// Edits a bundle's JSON, re-seals it (so that the hash passes) and reads it back.
fn resealed(kind: ModelKind, edit: impl FnOnce(&mut Value)) -> Result<Bundle, ModelError> {
    let mut doc = json_of(&sealed(kind));
    edit(&mut doc);
    let bundle: Bundle = serde_json::from_value(doc).unwrap();
    Bundle::from_json(&bundle.seal()?.to_json()?)
}

/// Asserts an error whose message contains every one of `needles`.
fn assert_err<T: std::fmt::Debug>(result: Result<T, ModelError>, needles: &[&str]) -> ModelError {
    let err = result.unwrap_err();
    let message = err.to_string();
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in {message:?}");
    }
    err
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn a_sealed_bundle_reads_back_equal() {
    for kind in ModelKind::ALL {
        let bundle = sealed(kind);
        assert!(bundle.version.starts_with("sha256:"), "{}", bundle.version);
        assert_eq!(bundle.version.len(), 71);
        assert!(
            bundle.version[7..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let json = bundle.to_json().unwrap();
        assert_eq!(Bundle::from_json(&json).unwrap(), bundle, "{kind}");
        // Sealing is idempotent, and the version depends on the content only.
        assert_eq!(bundle.clone().seal().unwrap(), bundle);
        let mut other = bundle.clone();
        other.created_at = "2018-08-02T00:00:00+00:00".to_string();
        assert_ne!(other.seal().unwrap().version, bundle.version);
        // Key order and whitespace are not content.
        let pretty = serde_json::to_vec_pretty(&json_of(&bundle)).unwrap();
        assert_eq!(Bundle::from_json(&pretty).unwrap(), bundle, "{kind}");
    }
    let versions: std::collections::BTreeSet<String> = ModelKind::ALL
        .into_iter()
        .map(|k| sealed(k).version)
        .collect();
    assert_eq!(versions.len(), 3);
}

#[test]
fn an_unsealed_bundle_is_refused() {
    let json = unsealed(ModelKind::Combined).to_json().unwrap();
    assert_err(Bundle::from_json(&json), &["does not match its content"]);
}

#[test]
fn the_scorer_applies_scaling_and_both_models() {
    let row = |amount: f64| [amount, 3.0, 0.01];
    // Tree 0 splits the scaled amount at 0, i.e. the raw amount at its mean, 50.
    let xgb = Scorer::new(&sealed(ModelKind::Xgboost)).unwrap();
    assert_eq!(xgb.width(), WIDTH);
    let low = xgb.score(&row(49.0)).unwrap();
    let high = xgb.score(&row(51.0)).unwrap();
    // Tree 1 splits the last input (scaled 0 here) at 0.5: left, leaf 0.
    assert!((low.risk - sigmoid(-1.0)).abs() < 1e-6, "{low:?}");
    assert!((high.risk - sigmoid(1.0)).abs() < 1e-6, "{high:?}");
    assert_eq!(low.anomaly, 0.0);

    let f = forest();
    let iforest = Scorer::new(&sealed(ModelKind::Iforest)).unwrap();
    let r = iforest.score(&row(51.0)).unwrap();
    let anomaly = f.score(&scaled(&row(51.0))).unwrap();
    assert_eq!(r.anomaly, anomaly);
    assert_eq!(r.risk, anomaly);

    // Combined: the anomaly score is the last XGBoost input (tree 1 adds 2 when it is ≥ 0.5).
    let combined = Scorer::new(&sealed(ModelKind::Combined)).unwrap();
    let raw = rows(200);
    let mut out = vec![Risk::default(); 200];
    let mut scratch = Vec::new();
    combined.score_batch(&raw, &mut out, &mut scratch).unwrap();
    for (x, r) in raw.chunks(WIDTH).zip(&out) {
        let s = scaled(x);
        let a = f.score(&s).unwrap();
        let margin = if s[0] < 0.0 { -1.0 } else { 1.0 } + if a < 0.5 { 0.0 } else { 2.0 };
        assert_eq!(r.anomaly, a);
        assert!((r.risk - sigmoid(margin)).abs() < 1e-6, "{x:?}: {r:?}");
        assert_eq!(combined.score(x).unwrap(), *r, "batch and row agree");
    }
    // The scratch buffer is reused: a second batch gives the same.
    let mut again = vec![Risk::default(); 200];
    combined
        .score_batch(&raw, &mut again, &mut scratch)
        .unwrap();
    assert_eq!(again, out);
}

#[test]
fn truncated_json_is_refused() {
    for kind in ModelKind::ALL {
        let json = sealed(kind).to_json().unwrap();
        let step = (json.len() / 700).max(1);
        for cut in (0..json.len())
            .step_by(step)
            .chain(json.len() - 40..json.len())
        {
            let result = Bundle::from_json(&json[..cut]);
            assert!(
                matches!(result, Err(ModelError::Malformed(_))),
                "{kind}: {cut} of {} bytes: {result:?}",
                json.len()
            );
        }
    }
}

/// Every number in `doc` except `format`, as a JSON pointer.
fn numbers(doc: &Value, at: String, out: &mut Vec<String>) {
    match doc {
        Value::Number(_) if at != "/format" => out.push(at),
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                numbers(v, format!("{at}/{i}"), out);
            }
        }
        Value::Object(o) => {
            for (k, v) in o {
                numbers(v, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

/// A different number of the same kind, in range for its field.
fn edited(n: &serde_json::Number) -> Value {
    if let Some(u) = n.as_u64() {
        json!(if u > 0 { u - 1 } else { 1 })
    } else if let Some(i) = n.as_i64() {
        json!(i + 1)
    } else {
        let x = n.as_f64().unwrap();
        json!(if x == 0.0 { 0.25 } else { x * 0.75 })
    }
}

#[test]
fn any_edited_number_breaks_the_seal() {
    for kind in ModelKind::ALL {
        let doc = json_of(&sealed(kind));
        let mut pointers = Vec::new();
        numbers(&doc, String::new(), &mut pointers);
        // Thresholds, scales, metrics, data range, reference, every forest node…
        for p in [
            "/thresholds/review",
            "/thresholds/block",
            "/scaling/1/std",
            "/data/rows",
        ] {
            assert!(pointers.iter().any(|q| q == p), "{p}");
        }
        assert!(pointers.len() > 20, "{kind}: {}", pointers.len());
        for p in &pointers {
            let mut d = doc.clone();
            let v = d.pointer_mut(p).unwrap();
            let new = edited(v.as_number().unwrap());
            assert_ne!(*v, new);
            *v = new;
            let bytes = serde_json::to_vec(&d).unwrap();
            assert_err(
                Bundle::from_json(&bytes),
                &["does not match its content", &sealed(kind).version],
            );
        }
        // A number inside the XGBoost model's own text, too.
        if kind.uses_xgboost() {
            let mut d = doc.clone();
            let text = d["xgboost"].as_str().unwrap().replacen("0.5", "0.6", 1);
            d["xgboost"] = json!(text);
            assert_err(
                Bundle::from_json(&serde_json::to_vec(&d).unwrap()),
                &["does not match its content"],
            );
        }
        // And the version itself.
        let mut d = doc.clone();
        let version = d["version"]
            .as_str()
            .unwrap()
            .replace("sha256:", "sha256:0");
        d["version"] = json!(version[..71]);
        assert_err(
            Bundle::from_json(&serde_json::to_vec(&d).unwrap()),
            &["does not match its content"],
        );
    }
}

#[test]
fn another_format_is_unsupported() {
    let mut bundle = unsealed(ModelKind::Combined);
    bundle.format = 2;
    // Sealed or not, the format is checked first.
    for b in [bundle.clone(), bundle.seal().unwrap()] {
        let err = assert_err(
            Bundle::from_json(&b.to_json().unwrap()),
            &["bundle format 2", "format 1"],
        );
        assert!(matches!(err, ModelError::Unsupported(_)), "{err:?}");
    }
    let mut doc = json_of(&sealed(ModelKind::Xgboost));
    doc["format"] = json!(0);
    assert!(matches!(
        Bundle::from_json(&serde_json::to_vec(&doc).unwrap()),
        Err(ModelError::Unsupported(_))
    ));
}

#[test]
fn an_xgboost_model_of_the_wrong_width_is_refused() {
    // An xgboost bundle takes the inputs; a combined one the inputs and the anomaly score.
    for (kind, width) in [
        (ModelKind::Xgboost, WIDTH + 1),
        (ModelKind::Xgboost, WIDTH - 1),
        (ModelKind::Combined, WIDTH),
        (ModelKind::Combined, WIDTH + 2),
    ] {
        let mut b = unsealed(kind);
        b.xgboost = xgboost_model(width);
        let want = WIDTH + usize::from(kind == ModelKind::Combined);
        let err = assert_err(
            Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
            &[
                &format!("takes {width} inputs"),
                &format!("needs {want}"),
                kind.name(),
            ],
        );
        assert!(matches!(err, ModelError::Malformed(_)), "{err:?}");
    }
    // No model, or not a model.
    for text in ["", "{}", "not json", "[1, 2]"] {
        let mut b = unsealed(ModelKind::Xgboost);
        b.xgboost = text.to_string();
        assert!(
            Bundle::from_json(&b.seal().unwrap().to_json().unwrap()).is_err(),
            "{text:?}"
        );
    }
    // A model the scorer cannot read is named by its field.
    let mut b = unsealed(ModelKind::Combined);
    b.xgboost = b.xgboost.replace("binary:logistic", "multi:softprob");
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["learner.objective.name"],
    );
}

#[test]
fn a_bundle_without_the_models_its_kind_needs_is_refused() {
    let mut b = unsealed(ModelKind::Combined);
    b.iforest = None;
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["combined bundle without its forest"],
    );
    let mut b = unsealed(ModelKind::Iforest);
    b.iforest = None;
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["iforest bundle without its forest"],
    );
    // A forest of another width.
    let mut b = unsealed(ModelKind::Iforest);
    b.iforest = Some(
        IsolationForest::fit(
            &rows(20)[..40],
            2,
            &Params {
                threads: 1,
                ..Params::default()
            },
        )
        .unwrap(),
    );
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["takes 2 inputs", "gives it 3"],
    );
    // No inputs at all.
    let mut b = unsealed(ModelKind::Iforest);
    b.features.clear();
    b.scaling.clear();
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["no inputs"],
    );
}

fn forest_tree(doc: &mut Value, t: usize) -> &mut Vec<Value> {
    doc["iforest"]["trees"][t]["nodes"].as_array_mut().unwrap()
}

/// The first split node of tree 0 (the root, unless the tree is a lone leaf).
fn first_split(doc: &Value) -> usize {
    doc["iforest"]["trees"][0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|n| n["left"].as_u64() != Some(u64::from(u32::MAX)))
        .unwrap()
}

#[test]
fn a_forest_that_points_outside_its_trees_is_refused() {
    for kind in [ModelKind::Iforest, ModelKind::Combined] {
        let doc = json_of(&sealed(kind));
        let split = first_split(&doc);
        let len = doc["iforest"]["trees"][0]["nodes"]
            .as_array()
            .unwrap()
            .len();
        let cases: Vec<(&str, Value)> = vec![
            ("left", json!(len)),
            ("right", json!(len + 100)),
            ("left", json!(split)),
            ("right", json!(0)),
            ("right", json!(u32::MAX)),
            ("feature", json!(WIDTH)),
            ("feature", json!(u32::MAX - 1)),
        ];
        for (field, value) in cases {
            let result = resealed(kind, |d| {
                forest_tree(d, 0)[split][field] = value.clone();
            });
            let err = assert_err(
                result,
                &[
                    "isolation forest",
                    "tree 0",
                    &format!("node {split}"),
                    "outside",
                ],
            );
            assert!(matches!(err, ModelError::Malformed(_)), "{err:?}");
        }
        // A tree with no node, a forest with no tree, sizes of 0.
        assert_err(
            resealed(kind, |d| forest_tree(d, 1).clear()),
            &["tree 1 has no nodes"],
        );
        assert_err(
            resealed(kind, |d| d["iforest"]["trees"] = json!([])),
            &["0 trees"],
        );
        assert_err(
            resealed(kind, |d| d["iforest"]["sample_size"] = json!(1)),
            &["sample size 1"],
        );
        assert_err(
            resealed(kind, |d| d["iforest"]["width"] = json!(0)),
            &["width 0"],
        );
    }
}

#[test]
fn a_forest_leaf_naming_a_feature_outside_the_row_is_refused() {
    // A leaf's feature is never a split's, but the branch-free walk still reads the row at it:
    // it has to be checked like a split's, or scoring reads outside the row.
    let kind = ModelKind::Iforest;
    let doc = json_of(&sealed(kind));
    let leaf = doc["iforest"]["trees"][0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .position(|n| n["left"].as_u64() == Some(u64::from(u32::MAX)))
        .unwrap();
    let result = resealed(kind, |d| forest_tree(d, 0)[leaf]["feature"] = json!(1000));
    if let Ok(bundle) = &result {
        // Accepted: then scoring must not read outside the row either.
        let scorer = Scorer::new(bundle).unwrap();
        for row in rows(50).chunks(WIDTH) {
            let _ = scorer.score(row);
        }
    }
    assert_err(
        result,
        &["isolation forest", "tree 0", &format!("node {leaf}")],
    );
}

#[test]
fn bad_scales_are_refused() {
    for (mean, std) in [(1.0, 0.0), (1.0, -2.0), (1.0, -0.0)] {
        let mut b = unsealed(ModelKind::Combined);
        b.scaling[1] = Scale { mean, std };
        assert_err(
            Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
            &["scale", &format!("std {std}")],
        );
    }
    // f64::MAX as a std is finite; 1e400 is not a JSON f64.
    let mut doc = json_of(&sealed(ModelKind::Xgboost));
    let text = serde_json::to_string(&doc).unwrap();
    let at = text.find("\"std\":").unwrap() + "\"std\":".len();
    let end = at + text[at..].find('}').unwrap();
    let huge = format!("{}1e400{}", &text[..at], &text[end..]);
    assert!(matches!(
        Bundle::from_json(huge.as_bytes()),
        Err(ModelError::Malformed(_))
    ));
    // One scale too few or too many.
    let mut b = unsealed(ModelKind::Xgboost);
    b.scaling.pop();
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["2 scales for 3 inputs"],
    );
    doc["scaling"]
        .as_array_mut()
        .unwrap()
        .push(json!({"mean": 0.0, "std": 1.0}));
    let b: Bundle = serde_json::from_value(doc).unwrap();
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["4 scales for 3 inputs"],
    );
    // No scaling at all is allowed: the inputs are used as they are.
    let mut b = unsealed(ModelKind::Xgboost);
    b.scaling.clear();
    let b = Bundle::from_json(&b.seal().unwrap().to_json().unwrap()).unwrap();
    let s = Scorer::new(&b).unwrap();
    let r = s.score(&[-0.5, 0.0, 0.0]).unwrap();
    assert!((r.risk - sigmoid(-1.0)).abs() < 1e-6);
}

#[test]
fn review_above_block_is_refused() {
    let mut b = unsealed(ModelKind::Xgboost);
    b.thresholds = Thresholds {
        review: 0.9,
        block: 0.5,
    };
    assert_err(
        Bundle::from_json(&b.seal().unwrap().to_json().unwrap()),
        &["review threshold 0.9", "block threshold 0.5"],
    );
    // Equal thresholds are fine, and so is f64::MAX (a rate of 0: nothing is flagged).
    let mut b = unsealed(ModelKind::Xgboost);
    b.thresholds = Thresholds {
        review: f64::MAX,
        block: f64::MAX,
    };
    let b = b.seal().unwrap();
    assert_eq!(Bundle::from_json(&b.to_json().unwrap()).unwrap(), b);
}

#[test]
fn inputs_are_checked_against_the_running_feature_set() {
    let b = sealed(ModelKind::Combined);
    assert_eq!(b.check_inputs("handbook", FEATURES), Ok(()));
    assert_eq!(
        b.check_inputs(
            "handbook",
            FEATURES
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
        ),
        Ok(())
    );

    // Another order: the first difference is named.
    let swapped = ["amount", "risk_7day", "nb_tx_1day"];
    let err = assert_err(
        b.check_inputs("handbook", swapped),
        &[
            "handbook",
            "differ at input 1",
            "nb_tx_1day",
            "risk_7day",
            &b.version,
        ],
    );
    assert!(matches!(err, ModelError::Unsupported(_)));

    // One input fewer or more: the first missing or extra one is named.
    assert_err(
        b.check_inputs("handbook", ["amount", "nb_tx_1day"]),
        &["3 inputs", "has 2", "differ at input 2", "risk_7day"],
    );
    assert_err(
        b.check_inputs("handbook", ["amount", "nb_tx_1day", "risk_7day", "extra"]),
        &["3 inputs", "has 4", "differ at input 3", "extra"],
    );
    assert_err(
        b.check_inputs("handbook", ["card_amount", "nb_tx_1day", "risk_7day"]),
        &["differ at input 0", "card_amount"],
    );
    assert_err(
        b.check_inputs("handbook", []),
        &["has 0", "differ at input 0"],
    );

    // The same names under another feature set are refused too, naming both sets.
    let err = assert_err(
        b.check_inputs("velocity", FEATURES),
        &["\"handbook\"", "\"velocity\"", "the inputs are the same"],
    );
    assert!(!err.to_string().contains("differ at"), "{err}");
}

#[test]
fn the_scorer_refuses_bad_rows() {
    for kind in ModelKind::ALL {
        let scorer = Scorer::new(&sealed(kind)).unwrap();
        let mut raw = rows(4);
        let mut out = [Risk::default(); 4];
        let mut scratch = Vec::new();
        assert!(scorer.score_batch(&raw, &mut out, &mut scratch).is_ok());

        // Not finite: the row and the feature are named.
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            raw[2 * WIDTH + 1] = bad;
            let err = scorer
                .score_batch(&raw, &mut out, &mut scratch)
                .unwrap_err();
            assert!(
                matches!(err, ModelError::NotFinite { row: 2, feature: 1, value }
                    if value.to_bits() == bad.to_bits()),
                "{kind}: {err:?}"
            );
            let message = err.to_string();
            assert!(
                message.contains("feature 1") && message.contains("row 2"),
                "{message}"
            );
        }
        raw[2 * WIDTH + 1] = 1.0;

        // Rows that do not fill the batch, or a batch of the wrong size.
        for len in [WIDTH * 4 - 1, WIDTH * 4 + 1, WIDTH * 3, WIDTH * 5, 0] {
            let data = rows(5);
            let err = scorer
                .score_batch(&data[..len], &mut out, &mut scratch)
                .unwrap_err();
            assert_eq!(err, ModelError::Shape(4, WIDTH, len), "{kind}");
        }
        assert!(scorer.score(&[1.0, 2.0]).is_err());
        assert!(scorer.score(&[1.0, 2.0, 3.0, 4.0]).is_err());
        assert!(scorer.score(&[]).is_err());
        assert!(matches!(
            scorer.score(&[1.0, f64::NAN, 3.0]),
            Err(ModelError::NotFinite {
                row: 0,
                feature: 1,
                ..
            })
        ));
        // An empty batch is fine.
        assert_eq!(scorer.score_batch(&[], &mut [], &mut scratch), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Flipped bytes anywhere in a bundle: an error (the seal breaks), never a panic.
    #[test]
    fn flipped_bytes_never_panic(
        kind in prop::sample::select(ModelKind::ALL.to_vec()),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
    ) {
        let mut json = sealed(kind).to_json().unwrap();
        for (at, mask) in flips {
            let i = at.index(json.len());
            json[i] ^= mask;
        }
        let _ = Bundle::from_json(&json);
    }

    /// Flipped bytes, then re-sealed whenever the JSON still reads as a bundle, so that the
    /// checks behind the seal are reached: an error or a scorer that scores, never a panic.
    #[test]
    fn flipped_and_resealed_bundles_never_panic(
        kind in prop::sample::select(ModelKind::ALL.to_vec()),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let mut json = sealed(kind).to_json().unwrap();
        for (at, mask) in flips {
            let i = at.index(json.len());
            json[i] ^= mask;
        }
        if let Ok(bundle) = serde_json::from_slice::<Bundle>(&json)
            && let Ok(bundle) = bundle.seal()
            && let Ok(bytes) = bundle.to_json()
            && let Ok(read) = Bundle::from_json(&bytes)
        {
            let scorer = Scorer::new(&read).unwrap();
            let w = scorer.width();
            let data: Vec<f64> = (0..4 * w).map(|k| k as f64 - 3.0).collect();
            let mut out = vec![Risk::default(); 4];
            scorer.score_batch(&data, &mut out, &mut Vec::new()).unwrap();
        }
    }
}
