//! XGBoost's JSON model scored natively: a hand-written model whose answers are worked out by
//! hand, the loader's refusals, and fuzzing (nothing may panic, whatever the bytes).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use fraudwatch_models::gbtree::Objective;
use fraudwatch_models::shap::ShapScratch;
use fraudwatch_models::{GradientBoosted, ModelError};
use proptest::prelude::*;
use serde_json::{Value, json};

const NAN: f64 = f64::NAN;

/// Three trees over three features, laid out as XGBoost does (breadth-first, siblings side by
/// side), with leaf values that add up exactly in f32:
///
/// ```text
/// tree 0:            x0 < 0.5 (missing: left)
///          x1 < 1 (missing: right)     x2 < -1 (missing: right)
///          0.125      -0.25            0.375     0.5
/// tree 1:  x1 < 0 (missing: right)
///          0.25    -0.125
/// tree 2:  x2 < 2 (missing: right)
///          0.0625  x0 < 1.5 (missing: left)
///                  -0.5    0.75
/// ```
fn hand_model(objective: &str, base_score: &str) -> Value {
    json!({
        "learner": {
            "attributes": {},
            "feature_names": [],
            "feature_types": [],
            "gradient_booster": {
                "model": {
                    "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": "3"},
                    "iteration_indptr": [0, 1, 2, 3],
                    "tree_info": [0, 0, 0],
                    "trees": [
                        tree(0, &[
                            (1, 2, 0, 0.5, 1),
                            (3, 4, 1, 1.0, 0),
                            (5, 6, 2, -1.0, 0),
                            (-1, -1, 0, 0.125, 0),
                            (-1, -1, 0, -0.25, 0),
                            (-1, -1, 0, 0.375, 0),
                            (-1, -1, 0, 0.5, 0),
                        ]),
                        tree(1, &[
                            (1, 2, 1, 0.0, 0),
                            (-1, -1, 0, 0.25, 0),
                            (-1, -1, 0, -0.125, 0),
                        ]),
                        tree(2, &[
                            (1, 2, 2, 2.0, 0),
                            (-1, -1, 0, 0.0625, 0),
                            (3, 4, 0, 1.5, 1),
                            (-1, -1, 0, -0.5, 0),
                            (-1, -1, 0, 0.75, 0),
                        ]),
                    ],
                },
                "name": "gbtree",
            },
            "learner_model_param": {
                "base_score": base_score,
                "boost_from_average": "1",
                "num_class": "0",
                "num_feature": "3",
                "num_target": "1",
            },
            "objective": {"name": objective, "reg_loss_param": {"scale_pos_weight": "1"}},
        },
        "version": [3, 2, 0],
    })
}

/// A tree from (left, right, feature, condition, default_left) per node, with the fields XGBoost
/// writes that the scorer does not read.
fn tree(id: usize, nodes: &[(i64, i64, u64, f64, u8)]) -> Value {
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
            "num_feature": "3",
            "num_nodes": n.to_string(),
            "size_leaf_vector": "1",
        },
    })
}

/// Rows and the sum of their leaf values, read off the trees by hand.
fn hand_rows() -> Vec<([f64; 3], f64)> {
    vec![
        // 0.125 (x0 < .5, x1 < 1), -0.125 (x1 ≥ 0), 0.0625 (x2 < 2)
        ([0.0, 0.5, 0.0], 0.0625),
        // missing x0 goes left, -0.25; -0.125; x2 ≥ 2 then missing x0 goes left, -0.5
        ([NAN, 2.0, 3.0], -0.875),
        // 0.375 (x0 ≥ .5, x2 < -1); 0.25; 0.0625
        ([1.0, -1.0, -2.0], 0.6875),
        // missing x2 goes right, 0.5; missing x1 right, -0.125; missing x2 right, x0 ≥ 1.5: 0.75
        ([2.0, NAN, NAN], 1.125),
        // on a threshold goes right: 0.5; -0.125; 0.0625
        ([0.5, 1.0, -1.0], 0.4375),
        // just below a threshold in f64, but equal to it in f32: goes right, as in XGBoost
        ([0.5 - 1e-10, 1.0, -1.0], 0.4375),
        // infinities are values, not missing: -0.25; -0.125; x2 ≥ 2, x0 < 1.5: -0.5
        ([f64::NEG_INFINITY, f64::INFINITY, f64::INFINITY], -0.875),
    ]
}

fn load(model: &Value) -> GradientBoosted {
    GradientBoosted::from_json(model.to_string().as_bytes()).unwrap()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn hand_computed_predictions() {
    let model = load(&hand_model("binary:logistic", "5E-1"));
    assert_eq!(model.width(), 3);
    assert_eq!(model.trees(), 3);
    assert_eq!(model.objective(), Objective::BinaryLogistic);
    assert_eq!(model.base_margin(), 0.0, "logit(0.5)");
    for (row, sum) in hand_rows() {
        assert_eq!(model.margin(&row).unwrap(), sum, "{row:?}");
        let p = model.predict(&row).unwrap();
        assert!((p - sigmoid(sum)).abs() < 1e-6, "{row:?}: {p}");
    }
}

#[test]
fn base_score_as_a_number_or_a_vector() {
    for base in ["2.5E-1", "[2.5E-1]", "0.25", "[ 0.25 ]"] {
        let raw = load(&hand_model("reg:squarederror", base));
        let logitraw = load(&hand_model("binary:logitraw", base));
        let logistic = load(&hand_model("binary:logistic", base));
        let reg_logistic = load(&hand_model("reg:logistic", base));
        let logit = -(3f64.ln());
        assert!((logistic.base_margin() - logit).abs() < 1e-6, "{base}");
        for (row, sum) in hand_rows() {
            // 0.25 and the leaves are dyadic: the f32 sums are exact.
            assert_eq!(raw.predict(&row).unwrap(), 0.25 + sum);
            assert_eq!(raw.margin(&row).unwrap(), 0.25 + sum);
            assert_eq!(logitraw.predict(&row).unwrap(), 0.25 + sum);
            let m = logistic.margin(&row).unwrap();
            assert!((m - (logit + sum)).abs() < 1e-6, "{base} {row:?}: {m}");
            let p = logistic.predict(&row).unwrap();
            assert!(
                (p - sigmoid(logit + sum)).abs() < 1e-6,
                "{base} {row:?}: {p}"
            );
            assert_eq!(reg_logistic.predict(&row).unwrap(), p);
        }
    }
}

#[test]
fn default_left_may_be_booleans_and_extra_fields_are_ignored() {
    let plain = load(&hand_model("binary:logistic", "5E-1"));
    let mut model = hand_model("binary:logistic", "5E-1");
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]
        .as_array_mut()
        .unwrap()
    {
        let bools: Vec<bool> = tree["default_left"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64() == Some(1))
            .collect();
        tree["default_left"] = json!(bools);
        tree["future_field"] = json!({"nested": [1, 2, {"x": null}]});
        tree.as_object_mut().unwrap().remove("split_type");
        tree.as_object_mut().unwrap().remove("base_weights");
    }
    model["learner"]["some_new_section"] = json!([1, "two", 3.0]);
    model["learner"]["gradient_booster"]["model"]["cats"] =
        json!({"enc": [], "feature_segments": [], "sorted_idx": []});
    model["learner"]["learner_model_param"]["new_param"] = json!("7");
    model["extra"] = json!(null);
    let loaded = load(&model);
    assert_eq!(loaded, plain);
    for (row, sum) in hand_rows() {
        assert_eq!(loaded.margin(&row).unwrap(), sum);
    }
}

#[test]
fn no_tree_means_the_base_margin() {
    let mut model = hand_model("binary:logistic", "[2.5E-1]");
    let gb = &mut model["learner"]["gradient_booster"]["model"];
    gb["trees"] = json!([]);
    gb["tree_info"] = json!([]);
    gb["gbtree_model_param"]["num_trees"] = json!("0");
    model["learner"]["learner_model_param"]["boost_from_average"] = json!("0");
    let fitted = load(&model);
    assert_eq!(fitted.trees(), 0);
    let p = fitted.predict(&[1.0, 2.0, 3.0]).unwrap();
    assert!((p - 0.25).abs() < 1e-6, "{p}");
    // XGBoost's quirk: with no tree and boost_from_average on, the model counts as unfitted and
    // base_score is taken as the margin itself (XGBoost 3.2 predicts sigmoid(0.5) for "[5E-1]").
    model["learner"]["learner_model_param"]["boost_from_average"] = json!("1");
    let unfitted = load(&model);
    assert_eq!(unfitted.margin(&[1.0, 2.0, 3.0]).unwrap(), 0.25);
    let mut out = [0.0; 3];
    unfitted.predict_batch(&[0.0; 9], &mut out).unwrap();
    assert_eq!(out, [unfitted.predict(&[0.0; 3]).unwrap(); 3]);
}

#[test]
fn dart_weights_scale_the_trees() {
    let mut model = hand_model("reg:squarederror", "0");
    let booster = model["learner"]["gradient_booster"].take();
    model["learner"]["gradient_booster"] = json!({
        "gbtree": booster,
        "name": "dart",
        "weight_drop": [0.5, 2.0, 1.0],
    });
    let dart = load(&model);
    // Row 0: leaves 0.125, -0.125, 0.0625.
    assert_eq!(
        dart.margin(&[0.0, 0.5, 0.0]).unwrap(),
        0.5 * 0.125 - 2.0 * 0.125 + 0.0625
    );
    model["learner"]["gradient_booster"]["weight_drop"] = json!([0.5, 2.0]);
    let err = GradientBoosted::from_json(model.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("2 weights for 3 trees"), "{err}");
}

#[test]
fn unreachable_nodes_are_ignored() {
    // XGBoost keeps pruned nodes in the arrays, with split index 2^31 - 1.
    let mut model = hand_model("reg:squarederror", "0");
    model["learner"]["gradient_booster"]["model"]["trees"][1] = tree(
        1,
        &[
            (1, 2, 1, 0.0, 0),
            (-1, -1, 0, 0.25, 0),
            (-1, -1, 0, -0.125, 0),
            (-1, -1, 2_147_483_647, 7.0, 0),
        ],
    );
    let loaded = load(&model);
    for (row, sum) in hand_rows() {
        assert_eq!(loaded.margin(&row).unwrap(), sum);
    }
}

#[test]
fn width_mismatches_are_errors() {
    let model = load(&hand_model("binary:logistic", "5E-1"));
    assert_eq!(
        model.predict(&[1.0, 2.0]),
        Err(ModelError::Width { got: 2, want: 3 })
    );
    assert_eq!(
        model.margin(&[1.0, 2.0, 3.0, 4.0]),
        Err(ModelError::Width { got: 4, want: 3 })
    );
    let mut out = [0.0; 2];
    assert_eq!(
        model.predict_batch(&[0.0; 7], &mut out),
        Err(ModelError::Shape(2, 3, 7))
    );
    assert!(model.margin_batch(&[0.0; 9], &mut out).is_err());
    let mut none: [f64; 0] = [];
    assert_eq!(model.predict_batch(&[], &mut none), Ok(()));
}

/// Loads `model` after `edit`, expecting an error whose message contains `needle`.
fn refused(edit: impl FnOnce(&mut Value), needle: &str) -> ModelError {
    let mut model = hand_model("binary:logistic", "5E-1");
    edit(&mut model);
    let err = GradientBoosted::from_json(model.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains(needle), "{err} lacks {needle:?}");
    err
}

fn trees(model: &mut Value) -> &mut Value {
    &mut model["learner"]["gradient_booster"]["model"]["trees"]
}

#[test]
fn malformed_models_are_refused_by_field() {
    let t = "learner.gradient_booster.model.trees";
    refused(
        |m| trees(m)[2]["left_children"][2] = json!(99),
        &format!("{t}[2].left_children[2] = 99 is out of range: the tree has 5 nodes"),
    );
    refused(
        |m| trees(m)[0]["right_children"][1] = json!(-7),
        &format!("{t}[0].right_children[1] = -7 is out of range"),
    );
    refused(
        |m| trees(m)[0]["right_children"][2] = json!(-1),
        &format!("{t}[0].right_children[2] = -1 but left_children[2] = 5"),
    );
    // A cycle back to the root, and two parents sharing a child.
    refused(
        |m| trees(m)[0]["left_children"][1] = json!(0),
        &format!("{t}[0].left_children[1] = 0: node 0 is reached twice"),
    );
    refused(
        |m| {
            trees(m)[0]["left_children"][2] = json!(3);
            trees(m)[0]["right_children"][2] = json!(4);
        },
        "is reached twice",
    );
    refused(
        |m| trees(m)[1]["split_indices"][0] = json!(3),
        &format!("{t}[1].split_indices[0] = 3 is out of range: num_feature = 3"),
    );
    refused(
        |m| trees(m)[1]["split_indices"][0] = json!(-1),
        &format!("{t}[1].split_indices[0] = -1 is not a feature index"),
    );
    refused(
        |m| trees(m)[1]["split_conditions"][1] = json!("0.5"),
        &format!("{t}[1].split_conditions[1] = \"0.5\" is not a number"),
    );
    refused(
        |m| trees(m)[1]["split_conditions"][1] = json!(1e300),
        &format!("{t}[1].split_conditions[1] = 1e+300 is out of the f32 range"),
    );
    refused(
        |m| trees(m)[1]["default_left"][0] = json!(2),
        &format!("{t}[1].default_left[0] = 2 is not 0, 1, true or false"),
    );
    refused(
        |m| trees(m)[1]["left_children"][0] = json!(1.5),
        &format!("{t}[1].left_children[0] = 1.5 is not a node index"),
    );
    refused(
        |m| {
            trees(m)[1]["split_conditions"]
                .as_array_mut()
                .unwrap()
                .pop();
        },
        &format!("{t}[1].split_conditions has 2 entries but {t}[1].left_children has 3"),
    );
    refused(
        |m| trees(m)[1]["tree_param"]["num_nodes"] = json!("4"),
        &format!("{t}[1].tree_param.num_nodes = 4 but"),
    );
    refused(
        |m| {
            trees(m)[1]
                .as_object_mut()
                .unwrap()
                .remove("right_children");
        },
        &format!("{t}[1].right_children is missing"),
    );
    refused(
        |m| trees(m)[1]["left_children"] = json!([]),
        "a tree has at least one node",
    );
    refused(
        |m| trees(m)[1]["left_children"] = json!({"0": 1}),
        &format!("{t}[1].left_children = an object is not an array"),
    );
    refused(
        |m| trees(m)[1] = json!([1, 2]),
        &format!("{t}[1] is an array, not an object"),
    );
    refused(|m| trees(m)[1]["id"] = json!(5), &format!("{t}[1].id = 5"));
    refused(
        |m| m["learner"]["gradient_booster"]["model"]["tree_info"] = json!([0, 0]),
        "tree_info has 2 entries for 3 trees",
    );
    refused(
        |m| {
            m["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] =
                json!("4")
        },
        "num_trees = 4 but",
    );
    refused(
        |m| m["learner"]["learner_model_param"]["num_feature"] = json!(3),
        "learner.learner_model_param.num_feature = 3 is not a string",
    );
    refused(
        |m| m["learner"]["learner_model_param"]["num_feature"] = json!("three"),
        "num_feature = \"three\" is not a non-negative integer",
    );
    refused(
        |m| m["learner"]["learner_model_param"]["base_score"] = json!("[0.5"),
        "base_score = \"[0.5\" is not a finite number",
    );
    refused(
        |m| m["learner"]["learner_model_param"]["base_score"] = json!("1.5"),
        "must be in [0, 1] for binary:logistic",
    );
    refused(
        |m| {
            m["learner"]
                .as_object_mut()
                .unwrap()
                .remove("learner_model_param");
        },
        "learner.learner_model_param is missing",
    );
    refused(
        |m| *m = json!([]),
        "the document is an array, not an object",
    );
    let err = GradientBoosted::from_json(b"{\"learner\": ").unwrap_err();
    assert!(
        matches!(&err, ModelError::Malformed(m) if m.contains("not valid JSON")),
        "{err}"
    );
}

#[test]
fn unsupported_models_are_refused_clearly() {
    let err = refused(
        |m| trees(m)[0]["split_type"][2] = json!(1),
        "trees[0].split_type[2] = 1: categorical splits are not scored",
    );
    assert!(matches!(err, ModelError::Unsupported(_)));
    refused(
        |m| m["learner"]["objective"]["name"] = json!("multi:softprob"),
        "learner.objective.name = \"multi:softprob\": only binary:logistic",
    );
    refused(
        |m| m["learner"]["learner_model_param"]["num_class"] = json!("3"),
        "num_class = 3: only models with one output",
    );
    refused(
        |m| m["learner"]["learner_model_param"]["base_score"] = json!("[0.5,0.5]"),
        "holds 2 values",
    );
    refused(
        |m| m["learner"]["gradient_booster"]["model"]["tree_info"] = json!([0, 1, 0]),
        "tree_info[1] = 1: only models with one output group",
    );
    refused(
        |m| m["learner"]["gradient_booster"]["name"] = json!("gblinear"),
        "learner.gradient_booster.name = \"gblinear\": only gbtree and dart",
    );
    refused(
        |m| trees(m)[0]["tree_param"]["size_leaf_vector"] = json!("2"),
        "multi-target trees are not scored",
    );
}

/// A seeded model of `trees` full trees of `depth` over `width` features, in XGBoost's layout.
fn synthetic(trees: usize, depth: u32, width: usize, seed: u64) -> Value {
    let mut state = seed | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let splits = (1usize << depth) - 1;
    let all: Vec<Value> = (0..trees)
        .map(|id| {
            let nodes: Vec<(i64, i64, u64, f64, u8)> = (0..2 * splits + 1)
                .map(|i| {
                    if i < splits {
                        let f = (uniform() * width as f64) as u64;
                        let dl = u8::from(uniform() < 0.5);
                        (
                            2 * i as i64 + 1,
                            2 * i as i64 + 2,
                            f,
                            uniform() * 4.0 - 2.0,
                            dl,
                        )
                    } else {
                        (-1, -1, 0, uniform() * 0.2 - 0.1, 0)
                    }
                })
                .collect();
            tree(id, &nodes)
        })
        .collect();
    let mut model = hand_model("binary:logistic", "[3.8775E-1]");
    model["learner"]["learner_model_param"]["num_feature"] = json!(width.to_string());
    let gb = &mut model["learner"]["gradient_booster"]["model"];
    gb["tree_info"] = json!(vec![0; trees]);
    gb["gbtree_model_param"]["num_trees"] = json!(trees.to_string());
    gb["trees"] = Value::Array(all);
    model
}

/// `tree` with the given covers (`sum_hessian`) instead of all ones.
fn covered(mut tree: Value, covers: &[f64]) -> Value {
    assert_eq!(
        tree["left_children"].as_array().unwrap().len(),
        covers.len()
    );
    tree["sum_hessian"] = json!(covers);
    tree
}

/// A `binary:logistic` model over three features (base margin 0) made of `trees`.
fn model_of(trees: Vec<Value>) -> GradientBoosted {
    let mut model = hand_model("binary:logistic", "5E-1");
    let n = trees.len();
    let gb = &mut model["learner"]["gradient_booster"]["model"];
    gb["tree_info"] = json!(vec![0; n]);
    gb["gbtree_model_param"]["num_trees"] = json!(n.to_string());
    gb["trees"] = Value::Array(trees);
    load(&model)
}

fn contributions(model: &GradientBoosted, row: &[f64]) -> Vec<f64> {
    let mut out = vec![f64::NAN; model.width() + 1];
    model.contributions(row, &mut out).unwrap();
    out
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{what}: {got:?} vs {want:?}");
    }
}

#[test]
fn one_split_contributes_its_leaf_minus_the_expected_value() {
    // x0 < 0.5 (missing: left), cover 4 = 3 left + 1 right, leaves 1 and -1: the expected value
    // is (3 × 1 + 1 × -1) / 4 = 0.5, the bias 0 + 0.5; features 1 and 2 are never split on.
    let model = model_of(vec![covered(
        tree(
            0,
            &[(1, 2, 0, 0.5, 1), (-1, -1, 0, 1.0, 0), (-1, -1, 0, -1.0, 0)],
        ),
        &[4.0, 3.0, 1.0],
    )]);
    assert_eq!(
        contributions(&model, &[0.0, 7.0, 7.0]),
        [0.5, 0.0, 0.0, 0.5]
    );
    assert_eq!(
        contributions(&model, &[1.0, 7.0, 7.0]),
        [-1.5, 0.0, 0.0, 0.5]
    );
    assert_eq!(
        contributions(&model, &[NAN, NAN, NAN]),
        [0.5, 0.0, 0.0, 0.5]
    );
}

#[test]
fn two_features_on_a_path_share_by_shapley() {
    //            x0 < 0 (cover 10)
    //     x1 < 0 (cover 6)        4 (cover 4)
    //   1 (cover 2)  2 (cover 4)
    // v(S), the expected output knowing the features in S: v(∅) = 0.6 × 5/3 + 0.4 × 4 = 2.6.
    let model = model_of(vec![covered(
        tree(
            0,
            &[
                (1, 2, 0, 0.0, 0),
                (3, 4, 1, 0.0, 0),
                (-1, -1, 0, 4.0, 0),
                (-1, -1, 0, 1.0, 0),
                (-1, -1, 0, 2.0, 0),
            ],
        ),
        &[10.0, 6.0, 4.0, 2.0, 4.0],
    )]);
    // Row (-1, 1): v{0} = 5/3, v{1} = 0.6 × 2 + 0.4 × 4 = 2.8, v{0,1} = 2.
    // φ0 = ½ (v{0} − v∅ + v{0,1} − v{1}) = -13/15, φ1 = ½ (v{1} − v∅ + v{0,1} − v{0}) = 4/15.
    assert_close(
        &contributions(&model, &[-1.0, 1.0, 0.0]),
        &[-13.0 / 15.0, 4.0 / 15.0, 0.0, 2.6],
        "row (-1, 1)",
    );
    // Row (1, missing → right): v{0} = 4, v{1} = 2.8, v{0,1} = 4: φ0 = 1.3, φ1 = 0.1; x1 is
    // credited although the row never meets its split, since knowing it moves the expectation.
    assert_close(
        &contributions(&model, &[1.0, NAN, 0.0]),
        &[1.3, 0.1, 0.0, 2.6],
        "row (1, NaN)",
    );
}

#[test]
fn a_feature_split_on_twice_counts_once() {
    //     x0 < 0 (cover 8)
    //  0 (cover 4)    x0 < 1 (cover 4)
    //               1 (cover 1)  2 (cover 3)
    // Expected value (0 × 4 + 1 × 1 + 2 × 3) / 8 = 7/8; the only feature takes all the rest.
    let model = model_of(vec![covered(
        tree(
            0,
            &[
                (1, 2, 0, 0.0, 0),
                (-1, -1, 0, 0.0, 0),
                (3, 4, 0, 1.0, 0),
                (-1, -1, 0, 1.0, 0),
                (-1, -1, 0, 2.0, 0),
            ],
        ),
        &[8.0, 4.0, 4.0, 1.0, 3.0],
    )]);
    for (x0, leaf) in [(-1.0, 0.0), (0.5, 1.0), (2.0, 2.0)] {
        assert_eq!(
            contributions(&model, &[x0, 0.0, 0.0]),
            [leaf - 0.875, 0.0, 0.0, 0.875],
            "x0 = {x0}"
        );
    }
}

#[test]
fn covers_without_hessian_split_evenly_and_negative_ones_are_refused() {
    let leaves = [(1, 2, 0, 0.5, 0), (-1, -1, 0, 1.0, 0), (-1, -1, 0, -1.0, 0)];
    // No cover: XGBoost's even split, so the expected value is 0.
    let model = model_of(vec![covered(tree(0, &leaves), &[0.0, 0.0, 0.0])]);
    assert_eq!(
        contributions(&model, &[0.0, 0.0, 0.0]),
        [1.0, 0.0, 0.0, 0.0]
    );
    // A child without cover keeps a tiny share: the expected value is the other leaf's.
    let model = model_of(vec![covered(tree(0, &leaves), &[2.0, 2.0, 0.0])]);
    let c = contributions(&model, &[1.0, 0.0, 0.0]);
    assert!((c[0] + 2.0).abs() < 1e-9 && c[3] == 1.0, "{c:?}");
    // A negative cover: XGBoost refuses SHAP, and so does this; scoring is unaffected.
    let model = model_of(vec![covered(tree(0, &leaves), &[2.0, -1.0, 3.0])]);
    assert_eq!(model.margin(&[0.0, 0.0, 0.0]).unwrap(), 1.0);
    let mut out = [0.0; 4];
    let err = model.contributions(&[0.0; 3], &mut out).unwrap_err();
    assert!(
        matches!(&err, ModelError::Unsupported(m) if m.contains("trees[0].sum_hessian[1] = -1")),
        "{err}"
    );
    // The cover is required, as XGBoost requires it, and must be a finite number.
    refused(
        |m| {
            trees(m)[1].as_object_mut().unwrap().remove("sum_hessian");
        },
        "learner.gradient_booster.model.trees[1].sum_hessian is missing",
    );
    refused(
        |m| trees(m)[1]["sum_hessian"][2] = json!("1"),
        "trees[1].sum_hessian[2] = \"1\" is not a number",
    );
}

#[test]
fn contribution_shapes_are_checked() {
    let model = load(&hand_model("binary:logistic", "5E-1"));
    let mut out = [0.0; 4];
    assert_eq!(
        model.contributions(&[1.0, 2.0], &mut out),
        Err(ModelError::Width { got: 2, want: 3 })
    );
    let mut short = [0.0; 3];
    assert!(matches!(
        model.contributions(&[1.0, 2.0, 3.0], &mut short),
        Err(ModelError::Param { .. })
    ));
    let mut scratch = model.shap_scratch();
    assert_eq!(
        model.top_reasons(&[1.0; 4], 2, &mut scratch),
        Err(ModelError::Width { got: 4, want: 3 })
    );
    // A scratch grown for another model works, and so does an empty one.
    let deep = load(&synthetic(3, 7, 6, 1));
    let mut big = deep.shap_scratch();
    let mut fresh = ShapScratch::default();
    let mut a = [0.0; 4];
    let mut b = [0.0; 4];
    model
        .contributions_with(&[0.0, 0.5, 0.0], &mut a, &mut big)
        .unwrap();
    model
        .contributions_with(&[0.0, 0.5, 0.0], &mut b, &mut fresh)
        .unwrap();
    assert_eq!(a, b);
    let mut wide = [0.0; 7];
    deep.contributions_with(&[0.1; 6], &mut wide, &mut fresh)
        .unwrap();
}

#[test]
fn the_hand_model_contributions_add_up_to_its_margin() {
    // All covers 1 in the hand model: each split counts both children in full, so the game is
    // not an expectation, but TreeSHAP's values still add up (the leaves are dyadic: exactly).
    for objective in ["binary:logistic", "reg:squarederror"] {
        let model = load(&hand_model(objective, "2.5E-1"));
        for (row, _) in hand_rows() {
            let c = contributions(&model, &row);
            let sum: f64 = c.iter().sum();
            let margin = model.margin(&row).unwrap();
            assert!(
                (sum - margin).abs() < 1e-6,
                "{objective} {row:?}: {sum} vs {margin}"
            );
        }
    }
}

#[test]
fn dart_weights_scale_the_contributions() {
    let mut model = hand_model("reg:squarederror", "0");
    let plain = load(&model);
    let booster = model["learner"]["gradient_booster"].take();
    model["learner"]["gradient_booster"] = json!({
        "gbtree": booster,
        "name": "dart",
        "weight_drop": [2.0, 2.0, 2.0],
    });
    let dart = load(&model);
    for (row, _) in hand_rows() {
        let doubled: Vec<f64> = contributions(&plain, &row)
            .iter()
            .map(|c| 2.0 * c)
            .collect();
        assert_eq!(contributions(&dart, &row), doubled, "{row:?}");
    }
}

#[test]
fn top_reasons_are_the_largest_positive_contributions() {
    // Three one-split trees of expected value 0 (even covers): leaves ±1 on x0, ±2 on x1, ±1 on
    // x2; a row below each threshold gets +1, +2, +1.
    let split = |id: usize, feature: u64, leaf: f64| {
        covered(
            tree(
                id,
                &[
                    (1, 2, feature, 0.0, 0),
                    (-1, -1, 0, leaf, 0),
                    (-1, -1, 0, -leaf, 0),
                ],
            ),
            &[2.0, 1.0, 1.0],
        )
    };
    let model = model_of(vec![split(0, 0, 1.0), split(1, 1, 2.0), split(2, 2, 1.0)]);
    let mut scratch = model.shap_scratch();
    let mut top = |row: [f64; 3], k| model.top_reasons(&row, k, &mut scratch).unwrap();
    let all = [(1, 2.0), (0, 1.0), (2, 1.0)];
    assert_eq!(top([-1.0; 3], 5), all);
    assert_eq!(top([-1.0; 3], 3), all);
    assert_eq!(top([-1.0; 3], 2), all[..2]);
    assert_eq!(top([-1.0; 3], 0), []);
    // x1 above its threshold pushes toward 0 (−2): not a reason. Ties go by feature index.
    assert_eq!(top([-1.0, 1.0, -1.0], 2), [(0, 1.0), (2, 1.0)]);
    assert_eq!(top([-1.0, 1.0, -1.0], 1), [(0, 1.0)]);
    assert_eq!(top([1.0, 1.0, 1.0], 3), []);
}

/// The path-dependent game of one tree, straight from its JSON: the expected output when the
/// features in `known` (a bit set) are known, the others averaged out by cover.
fn game(tree: &Value, node: usize, row: &[f64], known: u32) -> f64 {
    let at = |key: &str| &tree[key][node];
    let left = at("left_children").as_i64().unwrap();
    if left < 0 {
        return at("split_conditions").as_f64().unwrap() as f32 as f64;
    }
    let (left, right) = (
        left as usize,
        at("right_children").as_u64().unwrap() as usize,
    );
    let feature = at("split_indices").as_u64().unwrap() as usize;
    if known & (1 << feature) != 0 {
        let x = row[feature] as f32;
        let threshold = at("split_conditions").as_f64().unwrap() as f32;
        let goes_left = if x.is_nan() {
            at("default_left").as_u64().unwrap() == 1
        } else {
            x < threshold
        };
        game(tree, if goes_left { left } else { right }, row, known)
    } else {
        let cover = |i: usize| tree["sum_hessian"][i].as_f64().unwrap();
        (game(tree, left, row, known) * cover(left) + game(tree, right, row, known) * cover(right))
            / cover(node)
    }
}

/// Shapley values by enumerating every subset of the `width` features.
fn brute_force_shapley(trees: &[Value], row: &[f64], width: usize) -> Vec<f64> {
    let v = |known: u32| -> f64 { trees.iter().map(|t| game(t, 0, row, known)).sum() };
    let factorial = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let mut phi = vec![0.0; width];
    for (i, p) in phi.iter_mut().enumerate() {
        for s in 0u32..(1 << width) {
            if s & (1 << i) == 0 {
                let size = s.count_ones() as usize;
                let weight = factorial(size) * factorial(width - size - 1) / factorial(width);
                *p += weight * (v(s | (1 << i)) - v(s));
            }
        }
    }
    phi
}

/// [`synthetic`] with consistent covers: small integers at the leaves, sums at the splits.
fn synthetic_covered(trees: usize, depth: u32, width: usize, seed: u64) -> Value {
    let mut model = synthetic(trees, depth, width, seed);
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]
        .as_array_mut()
        .unwrap()
    {
        let n = tree["left_children"].as_array().unwrap().len();
        let mut cover = vec![0.0; n];
        for i in (0..n).rev() {
            let left = tree["left_children"][i].as_i64().unwrap();
            cover[i] = if left < 0 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (1 + state % 8) as f64
            } else {
                cover[left as usize] + cover[left as usize + 1]
            };
        }
        tree["sum_hessian"] = json!(cover);
    }
    model
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tree_shap_equals_brute_force_shapley(
        row in proptest::collection::vec(prop_oneof![6 => -2.5f64..2.5, 1 => Just(NAN)], 5),
    ) {
        // Depth 5 over 5 features: most paths split on a feature more than once.
        let json = synthetic_covered(8, 5, 5, 17);
        let model = load(&json);
        let trees = json["learner"]["gradient_booster"]["model"]["trees"].as_array().unwrap();
        let want = brute_force_shapley(trees, &row, 5);
        let expected: f64 = trees.iter().map(|t| game(t, 0, &row, 0)).sum();
        let got = contributions(&model, &row);
        for j in 0..5 {
            prop_assert!((got[j] - want[j]).abs() < 1e-9, "{j}: {got:?} vs {want:?}");
        }
        prop_assert!((got[5] - model.base_margin() - expected).abs() < 1e-9);
        // Local accuracy: they add up to the margin (summed in f32 by the scorer).
        let sum: f64 = got.iter().sum();
        prop_assert!((sum - model.margin(&row).unwrap()).abs() < 1e-5);
    }
}

/// The spans of the number tokens in a JSON text.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            i += 1;
        } else if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
            {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Whatever loads must also score without panicking.
fn score_if_loaded(bytes: &[u8]) {
    if let Ok(model) = GradientBoosted::from_json(bytes) {
        let w = model.width().min(64);
        if model.width() == w {
            let mut scratch = ShapScratch::default();
            let mut contributions = vec![0.0; w + 1];
            for row in [vec![0.0; w], vec![NAN; w], vec![1e30; w], vec![-1.0; w]] {
                let _ = model.predict(&row).unwrap();
                let _ = model.margin(&row).unwrap();
                // Refused only for a negative cover.
                match model.contributions_with(&row, &mut contributions, &mut scratch) {
                    Ok(()) | Err(ModelError::Unsupported(_)) => {}
                    Err(e) => panic!("{e}"),
                }
                let _ = model.top_reasons(&row, 3, &mut scratch);
            }
            let rows = vec![0.5; 3 * w];
            let mut out = [0.0; 3];
            model.predict_batch(&rows, &mut out).unwrap();
        }
    }
}

const REPLACEMENTS: &[&str] = &[
    "-1",
    "0",
    "1",
    "2",
    "3",
    "-2",
    "99",
    "1.5",
    "-0.0",
    "1e39",
    "-1e400",
    "2147483647",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "9223372036854775807",
    "true",
    "null",
    "\"1\"",
    "[]",
    "{}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn batch_equals_single_rows(
        values in proptest::collection::vec(prop_oneof![8 => -3.0f64..3.0, 1 => Just(NAN)], 0..(6 * 150)),
    ) {
        let model = load(&synthetic(12, 4, 6, 99));
        let n = values.len() / 6;
        let rows = &values[..n * 6];
        let mut out = vec![0.0; n];
        let mut margins = vec![0.0; n];
        model.predict_batch(rows, &mut out).unwrap();
        model.margin_batch(rows, &mut margins).unwrap();
        for (k, row) in rows.chunks_exact(6).enumerate() {
            prop_assert_eq!(out[k].to_bits(), model.predict(row).unwrap().to_bits());
            prop_assert_eq!(margins[k].to_bits(), model.margin(row).unwrap().to_bits());
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        score_if_loaded(&bytes);
    }

    #[test]
    fn truncations_never_panic(cut in 0.0f64..1.0) {
        let text = hand_model("binary:logistic", "5E-1").to_string();
        let at = (cut * text.len() as f64) as usize;
        let err = GradientBoosted::from_json(&text.as_bytes()[..at]);
        prop_assert!(err.is_err());
    }

    #[test]
    fn number_mutations_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..REPLACEMENTS.len()), 1..4),
        small in any::<bool>(),
    ) {
        let text = if small {
            hand_model("binary:logistic", "5E-1").to_string()
        } else {
            synthetic(2, 3, 4, 5).to_string()
        };
        let spans = numbers(&text);
        let mut spans: Vec<_> = edits
            .iter()
            .map(|(at, r)| (spans[at.index(spans.len())], REPLACEMENTS[*r]))
            .collect();
        spans.sort_by_key(|s| std::cmp::Reverse(s.0.0));
        spans.dedup_by_key(|s| s.0);
        let mut text = text;
        for ((start, end), with) in spans {
            text.replace_range(start..end, with);
        }
        score_if_loaded(text.as_bytes());
    }

    #[test]
    fn byte_flips_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = hand_model("binary:logistic", "5E-1").to_string().into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        score_if_loaded(&bytes);
    }
}
