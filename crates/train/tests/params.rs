//! Hyper-parameter files: the shipped ones parse to what their comments say, and a typo or a bad
//! value is refused with a message naming the key or the value, never trained with a default.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use fraudwatch_core::engine::FeatureSet;
use fraudwatch_models::ModelKind;
use fraudwatch_train::{TrainError, TrainParams};

const DEFAULT: &str = include_str!("../../../config/models/default.toml");
const BASELINE: &str = include_str!("../../../config/models/handbook-baseline.toml");
const IFOREST: &str = include_str!("../../../config/models/handbook-iforest.toml");
const PREQUENTIAL: &str = include_str!("../../../config/models/handbook-prequential.toml");

/// A small valid file to edit.
const MINIMAL: &str = r#"
feature_set = "handbook"
model = "combined"

[xgboost]
rounds = 10

[xgboost.params]
max_depth = 3
eta = 0.1
objective = "binary:logistic"
"#;

fn refused(text: &str) -> String {
    match TrainParams::from_toml(text) {
        Err(TrainError::Params(m)) => m,
        Err(other) => panic!("refused, but not as a parameter error: {other}"),
        Ok(p) => panic!("accepted:\n{text}\nas {p:?}"),
    }
}

/// Asserts that `text` is refused with a message containing every one of `names`.
fn refused_naming(text: &str, names: &[&str]) {
    let m = refused(text);
    for name in names {
        assert!(
            m.contains(name),
            "{name:?} is not named in {m:?}\nfor:\n{text}"
        );
    }
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn shipped_files_parse() {
    let default = TrainParams::from_toml(DEFAULT).unwrap();
    assert_eq!(default.feature_set, FeatureSet::Risk);
    assert_eq!(default.model, ModelKind::Xgboost);
    assert_eq!(default.iforest.features.len(), 4);
    assert!(default.standardise);
    assert_eq!(default.reference_rows, 2000);
    assert_eq!(default.xgboost.rounds, 100);
    assert_eq!(default.iforest.trees, 100);
    assert_eq!(default.iforest.sample_size, 256);
    assert_eq!(default.iforest.seed, 42);
    assert_eq!(default.policy.review_rate, 0.01);
    assert_eq!(default.policy.block_rate, 0.002);
    let xp = default.xgboost_params();
    assert_eq!(param(&xp, "max_depth"), Some("3"));
    assert_eq!(param(&xp, "eta"), Some("0.1"));
    assert_eq!(param(&xp, "tree_method"), Some("exact"));
    assert_eq!(param(&xp, "base_score"), Some("0.5"));
    assert_eq!(param(&xp, "eval_metric"), Some("aucpr"));

    let baseline = TrainParams::from_toml(BASELINE).unwrap();
    assert_eq!(baseline.feature_set, FeatureSet::Handbook);
    assert_eq!(baseline.model, ModelKind::Xgboost);
    assert!(baseline.standardise);
    assert_eq!(baseline.xgboost.rounds, 100);
    let xp = baseline.xgboost_params();
    assert_eq!(param(&xp, "eta"), Some("0.3"));
    assert_eq!(param(&xp, "max_depth"), Some("6"));
    assert_eq!(param(&xp, "objective"), Some("binary:logistic"));

    let iforest = TrainParams::from_toml(IFOREST).unwrap();
    assert_eq!(iforest.feature_set, FeatureSet::Handbook);
    assert_eq!(iforest.model, ModelKind::Iforest);
    assert_eq!(iforest.iforest.trees, 100);
    assert_eq!(iforest.iforest.sample_size, 256);

    let prequential = TrainParams::from_toml(PREQUENTIAL).unwrap();
    assert_eq!(prequential.model, ModelKind::Xgboost);
    let xp = prequential.xgboost_params();
    assert_eq!(param(&xp, "eta"), Some("0.1"));
    assert_eq!(param(&xp, "max_depth"), Some("3"));

    // Defaults where a file is silent.
    let minimal = TrainParams::from_toml(MINIMAL).unwrap();
    assert!(!minimal.standardise);
    assert_eq!(minimal.reference_rows, 2000);
    assert_eq!(minimal.xgboost.early_stopping_rounds, 0);
    assert_eq!(minimal.xgboost.validation_days, 0);
    assert_eq!(
        (minimal.iforest.trees, minimal.iforest.sample_size),
        (100, 256)
    );
}

#[test]
fn flattened_names_every_setting() {
    let p = TrainParams::from_toml(DEFAULT).unwrap();
    let flat = p.flattened();
    let get = |k: &str| flat.get(k).map(String::as_str);
    assert_eq!(get("xgboost.params.max_depth"), Some("3"));
    assert_eq!(get("xgboost.params.objective"), Some("binary:logistic"));
    assert_eq!(get("xgboost.params.eta"), Some("0.1"));
    assert_eq!(get("xgboost.rounds"), Some("100"));
    assert_eq!(get("xgboost.validation_days"), Some("0"));
    assert_eq!(get("iforest.trees"), Some("100"));
    assert_eq!(get("iforest.seed"), Some("42"));
    assert_eq!(get("policy.review_rate"), Some("0.01"));
    assert_eq!(get("policy.block_rate"), Some("0.002"));
    assert_eq!(get("feature_set"), Some("risk"));
    assert_eq!(get("model"), Some("xgboost"));
    assert_eq!(get("reference_rows"), Some("2000"));
    assert!(flat.contains_key("standardise"));
    // Only leaves: no table is flattened to a key of its own.
    assert!(!flat.contains_key("xgboost"));
    assert!(!flat.contains_key("xgboost.params"));
    // Each shipped file flattens to the XGBoost parameters it sets.
    for text in [DEFAULT, BASELINE, IFOREST, PREQUENTIAL] {
        let p = TrainParams::from_toml(text).unwrap();
        let flat = p.flattened();
        for (k, v) in p.xgboost_params() {
            assert_eq!(flat.get(&format!("xgboost.params.{k}")), Some(&v));
        }
        assert_eq!(flat.get("model").map(String::as_str), Some(p.model.name()));
    }
}

#[test]
fn unknown_keys_are_refused_naming_the_key() {
    let top = format!("learning_rate = 0.1\n{MINIMAL}");
    refused_naming(&top, &["learning_rate"]);
    let in_xgboost = MINIMAL.replace("rounds = 10", "rounds = 10\nround = 12");
    refused_naming(&in_xgboost, &["round"]);
    let in_iforest =
        format!("{MINIMAL}\n[iforest]\ntrees = 10\nsample_size = 64\nseed = 1\nsamples = 3\n");
    refused_naming(&in_iforest, &["samples"]);
    let in_policy =
        format!("{MINIMAL}\n[policy]\nreview_rate = 0.1\nblock_rate = 0.01\nallow_rate = 0.5\n");
    refused_naming(&in_policy, &["allow_rate"]);
    let section = format!("{MINIMAL}\n[xgbost]\nrounds = 3\n");
    refused_naming(&section, &["xgbost"]);
    // Every shipped file, with one typo more.
    for text in [DEFAULT, BASELINE, IFOREST, PREQUENTIAL] {
        refused_naming(&format!("standardize = true\n{text}"), &["standardize"]);
    }
}

#[test]
fn missing_required_settings_are_refused() {
    refused_naming(&MINIMAL.replace("model = \"combined\"", ""), &["model"]);
    refused_naming(
        &MINIMAL.replace("feature_set = \"handbook\"", ""),
        &["feature_set"],
    );
    refused_naming(&MINIMAL.replace("rounds = 10", ""), &["rounds"]);
}

#[test]
fn bad_values_are_refused_naming_the_field() {
    // No rounds for a model that boosts.
    for model in ["xgboost", "combined"] {
        let text = MINIMAL
            .replace("rounds = 10", "rounds = 0")
            .replace("\"combined\"", &format!("{model:?}"));
        refused_naming(&text, &["xgboost.rounds", "0"]);
    }
    // The forest alone does not boost: its rounds are not read.
    let iforest = MINIMAL
        .replace("rounds = 10", "rounds = 0")
        .replace("\"combined\"", "\"iforest\"");
    assert_eq!(
        TrainParams::from_toml(&iforest).unwrap().model,
        ModelKind::Iforest
    );
    refused_naming(&MINIMAL.replace("rounds = 10", "rounds = -1"), &["-1"]);
    refused_naming(
        &MINIMAL.replace("rounds = 10", "rounds = \"ten\""),
        &["ten"],
    );

    let policy = |review: &str, block: &str| {
        format!("{MINIMAL}\n[policy]\nreview_rate = {review}\nblock_rate = {block}\n")
    };
    assert!(TrainParams::from_toml(&policy("0.05", "0.01")).is_ok());
    assert!(TrainParams::from_toml(&policy("0.0", "0.0")).is_ok());
    assert!(TrainParams::from_toml(&policy("1.0", "1.0")).is_ok());
    refused_naming(&policy("2", "0.01"), &["policy.review_rate", "2"]);
    refused_naming(&policy("2.0", "0.01"), &["policy.review_rate", "2"]);
    refused_naming(&policy("-0.1", "0.0"), &["policy.review_rate", "-0.1"]);
    refused_naming(&policy("nan", "0.0"), &["policy.review_rate", "NaN"]);
    refused_naming(&policy("0.5", "1.5"), &["policy.block_rate", "1.5"]);
    refused_naming(
        &policy("0.01", "0.02"),
        &["policy.block_rate", "0.02", "policy.review_rate", "0.01"],
    );

    // A table or an array is not an XGBoost parameter.
    let table = format!("{MINIMAL}\n[xgboost.params.max_leaves]\nvalue = 3\n");
    refused_naming(&table, &["xgboost.params.max_leaves"]);
    let inline = MINIMAL.replace("max_depth = 3", "max_depth = { value = 3 }");
    refused_naming(&inline, &["xgboost.params.max_depth"]);
    let array = MINIMAL.replace("eta = 0.1", "eta = [0.1, 0.3]");
    refused_naming(&array, &["xgboost.params.eta"]);

    // Unknown feature sets and models, named.
    refused_naming(
        &MINIMAL.replace("\"handbook\"", "\"fancy\""),
        &["feature set", "fancy"],
    );
    refused_naming(
        &MINIMAL.replace("\"combined\"", "\"random_forest\""),
        &["random_forest"],
    );
    refused_naming(
        &MINIMAL.replace("\"combined\"", "\"XGBoost\""),
        &["XGBoost"],
    );
}

#[test]
fn xgboost_params_pass_through_as_text() {
    let text = MINIMAL.replace(
        "max_depth = 3",
        "max_depth = 3\nverbosity = 0\nsubsample = 0.5\nvalidate_parameters = true\nrefresh_leaf = false",
    );
    let p = TrainParams::from_toml(&text).unwrap();
    let xp = p.xgboost_params();
    assert_eq!(param(&xp, "max_depth"), Some("3"));
    assert_eq!(param(&xp, "verbosity"), Some("0"));
    assert_eq!(param(&xp, "subsample"), Some("0.5"));
    assert_eq!(param(&xp, "objective"), Some("binary:logistic"));
    assert_eq!(param(&xp, "validate_parameters"), Some("1"));
    assert_eq!(param(&xp, "refresh_leaf"), Some("0"));
    assert_eq!(xp.len(), 7);
}
