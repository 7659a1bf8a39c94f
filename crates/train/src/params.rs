//! Hyper-parameters, read from a TOML file (`config/models/*.toml`). Unknown keys are errors, so
//! a typo never silently trains with a default.

use std::collections::BTreeMap;

use fraudwatch_core::engine::FeatureSet;
use fraudwatch_models::ModelKind;
use serde::{Deserialize, Serialize};

use crate::TrainError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainParams {
    /// The processor's feature set the model reads.
    #[serde(with = "feature_set_name")]
    pub feature_set: FeatureSet,
    /// `xgboost`, `iforest` or `combined`.
    pub model: ModelKind,
    /// Standardise every input with the training rows' mean and standard deviation.
    #[serde(default)]
    pub standardise: bool,
    pub xgboost: XgboostParams,
    #[serde(default)]
    pub iforest: IforestParams,
    #[serde(default)]
    pub policy: Policy,
    /// Training rows kept in the bundle as the drift monitor's reference.
    #[serde(default = "default_reference_rows")]
    pub reference_rows: usize,
}

fn default_reference_rows() -> usize {
    2_000
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XgboostParams {
    /// Boosting rounds (trees), the most when early stopping is on.
    pub rounds: u32,
    /// Stop after this many rounds without improvement on the validation slice (0 = off).
    #[serde(default)]
    pub early_stopping_rounds: u32,
    /// The last days of the training window held out, in time order, for early stopping and
    /// the decision thresholds (0 = none: train on all of it).
    #[serde(default)]
    pub validation_days: u32,
    /// XGBoost's own parameters, passed through as `name = value` (numbers or strings).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
}

/// Missing keys take the defaults (100 trees of 256 rows, seed 42, all inputs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IforestParams {
    /// 0: no forest (allowed for `xgboost` only; the bundle then gives no anomaly score).
    pub trees: usize,
    pub sample_size: usize,
    pub seed: u64,
    /// The inputs the forest reads, by name (empty: all of them).
    #[serde(default)]
    pub features: Vec<String>,
}

impl Default for IforestParams {
    fn default() -> Self {
        Self {
            trees: 100,
            sample_size: 256,
            seed: 42,
            features: Vec::new(),
        }
    }
}

/// The decision policy: the share of transactions to review and to block, turned into risk
/// thresholds on the training rows (the validation slice when there is one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub review_rate: f64,
    pub block_rate: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            review_rate: 0.01,
            block_rate: 0.002,
        }
    }
}

impl TrainParams {
    pub fn from_toml(text: &str) -> Result<TrainParams, TrainError> {
        let p: TrainParams =
            toml::from_str(text).map_err(|e| TrainError::Params(e.message().to_string()))?;
        p.check()?;
        Ok(p)
    }

    fn check(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Params(m));
        if self.model.uses_xgboost() && self.xgboost.rounds == 0 {
            return bad("xgboost.rounds = 0: must be at least 1".into());
        }
        if self.model.uses_iforest() && self.iforest.trees == 0 {
            return bad(format!(
                "iforest.trees = 0: the {} model needs its forest",
                self.model
            ));
        }
        let Policy {
            review_rate,
            block_rate,
        } = self.policy;
        if !(0.0..=1.0).contains(&review_rate)
            || !(0.0..=1.0).contains(&block_rate)
            || block_rate > review_rate
        {
            return bad(format!(
                "policy.review_rate = {review_rate}, policy.block_rate = {block_rate}: rates are in [0, 1] and blocking is at most reviewing"
            ));
        }
        for (k, v) in &self.xgboost.params {
            if param_text(v).is_none() {
                return bad(format!(
                    "xgboost.params.{k} = {v}: give a number, a string or a boolean"
                ));
            }
        }
        Ok(())
    }

    /// XGBoost's parameters as the library takes them.
    pub fn xgboost_params(&self) -> Vec<(String, String)> {
        self.xgboost
            .params
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), param_text(v)?)))
            .collect()
    }

    /// Every setting as `section.key = value`, for the bundle and the run log.
    pub fn flattened(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Ok(toml::Value::Table(t)) = toml::Value::try_from(self) {
            flatten("", &t, &mut out);
        }
        out
    }
}

fn param_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(u8::from(*b).to_string()),
        _ => None,
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            other => {
                out.insert(key, param_text(other).unwrap_or_else(|| other.to_string()));
            }
        }
    }
}

mod feature_set_name {
    use fraudwatch_core::engine::FeatureSet;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(set: &FeatureSet, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(set.name())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FeatureSet, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}
