//! Gradient-boosted trees trained by XGBoost, read from its saved JSON model (`save_model` with a
//! `.json` name, format of XGBoost 1.x to 3.x) and scored natively.
//!
//! What is read:
//! - `learner.learner_model_param`: `num_feature` (the row width), `base_score` (a string holding
//!   a number, `"5E-1"`, or since 3.1 a bracketed vector, `"[5E-1]"`; one output only),
//!   `num_class` and `num_target` (more than one output is refused), `boost_from_average`.
//! - `learner.objective.name`: `binary:logistic` and `reg:logistic` (the output is a
//!   probability), `binary:logitraw` and `reg:squarederror` (the output is the margin).
//! - `learner.gradient_booster`: `gbtree`, or `dart` (whose model sits under `gbtree`), with
//!   `model.trees[]`, `model.tree_info[]` (the output group of each tree: all 0) and the optional
//!   per-tree weights `weight_drop[]` that DART leaves. `gblinear` is refused.
//! - In each tree, arrays indexed by node: `left_children`, `right_children` (−1 for none),
//!   `split_indices`, `split_conditions`, `default_left` (0/1 or booleans), `split_type`
//!   (0 = numerical; categorical splits are refused) and `sum_hessian` (the node's cover, which
//!   only [`contributions`](GradientBoosted::contributions) uses; XGBoost requires it too). A
//!   node is a leaf when its left child is −1, and its value is then `split_conditions[i]`.
//!   Every other field is ignored.
//!
//! Scoring follows XGBoost's CPU predictor to the bit (`src/predictor/cpu_predictor.cc`,
//! `predict_fn.h`, `src/objective/regression_loss.h`, `src/common/math.h`):
//! - a feature value is rounded to `f32`; a split sends it left when `value < threshold`, and a
//!   missing value (NaN) the way `default_left` says;
//! - the margin starts at the base margin and adds the trees' leaf values one tree after the
//!   other, in `f32` (times the tree's DART weight, in `f32`, when the model has weights);
//! - the base margin is `base_score` turned into margin space by the objective:
//!   logit(clamp(base_score, 1e−6, 1 − 1e−6)) in `f32` for the logistic objectives, as is for
//!   `binary:logitraw` and `reg:squarederror`. One XGBoost quirk is kept: a model with no trees
//!   and `boost_from_average` on counts as not fitted, and XGBoost then uses `base_score` as the
//!   margin without the link.
//! - the logistic output is XGBoost's `f32` sigmoid, 1 / (1 + exp(min(−x, 88.7))).
//!
//! Nodes of all trees live in one flat array, renumbered breadth-first so that a split's right
//! child directly follows its left one (the JSON's `right_children` are followed; XGBoost always
//! writes right = left + 1, and its own single-row walk relies on it). A tree is walked as many
//! steps as its deepest leaf is deep, since a leaf steps onto itself: the walk has no
//! data-dependent branch, at the price of idle steps in lopsided (`lossguide`) trees.
//! [`GradientBoosted::predict_batch`] walks a block of 64 rows through one tree before the next,
//! as XGBoost does. Scoring allocates nothing.
//!
//! Checked bit for bit against XGBoost 3.2's `predict` on models of every supported kind (hist,
//! exact with pruned nodes, lossguide, DART, random forest, no tree), missing values included.
//!
//! Reason codes: [`GradientBoosted::contributions`] gives each feature's exact SHAP contribution
//! to a row's margin (XGBoost's `pred_contribs=True`), by TreeSHAP ([`crate::shap`]), and
//! [`GradientBoosted::top_reasons`] the features pushing a row hardest toward the positive
//! class. The walk reads the same nodes plus the covers, which sit in an array of their own so
//! that scoring's nodes stay 16 bytes. A split's children get the shares of its cover that
//! XGBoost gives them (`BranchWeight` in `interpretability/quadrature.h`): cover / parent cover,
//! at least 1e−12, or one half each when the split has no cover. Each tree's expected value is
//! the cover-weighted mean of its leaves (a split without cover: the plain mean of its two
//! children), in `f64`. XGBoost refuses contributions when a cover is negative, and so does this.

use serde_json::Value;

use crate::ModelError;
use crate::shap::{self, ShapScratch, Step};

/// Rows scored together, tree by tree, by the batch functions (XGBoost's block size).
const BLOCK: usize = 64;

/// In [`Node::key`]: a missing value goes left.
const DEFAULT_LEFT: u32 = 1 << 31;
/// In [`Node::key`]: the feature index.
const FEATURE: u32 = (1 << 30) - 1;

/// One node. A row goes from a split to `left` or `left + 1`. A leaf has threshold NaN, which
/// sends every row right, and `left` = its own index − 1, so walking on from a leaf stays there.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// [`DEFAULT_LEFT`] | feature index (0 for a leaf).
    key: u32,
    /// A split's threshold; NaN for a leaf.
    threshold: f32,
    /// Absolute index of the left child (of a leaf: its own index − 1, wrapping).
    left: u32,
    /// A leaf's value (times the tree's weight); 0 for a split.
    leaf: f32,
}

/// Bit for bit, so that leaves (threshold NaN) equal themselves.
impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
            && self.threshold.to_bits() == other.threshold.to_bits()
            && self.left == other.left
            && self.leaf.to_bits() == other.leaf.to_bits()
    }
}

/// Where a tree starts in the node array, and the depth of its deepest leaf: that many steps
/// from the root end on a leaf, whatever the row.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Tree {
    root: u32,
    depth: u32,
}

/// The learning objective: it fixes how `base_score` becomes the base margin and how the margin
/// becomes the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// `binary:logistic`: base margin logit(base_score), output sigmoid(margin).
    BinaryLogistic,
    /// `reg:logistic`: as `binary:logistic`.
    RegLogistic,
    /// `binary:logitraw`: base margin base_score, output the margin.
    BinaryLogitRaw,
    /// `reg:squarederror`: base margin base_score, output the margin.
    RegSquaredError,
}

impl Objective {
    /// XGBoost's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::BinaryLogistic => "binary:logistic",
            Self::RegLogistic => "reg:logistic",
            Self::BinaryLogitRaw => "binary:logitraw",
            Self::RegSquaredError => "reg:squarederror",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Self::BinaryLogistic,
            Self::RegLogistic,
            Self::BinaryLogitRaw,
            Self::RegSquaredError,
        ]
        .into_iter()
        .find(|o| o.name() == name)
    }

    /// Whether the output is sigmoid(margin), and `base_score` a probability.
    pub fn is_logistic(self) -> bool {
        matches!(self, Self::BinaryLogistic | Self::RegLogistic)
    }

    /// `PredTransform`.
    fn output(self, margin: f32) -> f32 {
        if self.is_logistic() {
            sigmoid(margin)
        } else {
            margin
        }
    }
}

/// XGBoost's `common::Sigmoid(float)`: 1 / (exp(min(−x, 88.7)) + 1 + 1e−16), all in `f32`.
fn sigmoid(x: f32) -> f32 {
    let neg = -x;
    // std::min(−x, 88.7f), which keeps a NaN.
    let neg = if 88.7f32 < neg { 88.7f32 } else { neg };
    1.0 / (neg.exp() + 1.0 + 1e-16)
}

/// XGBoost's `LogisticRegression::ProbToMargin`: the logit of the clamped probability, in `f32`.
fn logit(p: f32) -> f32 {
    const EPS: f32 = 1e-6;
    let p = if p < EPS { EPS } else { p };
    let p = if p > 1.0 - EPS { 1.0 - EPS } else { p };
    -(1.0 / p - 1.0).ln()
}

/// One step down from node `n` for a row whose value of `n`'s feature is `x`, rounded to `f32`
/// as XGBoost does. Branch-free: `x < threshold` goes left, anything else (NaN included) right,
/// unless the node sends missing values left.
#[inline(always)]
fn next(n: Node, x: f64) -> u32 {
    let x = x as f32;
    let not_below = u32::from(x < n.threshold) ^ 1;
    let right = not_below ^ (u32::from(x.is_nan()) & (n.key >> 31));
    n.left.wrapping_add(right)
}

/// What contributions need beyond the scoring nodes.
#[derive(Debug, Clone, PartialEq, Default)]
struct Covers {
    /// Per node, at the same index as in the node array: its cover (`sum_hessian`, the sum of
    /// the hessians of the training rows that reached it).
    cover: Vec<f32>,
    /// Sum over the trees of their expected values (cover-weighted means of their leaves).
    expected: f64,
    /// The depth of the deepest tree.
    depth: u32,
    /// Why contributions are undefined for this model (a negative cover), if they are.
    refusal: Option<String>,
}

/// XGBoost's `BranchWeight`: a child's share of its split's cover, at least 1e−12 so that no
/// branch is unreachable, or one half when the split has no cover at all.
fn branch_share(child: f32, parent: f32) -> f64 {
    if parent <= 0.0 {
        return 0.5;
    }
    (f64::from(child) / f64::from(parent)).max(1e-12)
}

/// A gradient-boosted tree ensemble with one output, read from XGBoost's JSON model.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientBoosted {
    width: usize,
    objective: Objective,
    base_margin: f32,
    nodes: Vec<Node>,
    trees: Vec<Tree>,
    covers: Covers,
}

impl GradientBoosted {
    /// Reads a model saved by XGBoost as JSON. Any input, however broken, gives a value or an
    /// error ([`ModelError::Malformed`] naming the field at fault, or
    /// [`ModelError::Unsupported`]); none panics.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ModelError> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| malformed(format!("the model is not valid JSON: {e}")))?;
        let learner = member(&doc, "", "learner")?;
        let (width, base_score, boost_from_average) = model_param(learner)?;

        let objective = member(learner, "learner", "objective")?;
        let name = as_str(
            member(objective, "learner.objective", "name")?,
            "learner.objective.name",
        )?;
        let objective = Objective::from_name(name).ok_or_else(|| {
            unsupported(format!(
                "learner.objective.name = {name:?}: only binary:logistic, reg:logistic, \
                 binary:logitraw and reg:squarederror are scored"
            ))
        })?;
        if objective.is_logistic() && !(0.0..=1.0).contains(&base_score) {
            return Err(malformed(format!(
                "learner.learner_model_param.base_score = {base_score} must be in [0, 1] for {}",
                objective.name()
            )));
        }

        let booster = member(learner, "learner", "gradient_booster")?;
        let path = "learner.gradient_booster";
        let kind = as_str(
            member(booster, path, "name")?,
            "learner.gradient_booster.name",
        )?;
        let (model, model_path) = match kind {
            "gbtree" => (member(booster, path, "model")?, format!("{path}.model")),
            "dart" => {
                let inner = member(booster, path, "gbtree")?;
                let inner_path = format!("{path}.gbtree");
                (
                    member(inner, &inner_path, "model")?,
                    format!("{inner_path}.model"),
                )
            }
            other => {
                return Err(unsupported(format!(
                    "learner.gradient_booster.name = {other:?}: only gbtree and dart are scored"
                )));
            }
        };
        let trees = as_array(
            member(model, &model_path, "trees")?,
            &format!("{model_path}.trees"),
        )?;
        check_groups(model, &model_path, trees.len())?;
        // XGBoost reads `weight_drop` beside the tree model, and lets the booster's own (older
        // DART models) override it.
        let weights = match optional(booster, path, "weight_drop")? {
            Some(w) => Some((w, format!("{path}.weight_drop"))),
            None => optional(model, &model_path, "weight_drop")?
                .map(|w| (w, format!("{model_path}.weight_drop"))),
        };
        let weights = match weights {
            Some((w, w_path)) => tree_weights(w, &w_path, trees.len())?,
            None => Vec::new(),
        };

        let mut nodes = Vec::new();
        let mut covers = Covers::default();
        let mut roots = Vec::with_capacity(trees.len());
        for (t, tree) in trees.iter().enumerate() {
            let tree_path = format!("{model_path}.trees[{t}]");
            let weight = weights.get(t).copied();
            let tree = load_tree(tree, &tree_path, t, width, weight, &mut nodes, &mut covers)?;
            covers.depth = covers.depth.max(tree.depth);
            roots.push(tree);
        }

        // With no tree and `boost_from_average`, XGBoost takes the model for unfitted and does
        // not apply the link to `base_score` (`LearnerConfiguration::InitModelUserParam`).
        let base_margin = if objective.is_logistic() && !(roots.is_empty() && boost_from_average) {
            logit(base_score)
        } else {
            base_score
        };
        Ok(Self {
            width,
            objective,
            base_margin,
            nodes,
            trees: roots,
            covers,
        })
    }

    /// Features per row (`num_feature`).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of trees.
    pub fn trees(&self) -> usize {
        self.trees.len()
    }

    /// The learning objective, which says what [`predict`](Self::predict) returns.
    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// The margin a row starts from, before any tree.
    pub fn base_margin(&self) -> f64 {
        f64::from(self.base_margin)
    }

    /// The raw margin of one row: base margin plus every tree's leaf value (XGBoost's
    /// `output_margin=True`). NaN features are missing values.
    pub fn margin(&self, row: &[f64]) -> Result<f64, ModelError> {
        self.check_width(row)?;
        Ok(f64::from(self.margin32(row)))
    }

    /// The prediction for one row: a probability for the logistic objectives, the margin for the
    /// others (XGBoost's `predict`). NaN features are missing values.
    pub fn predict(&self, row: &[f64]) -> Result<f64, ModelError> {
        self.check_width(row)?;
        Ok(f64::from(self.objective.output(self.margin32(row))))
    }

    /// [`predict`](Self::predict) for `rows` (row after row, `width` values each) into `out`, one
    /// value per row. Allocates nothing.
    pub fn predict_batch(&self, rows: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.batch(rows, out, true)
    }

    /// [`margin`](Self::margin) for `rows` (row after row) into `out`. Allocates nothing.
    pub fn margin_batch(&self, rows: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.batch(rows, out, false)
    }

    /// Each feature's contribution to the margin of one row, XGBoost's `pred_contribs=True`:
    /// `out[j]` for feature j (its exact SHAP value, by TreeSHAP, summed over the trees), and
    /// `out[width]` the bias, the base margin plus the trees' expected values. They add up to
    /// [`margin`](Self::margin), up to rounding (the margin adds leaves in `f32`, this works in
    /// `f64`). A feature no tree splits on, or that the row's paths never make a difference
    /// for, gets 0. NaN features are missing values.
    ///
    /// `out` must hold `width + 1` values. This allocates its working memory; use
    /// [`contributions_with`](Self::contributions_with) to reuse it.
    pub fn contributions(&self, row: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        self.contributions_with(row, out, &mut self.shap_scratch())
    }

    /// [`contributions`](Self::contributions) in a caller-held scratch, which allocates nothing
    /// once the scratch has grown to this model (see [`shap_scratch`](Self::shap_scratch)).
    pub fn contributions_with(
        &self,
        row: &[f64],
        out: &mut [f64],
        scratch: &mut ShapScratch,
    ) -> Result<(), ModelError> {
        self.contributions_in(row, out, &mut scratch.walk)
    }

    /// The at most `k` features with the largest positive contributions to the row's margin
    /// (those pushing it toward the positive class, fraud), as (feature index, contribution),
    /// largest first, equal contributions by feature index. Features with a contribution of 0 or
    /// less are never listed, so fewer than `k` may come back. Allocates only the returned
    /// vector once `scratch` has grown to this model.
    pub fn top_reasons(
        &self,
        row: &[f64],
        k: usize,
        scratch: &mut ShapScratch,
    ) -> Result<Vec<(usize, f64)>, ModelError> {
        let ShapScratch { walk, phi } = scratch;
        phi.clear();
        phi.resize(self.width + 1, 0.0);
        self.contributions_in(row, phi, walk)?;
        let mut top: Vec<(usize, f64)> = Vec::with_capacity(k.min(self.width));
        // NaN never comes out of the walk, and would not be listed.
        for (j, &c) in phi[..self.width]
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c > 0.0)
        {
            // Before the first smaller one: an equal one, of a lower index, stays ahead.
            let at = top.iter().position(|&(_, v)| v < c).unwrap_or(top.len());
            if at < k {
                if top.len() == k {
                    top.pop();
                }
                top.insert(at, (j, c));
            }
        }
        Ok(top)
    }

    /// Working memory for [`contributions_with`](Self::contributions_with) and
    /// [`top_reasons`](Self::top_reasons), already sized for this model.
    pub fn shap_scratch(&self) -> ShapScratch {
        ShapScratch::new(self.covers.depth, self.width)
    }

    fn contributions_in(
        &self,
        row: &[f64],
        out: &mut [f64],
        walk: &mut shap::Walk,
    ) -> Result<(), ModelError> {
        self.check_width(row)?;
        if out.len() != self.width + 1 {
            return Err(ModelError::Param {
                name: "contributions output length",
                value: out.len().to_string(),
                rule: "must be the model's width + 1 (one per feature, then the bias)",
            });
        }
        if let Some(why) = &self.covers.refusal {
            return Err(unsupported(why.clone()));
        }
        walk.reserve(self.covers.depth, self.width);
        out.fill(0.0);
        let (phi, bias) = out.split_at_mut(self.width);
        let cover = |i: u32| self.covers.cover[i as usize];
        for tree in &self.trees {
            let step = |i: u32| {
                let n = self.nodes[i as usize];
                if n.threshold.is_nan() {
                    return Step::Leaf(f64::from(n.leaf));
                }
                let feature = n.key & FEATURE;
                let hot = next(n, row[feature as usize]);
                let cold = if hot == n.left {
                    n.left.wrapping_add(1)
                } else {
                    n.left
                };
                Step::Split {
                    feature,
                    hot,
                    cold,
                    hot_share: branch_share(cover(hot), cover(i)),
                    cold_share: branch_share(cover(cold), cover(i)),
                }
            };
            shap::tree_shap(tree.root, step, walk, phi);
        }
        bias[0] = f64::from(self.base_margin) + self.covers.expected;
        Ok(())
    }

    fn check_width(&self, row: &[f64]) -> Result<(), ModelError> {
        if row.len() == self.width {
            Ok(())
        } else {
            Err(ModelError::Width {
                got: row.len(),
                want: self.width,
            })
        }
    }

    fn margin32(&self, row: &[f64]) -> f32 {
        let mut margin = self.base_margin;
        for tree in &self.trees {
            let mut i = tree.root;
            for _ in 0..tree.depth {
                let n = self.nodes[i as usize];
                i = next(n, row[(n.key & FEATURE) as usize]);
            }
            margin += self.nodes[i as usize].leaf;
        }
        margin
    }

    fn batch(&self, rows: &[f64], out: &mut [f64], output: bool) -> Result<(), ModelError> {
        let w = self.width;
        if out.len().checked_mul(w) != Some(rows.len()) {
            return Err(ModelError::Shape(out.len(), w, rows.len()));
        }
        let finish = |margin: f32| {
            f64::from(if output {
                self.objective.output(margin)
            } else {
                margin
            })
        };
        if w == 0 {
            // No feature, so no split: every row gets the same value.
            out.fill(finish(self.margin32(&[])));
            return Ok(());
        }
        let mut margins = [0f32; BLOCK];
        let mut at = [0u32; BLOCK];
        for (block, out) in rows
            .chunks(BLOCK.saturating_mul(w))
            .zip(out.chunks_mut(BLOCK))
        {
            let margins = &mut margins[..out.len()];
            let at = &mut at[..out.len()];
            margins.fill(self.base_margin);
            for tree in &self.trees {
                at.fill(tree.root);
                for _ in 0..tree.depth {
                    for (k, i) in at.iter_mut().enumerate() {
                        let n = self.nodes[*i as usize];
                        *i = next(n, block[k * w + (n.key & FEATURE) as usize]);
                    }
                }
                for (m, &i) in margins.iter_mut().zip(at.iter()) {
                    *m += self.nodes[i as usize].leaf;
                }
            }
            for (o, &m) in out.iter_mut().zip(margins.iter()) {
                *o = finish(m);
            }
        }
        Ok(())
    }
}

/// `learner.learner_model_param`: (num_feature, base_score, boost_from_average).
fn model_param(learner: &Value) -> Result<(usize, f32, bool), ModelError> {
    let path = "learner.learner_model_param";
    let param = member(learner, "learner", "learner_model_param")?;
    let count = |key: &str| -> Result<Option<u64>, ModelError> {
        optional(param, path, key)?
            .map(|v| string_integer(v, &format!("{path}.{key}")))
            .transpose()
    };
    let width =
        count("num_feature")?.ok_or_else(|| malformed(format!("{path}.num_feature is missing")))?;
    if width > u64::from(FEATURE) {
        return Err(unsupported(format!(
            "{path}.num_feature = {width}: at most {FEATURE} features are supported"
        )));
    }
    for key in ["num_class", "num_target"] {
        if let Some(n) = count(key)?
            && n > 1
        {
            return Err(unsupported(format!(
                "{path}.{key} = {n}: only models with one output (binary classification, \
                 regression) are scored"
            )));
        }
    }
    // Absent in old models, where XGBoost's default is on.
    let boost_from_average = count("boost_from_average")?.is_none_or(|b| b != 0);
    let base_path = format!("{path}.base_score");
    let base_score = base_score(
        as_str(member(param, path, "base_score")?, &base_path)?,
        &base_path,
    )?;
    Ok((width as usize, base_score, boost_from_average))
}

/// Parses `base_score`: `"5E-1"`, or one value in brackets, `"[5E-1]"` (XGBoost also accepts
/// parentheses and spaces).
fn base_score(text: &str, path: &str) -> Result<f32, ModelError> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = match compact.as_bytes() {
        [b'[' | b'(', .., b']' | b')'] => &compact[1..compact.len() - 1],
        _ => compact.as_str(),
    };
    let values = inner.split(',').count();
    if values > 1 {
        return Err(unsupported(format!(
            "{path} = {text:?} holds {values} values: only models with one output are scored"
        )));
    }
    match inner.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(malformed(format!(
            "{path} = {text:?} is not a finite number"
        ))),
    }
}

/// `tree_info` (every tree in output group 0) and `gbtree_model_param.num_trees`.
fn check_groups(model: &Value, path: &str, trees: usize) -> Result<(), ModelError> {
    let info_path = format!("{path}.tree_info");
    let info = as_array(member(model, path, "tree_info")?, &info_path)?;
    if info.len() != trees {
        return Err(malformed(format!(
            "{info_path} has {} entries for {trees} trees",
            info.len()
        )));
    }
    for (t, group) in info.iter().enumerate() {
        match group.as_u64() {
            Some(0) => {}
            Some(g) => {
                return Err(unsupported(format!(
                    "{info_path}[{t}] = {g}: only models with one output group are scored"
                )));
            }
            None => {
                return Err(malformed(format!(
                    "{info_path}[{t}] = {} is not a group index",
                    describe(group)
                )));
            }
        }
    }
    if let Some(param) = optional(model, path, "gbtree_model_param")? {
        let param_path = format!("{path}.gbtree_model_param");
        if let Some(n) = optional(param, &param_path, "num_trees")? {
            let n = string_integer(n, &format!("{param_path}.num_trees"))?;
            if n != trees as u64 {
                return Err(malformed(format!(
                    "{param_path}.num_trees = {n} but {path}.trees holds {trees}"
                )));
            }
        }
    }
    Ok(())
}

/// DART's per-tree weights: none, or one per tree.
fn tree_weights(value: &Value, path: &str, trees: usize) -> Result<Vec<f32>, ModelError> {
    let weights = as_array(value, path)?;
    if !weights.is_empty() && weights.len() != trees {
        return Err(malformed(format!(
            "{path} has {} weights for {trees} trees",
            weights.len()
        )));
    }
    weights
        .iter()
        .enumerate()
        .map(|(t, w)| finite(w, || format!("{path}[{t}]")))
        .collect()
}

/// Reads tree `t`, appends its nodes (breadth-first, a split's children side by side) to
/// `nodes` and their covers to `covers` (adding the tree's expected value, and noting a negative
/// cover), and returns where it starts and its depth.
fn load_tree(
    tree: &Value,
    path: &str,
    t: usize,
    width: usize,
    weight: Option<f32>,
    nodes: &mut Vec<Node>,
    covers: &mut Covers,
) -> Result<Tree, ModelError> {
    if let Some(id) = optional(tree, path, "id")?
        && id.as_u64() != Some(t as u64)
    {
        return Err(malformed(format!(
            "{path}.id = {} but the tree is number {t}",
            describe(id)
        )));
    }
    let mut num_nodes = None;
    if let Some(param) = optional(tree, path, "tree_param")? {
        let param_path = format!("{path}.tree_param");
        if let Some(v) = optional(param, &param_path, "size_leaf_vector")? {
            let size = string_integer(v, &format!("{param_path}.size_leaf_vector"))?;
            if size > 1 {
                return Err(unsupported(format!(
                    "{param_path}.size_leaf_vector = {size}: multi-target trees are not scored"
                )));
            }
        }
        if let Some(v) = optional(param, &param_path, "num_nodes")? {
            num_nodes = Some(string_integer(v, &format!("{param_path}.num_nodes"))?);
        }
    }

    let array = |key: &str| -> Result<&[Value], ModelError> {
        as_array(member(tree, path, key)?, &format!("{path}.{key}"))
    };
    let lefts = array("left_children")?;
    let n = lefts.len();
    if n == 0 {
        return Err(malformed(format!(
            "{path}.left_children is empty: a tree has at least one node"
        )));
    }
    if let Some(claimed) = num_nodes
        && claimed != n as u64
    {
        return Err(malformed(format!(
            "{path}.tree_param.num_nodes = {claimed} but {path}.left_children has {n} entries"
        )));
    }
    let same_length = |key: &str| -> Result<&[Value], ModelError> {
        let a = array(key)?;
        if a.len() == n {
            Ok(a)
        } else {
            Err(malformed(format!(
                "{path}.{key} has {} entries but {path}.left_children has {n}",
                a.len()
            )))
        }
    };
    let rights = same_length("right_children")?;
    let features = same_length("split_indices")?;
    let conditions = same_length("split_conditions")?;
    let defaults = same_length("default_left")?;
    let hessians = same_length("sum_hessian")?;
    let types = match optional(tree, path, "split_type")? {
        Some(_) => Some(same_length("split_type")?),
        None => None,
    };

    // Every entry is read and its type and range checked; what only matters on a walk (split
    // feature, both children, numerical split) is checked on the nodes the root reaches, since
    // XGBoost keeps pruned nodes in the arrays, with split index 2^31 − 1.
    let child = |a: &[Value], key: &str, i: usize| -> Result<Option<usize>, ModelError> {
        match a[i].as_i64() {
            Some(-1) => Ok(None),
            Some(c) if c >= 0 && (c as u64) < n as u64 => Ok(Some(c as usize)),
            Some(c) => Err(malformed(format!(
                "{path}.{key}[{i}] = {c} is out of range: the tree has {n} nodes"
            ))),
            None => Err(malformed(format!(
                "{path}.{key}[{i}] = {} is not a node index",
                describe(&a[i])
            ))),
        }
    };
    let mut parsed = Vec::with_capacity(n);
    for i in 0..n {
        let left = child(lefts, "left_children", i)?;
        let right = child(rights, "right_children", i)?;
        let feature = features[i].as_u64().ok_or_else(|| {
            malformed(format!(
                "{path}.split_indices[{i}] = {} is not a feature index",
                describe(&features[i])
            ))
        })?;
        let condition = finite(&conditions[i], || format!("{path}.split_conditions[{i}]"))?;
        let default_left = match &defaults[i] {
            Value::Bool(b) => *b,
            v => match v.as_u64() {
                Some(0) => false,
                Some(1) => true,
                _ => {
                    return Err(malformed(format!(
                        "{path}.default_left[{i}] = {} is not 0, 1, true or false",
                        describe(v)
                    )));
                }
            },
        };
        let categorical = match types.map(|a| &a[i]) {
            None => false,
            Some(v) => match v.as_u64() {
                Some(0) => false,
                Some(1) => true,
                _ => {
                    return Err(malformed(format!(
                        "{path}.split_type[{i}] = {} is not 0 (numerical) or 1 (categorical)",
                        describe(v)
                    )));
                }
            },
        };
        let cover = finite(&hessians[i], || format!("{path}.sum_hessian[{i}]"))?;
        parsed.push((
            left,
            right,
            feature,
            condition,
            default_left,
            categorical,
            cover,
        ));
    }

    // Breadth-first from the root: the node at queue position k becomes nodes[base + k], and a
    // split's children are queued side by side. Reaching a node twice means a cycle or a shared
    // node: not a tree.
    let base = nodes.len();
    let index = |k: usize| {
        u32::try_from(base + k)
            .ok()
            .filter(|&i| i < u32::MAX)
            .ok_or_else(|| unsupported("the model has more than 2^32 - 1 nodes"))
    };
    let mut seen = vec![false; n];
    let mut queue: Vec<(usize, u32)> = vec![(0, 0)];
    seen[0] = true;
    let mut depth = 0;
    let mut k = 0;
    while let Some(&(i, level)) = queue.get(k) {
        let at = index(k)?;
        let (left, right, feature, condition, default_left, categorical, cover) = parsed[i];
        depth = depth.max(level);
        covers.cover.push(cover);
        let node = match left {
            None => {
                let mut leaf = condition;
                if let Some(w) = weight {
                    leaf *= w;
                }
                Node {
                    key: 0,
                    threshold: f32::NAN,
                    left: at.wrapping_sub(1),
                    leaf,
                }
            }
            Some(left) => {
                let Some(right) = right else {
                    return Err(malformed(format!(
                        "{path}.right_children[{i}] = -1 but left_children[{i}] = {left}: a \
                         split has two children"
                    )));
                };
                if categorical {
                    return Err(unsupported(format!(
                        "{path}.split_type[{i}] = 1: categorical splits are not scored"
                    )));
                }
                if feature >= width as u64 {
                    return Err(malformed(format!(
                        "{path}.split_indices[{i}] = {feature} is out of range: \
                         num_feature = {width}"
                    )));
                }
                // XGBoost's SHAP checks the covers of every split and of its children.
                for c in [i, left, right] {
                    let cover = parsed[c].6;
                    if cover < 0.0 && covers.refusal.is_none() {
                        covers.refusal = Some(format!(
                            "{path}.sum_hessian[{c}] = {cover}: feature contributions are \
                             undefined with a negative cover"
                        ));
                    }
                }
                for (key, c) in [("left_children", left), ("right_children", right)] {
                    if seen[c] {
                        return Err(malformed(format!(
                            "{path}.{key}[{i}] = {c}: node {c} is reached twice, so the nodes \
                             do not form a tree"
                        )));
                    }
                    seen[c] = true;
                    queue.push((c, level + 1));
                }
                Node {
                    key: if default_left { DEFAULT_LEFT } else { 0 } | feature as u32,
                    threshold: condition,
                    left: index(queue.len() - 2)?,
                    leaf: 0.0,
                }
            }
        };
        nodes.push(node);
        k += 1;
    }
    covers.expected += expected_value(&nodes[base..], &covers.cover[base..], base);
    Ok(Tree {
        root: index(0)?,
        depth,
    })
}

/// The expected value of one tree, given its `nodes` and their `covers` (breadth-first, the first
/// at absolute index `base`): the cover-weighted mean of its leaves, as XGBoost's
/// `FillRootMeanValue` computes it (in `f64`; a split without cover takes the plain mean).
fn expected_value(nodes: &[Node], covers: &[f32], base: usize) -> f64 {
    // Children come after their parent, so a backward sweep sees them first.
    let mut mean = vec![0.0; nodes.len()];
    for k in (0..nodes.len()).rev() {
        let n = nodes[k];
        mean[k] = if n.threshold.is_nan() {
            f64::from(n.leaf)
        } else {
            let l = n.left as usize - base;
            let parent = f64::from(covers[k]);
            if parent == 0.0 {
                0.5 * (mean[l] + mean[l + 1])
            } else {
                (mean[l] * f64::from(covers[l]) + mean[l + 1] * f64::from(covers[l + 1])) / parent
            }
        };
    }
    mean.first().copied().unwrap_or(0.0)
}

/// A JSON number as the `f32` XGBoost would hold, which must be finite; `what` names it.
fn finite(value: &Value, what: impl Fn() -> String) -> Result<f32, ModelError> {
    let Some(v) = value.as_f64() else {
        return Err(malformed(format!(
            "{} = {} is not a number",
            what(),
            describe(value)
        )));
    };
    let v = v as f32;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(malformed(format!(
            "{} = {} is out of the f32 range",
            what(),
            describe(value)
        )))
    }
}

fn malformed(message: impl Into<String>) -> ModelError {
    ModelError::Malformed(message.into())
}

fn unsupported(message: impl Into<String>) -> ModelError {
    ModelError::Unsupported(message.into())
}

/// `path.key`, or `key` at the top.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A short description of a JSON value for messages: numbers and short strings as they are,
/// anything else by its kind.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().count() <= 40 => format!("{s:?}"),
        Value::String(_) => "a long string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// `value[key]` of an object that may lack it.
fn optional<'a>(value: &'a Value, path: &str, key: &str) -> Result<Option<&'a Value>, ModelError> {
    match value {
        Value::Object(map) => Ok(map.get(key)),
        other => Err(malformed(format!(
            "{} is {}, not an object",
            if path.is_empty() {
                "the document"
            } else {
                path
            },
            describe(other)
        ))),
    }
}

/// `value[key]` of an object that must have it.
fn member<'a>(value: &'a Value, path: &str, key: &str) -> Result<&'a Value, ModelError> {
    optional(value, path, key)?.ok_or_else(|| malformed(format!("{} is missing", join(path, key))))
}

fn as_str<'a>(value: &'a Value, path: &str) -> Result<&'a str, ModelError> {
    value
        .as_str()
        .ok_or_else(|| malformed(format!("{path} = {} is not a string", describe(value))))
}

fn as_array<'a>(value: &'a Value, path: &str) -> Result<&'a [Value], ModelError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| malformed(format!("{path} = {} is not an array", describe(value))))
}

/// A count XGBoost saves as a string, like `"num_feature": "15"`.
fn string_integer(value: &Value, path: &str) -> Result<u64, ModelError> {
    let text = as_str(value, path)?;
    text.trim().parse().map_err(|_| {
        malformed(format!(
            "{path} = {} is not a non-negative integer",
            describe(value)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_and_logit_are_xgboosts() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(logit(0.5), 0.0);
        // The clamp at 1e-6 and the cap at 88.7 keep both finite.
        assert!(logit(0.0).is_finite() && logit(1.0).is_finite());
        assert!(sigmoid(-1000.0) > 0.0 && sigmoid(1000.0) == 1.0);
        assert!(sigmoid(f32::NAN).is_nan());
    }

    #[test]
    fn base_score_in_both_forms() {
        for text in ["5E-1", "[5E-1]", " [ 5E-1 ] ", "(0.5)", "0.5"] {
            assert_eq!(base_score(text, "b"), Ok(0.5), "{text}");
        }
        for text in ["", "[]", "x", "[0.5", "NaN", "inf", "1e39"] {
            assert!(
                matches!(base_score(text, "b"), Err(ModelError::Malformed(_))),
                "{text}"
            );
        }
        assert!(matches!(
            base_score("[0.5,0.5]", "b"),
            Err(ModelError::Unsupported(_))
        ));
    }

    #[test]
    fn a_leaf_steps_onto_itself() {
        let leaf = Node {
            key: 0,
            threshold: f32::NAN,
            left: 6,
            leaf: 1.5,
        };
        for x in [0.0, 3.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(next(leaf, x), 7);
        }
        let first = Node {
            left: u32::MAX,
            ..leaf
        };
        assert_eq!(next(first, 1.0), 0);
        let split = Node {
            key: DEFAULT_LEFT | 2,
            threshold: 0.5,
            left: 3,
            leaf: 0.0,
        };
        assert_eq!(next(split, 0.25), 3);
        assert_eq!(next(split, 0.5), 4);
        assert_eq!(next(split, f64::NEG_INFINITY), 3);
        assert_eq!(next(split, f64::INFINITY), 4);
        assert_eq!(next(split, f64::NAN), 3);
        let split = Node { key: 2, ..split };
        assert_eq!(next(split, 0.25), 3);
        assert_eq!(next(split, f64::NAN), 4);
    }
}
