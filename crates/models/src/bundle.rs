//! The model bundle (DESIGN.md §5): everything the scorer and the drift monitor need, in one
//! JSON document whose version is the hash of its content.
//!
//! A bundle holds the ordered input names, the standardisation fitted on the training rows, the
//! XGBoost model (XGBoost's own JSON text, kept verbatim), the Isolation Forest, how the two are
//! combined, the decision thresholds, the training metrics, the training data range, the
//! hyper-parameters, and a reference sample of training rows for drift tests.
//!
//! [`Bundle::seal`] sets `version` to `sha256:` + the hex SHA-256 of the bundle serialised with
//! an empty version; [`Bundle::from_json`] recomputes it, so a truncated or edited bundle is
//! refused. [`Scorer`] is the loaded, ready-to-score form.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::shap::ShapScratch;
use crate::{GradientBoosted, IsolationForest, ModelError};

/// The bundle layout this code reads and writes.
pub const FORMAT: u32 = 1;

/// The name of the extra XGBoost input that carries the anomaly score in a combined model.
pub const ANOMALY_INPUT: &str = "anomaly_score";

/// Which model gives the risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// XGBoost's probability (the forest, when the bundle has one, still gives the anomaly score).
    Xgboost,
    /// The Isolation Forest's anomaly score (unsupervised).
    Iforest,
    /// XGBoost's probability, with the anomaly score as one more XGBoost input.
    #[default]
    Combined,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [ModelKind::Xgboost, ModelKind::Iforest, ModelKind::Combined];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Xgboost => "xgboost",
            ModelKind::Iforest => "iforest",
            ModelKind::Combined => "combined",
        }
    }
    pub fn uses_xgboost(self) -> bool {
        self != ModelKind::Iforest
    }
    pub fn uses_iforest(self) -> bool {
        self != ModelKind::Xgboost
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ModelKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown model {s:?}: expected xgboost, iforest or combined"))
    }
}

/// Standardisation of one input: `(x − mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    pub mean: f64,
    pub std: f64,
}

/// Risk thresholds of the decision policy: `risk ≥ block` blocks, `risk ≥ review` reviews.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub review: f64,
    pub block: f64,
}

/// The training rows' time range and size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DataRange {
    /// First and last day of training (YYYY-MM-DD).
    pub start: String,
    pub end: String,
    pub rows: u64,
    pub frauds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: u32,
    /// `sha256:<hex>` of the content; set by [`Bundle::seal`].
    pub version: String,
    pub created_at: String,
    /// The processor's feature set the inputs come from.
    pub feature_set: String,
    /// The model inputs, in order.
    pub features: Vec<String>,
    /// One per input, or empty for none.
    pub scaling: Vec<Scale>,
    pub model: ModelKind,
    /// XGBoost's JSON model, verbatim (empty for `iforest`).
    pub xgboost: String,
    pub iforest: Option<IsolationForest>,
    /// The inputs the forest reads, by name, in its order (empty: all of them).
    #[serde(default)]
    pub iforest_inputs: Vec<String>,
    pub thresholds: Thresholds,
    /// Metrics measured at training time (e.g. on the validation slice).
    pub metrics: BTreeMap<String, f64>,
    pub data: DataRange,
    /// Hyper-parameters as configured (the TOML file, flattened to `section.key`).
    pub params: BTreeMap<String, String>,
    /// A sample of training rows (raw, unscaled inputs), the drift monitor's reference.
    pub reference: Vec<Vec<f64>>,
    /// Risks the bundle gave held-out rows (the validation slice): the monitor's reference for
    /// prediction drift. Empty without a validation slice, since risks of the rows a model was
    /// fitted on are more extreme than any it will give in production.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_risks: Vec<f64>,
}

impl Bundle {
    /// Computes the content hash and stores it as the version.
    pub fn seal(mut self) -> Result<Bundle, ModelError> {
        self.version = self.content_hash()?;
        Ok(self)
    }

    fn content_hash(&self) -> Result<String, ModelError> {
        let mut unsealed = self.clone();
        unsealed.version.clear();
        let bytes = serde_json::to_vec(&unsealed)
            .map_err(|e| ModelError::Malformed(format!("bundle cannot be serialised: {e}")))?;
        let digest = Sha256::digest(&bytes);
        let mut hex = String::with_capacity(71);
        hex.push_str("sha256:");
        for b in digest {
            hex.push_str(&format!("{b:02x}"));
        }
        Ok(hex)
    }

    pub fn to_json(&self) -> Result<Vec<u8>, ModelError> {
        serde_json::to_vec(self)
            .map_err(|e| ModelError::Malformed(format!("bundle cannot be serialised: {e}")))
    }

    /// Reads a bundle and checks its format, its hash and its models.
    pub fn from_json(bytes: &[u8]) -> Result<Bundle, ModelError> {
        let bundle: Bundle = serde_json::from_slice(bytes)
            .map_err(|e| ModelError::Malformed(format!("bundle: {e}")))?;
        if bundle.format != FORMAT {
            return Err(ModelError::Unsupported(format!(
                "bundle format {} (this build reads format {FORMAT})",
                bundle.format
            )));
        }
        let hash = bundle.content_hash()?;
        if hash != bundle.version {
            return Err(ModelError::Malformed(format!(
                "bundle version {:?} does not match its content ({hash}): the file was changed or damaged",
                bundle.version
            )));
        }
        Scorer::new(&bundle)?;
        Ok(bundle)
    }

    /// Refuses a bundle trained on other inputs than the running feature set's.
    pub fn check_inputs<'a>(
        &self,
        set: &str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ModelError> {
        let names: Vec<&str> = names.into_iter().collect();
        if self.feature_set == set && self.features.iter().map(String::as_str).eq(names.clone()) {
            return Ok(());
        }
        let first_difference = self
            .features
            .iter()
            .map(String::as_str)
            .zip(names.iter().copied())
            .position(|(a, b)| a != b)
            .unwrap_or(self.features.len().min(names.len()));
        let difference = if self.features.len() == names.len() && first_difference == names.len() {
            "the inputs are the same".to_string()
        } else {
            format!(
                "they first differ at input {first_difference} ({:?} vs {:?})",
                self.features.get(first_difference),
                names.get(first_difference)
            )
        };
        Err(ModelError::Unsupported(format!(
            "bundle {} was trained on feature set {:?} with {} inputs, the running feature set {set:?} has {}; {difference}",
            self.version,
            self.feature_set,
            self.features.len(),
            names.len(),
        )))
    }
}

/// What a bundle says about one row.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Risk {
    /// The decision input: XGBoost's probability, or the anomaly score for `iforest`.
    pub risk: f64,
    /// The Isolation Forest's score in (0, 1] (0 when the bundle has no forest).
    pub anomaly: f64,
}

/// A bundle's models, ready to score rows of raw inputs in the bundle's order.
#[derive(Debug, Clone)]
pub struct Scorer {
    kind: ModelKind,
    width: usize,
    scaling: Vec<Scale>,
    boosted: Option<GradientBoosted>,
    forest: Option<IsolationForest>,
    /// The columns the forest reads (empty: all).
    forest_inputs: Vec<usize>,
}

impl Scorer {
    pub fn new(bundle: &Bundle) -> Result<Scorer, ModelError> {
        let width = bundle.features.len();
        let malformed = |what: String| Err(ModelError::Malformed(format!("bundle: {what}")));
        if width == 0 {
            return malformed("no inputs".into());
        }
        if !bundle.scaling.is_empty() && bundle.scaling.len() != width {
            return malformed(format!(
                "{} scales for {width} inputs",
                bundle.scaling.len()
            ));
        }
        if let Some(s) = bundle
            .scaling
            .iter()
            .find(|s| !s.mean.is_finite() || !s.std.is_finite() || s.std <= 0.0)
        {
            return malformed(format!("a scale of mean {} and std {}", s.mean, s.std));
        }
        let kind = bundle.model;
        let forest_inputs = bundle
            .iforest_inputs
            .iter()
            .map(|name| {
                bundle
                    .features
                    .iter()
                    .position(|f| f == name)
                    .ok_or_else(|| {
                        ModelError::Malformed(format!(
                            "bundle: the forest reads {name:?}, which is not an input"
                        ))
                    })
            })
            .collect::<Result<Vec<usize>, _>>()?;
        let forest_width = if forest_inputs.is_empty() {
            width
        } else {
            forest_inputs.len()
        };
        let forest = match &bundle.iforest {
            Some(f) => {
                f.check()?;
                if f.width() != forest_width {
                    return malformed(format!(
                        "the isolation forest takes {} inputs, the bundle gives it {forest_width}",
                        f.width()
                    ));
                }
                Some(f.clone())
            }
            None if kind.uses_iforest() => {
                return malformed(format!("a {kind} bundle without its forest"));
            }
            None => None,
        };
        let boosted = if kind.uses_xgboost() {
            let b = GradientBoosted::from_json(bundle.xgboost.as_bytes())?;
            let want = width + usize::from(kind == ModelKind::Combined);
            if b.width() != want {
                return malformed(format!(
                    "the XGBoost model takes {} inputs, a {kind} bundle of {width} inputs needs {want}",
                    b.width()
                ));
            }
            Some(b)
        } else {
            None
        };
        let Thresholds { review, block } = bundle.thresholds;
        if review.is_nan() || block.is_nan() || review > block {
            return malformed(format!(
                "review threshold {} above block threshold {}",
                bundle.thresholds.review, bundle.thresholds.block
            ));
        }
        Ok(Scorer {
            kind,
            width,
            scaling: bundle.scaling.clone(),
            boosted,
            forest,
            forest_inputs,
        })
    }

    /// Inputs per row.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    /// Scores `rows` (row after row, raw inputs) into `out`. `scratch` is reused between calls,
    /// so a steady stream of batches allocates nothing. A non-finite input is an error naming
    /// its row and input.
    pub fn score_batch(
        &self,
        rows: &[f64],
        out: &mut [Risk],
        scratch: &mut Vec<f64>,
    ) -> Result<(), ModelError> {
        let w = self.width;
        if rows.len() != out.len() * w {
            return Err(ModelError::Shape(out.len(), w, rows.len()));
        }
        if let Some(i) = rows.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NotFinite {
                row: i / w,
                feature: i % w,
                value: rows[i],
            });
        }
        // Scaled inputs, one spare column per row for the anomaly score of a combined model;
        // then the forest's inputs of every row, and their scores (the forest walks rows in
        // blocks, tree by tree).
        let cw = w + 1;
        let fw = if self.forest_inputs.is_empty() {
            w
        } else {
            self.forest_inputs.len()
        };
        let n = out.len();
        scratch.clear();
        scratch.resize(n * cw + n * fw + n, 0.0);
        let (scaled, rest) = scratch.split_at_mut(n * cw);
        let (gathered, anomalies) = rest.split_at_mut(n * fw);
        for (src, dst) in rows.chunks_exact(w).zip(scaled.chunks_exact_mut(cw)) {
            if self.scaling.is_empty() {
                dst[..w].copy_from_slice(src);
            } else {
                for ((d, &x), s) in dst.iter_mut().zip(src).zip(&self.scaling) {
                    *d = (x - s.mean) / s.std;
                }
            }
        }
        if let Some(forest) = &self.forest {
            for (row, g) in scaled.chunks_exact(cw).zip(gathered.chunks_exact_mut(fw)) {
                if self.forest_inputs.is_empty() {
                    g.copy_from_slice(&row[..w]);
                } else {
                    for (g, &c) in g.iter_mut().zip(&self.forest_inputs) {
                        *g = row[c];
                    }
                }
            }
            forest.score_batch(gathered, anomalies)?;
            for ((row, risk), &a) in scaled
                .chunks_exact_mut(cw)
                .zip(out.iter_mut())
                .zip(anomalies.iter())
            {
                row[w] = a;
                risk.anomaly = a;
                if self.kind == ModelKind::Iforest {
                    risk.risk = a;
                }
            }
        }
        if let Some(boosted) = &self.boosted {
            for (row, risk) in scaled.chunks_exact(cw).zip(out.iter_mut()) {
                let input = if self.kind == ModelKind::Combined {
                    row
                } else {
                    &row[..w]
                };
                risk.risk = boosted.predict(input)?;
            }
        }
        Ok(())
    }

    /// Why XGBoost gave this row (raw inputs) its risk: up to `k` inputs with the largest
    /// positive contribution to the log-odds (TreeSHAP, as XGBoost's `pred_contribs`), as
    /// (input index, contribution), largest first. In a combined bundle the anomaly score is
    /// index `width`, and `risk` is the row's own score (its anomaly score is that input).
    /// Empty for an `iforest` bundle. Meant for alerts, not every row.
    pub fn reasons(
        &self,
        row: &[f64],
        risk: &Risk,
        k: usize,
        scratch: &mut ShapScratch,
    ) -> Result<Vec<(usize, f64)>, ModelError> {
        let Some(boosted) = &self.boosted else {
            return Ok(Vec::new());
        };
        let mut input: Vec<f64> = if self.scaling.is_empty() {
            row.to_vec()
        } else {
            row.iter()
                .zip(&self.scaling)
                .map(|(x, s)| (x - s.mean) / s.std)
                .collect()
        };
        if self.kind == ModelKind::Combined {
            input.push(risk.anomaly);
        }
        boosted.top_reasons(&input, k, scratch)
    }

    /// One row.
    pub fn score(&self, row: &[f64]) -> Result<Risk, ModelError> {
        let mut out = [Risk::default()];
        self.score_batch(row, &mut out, &mut Vec::with_capacity(row.len() + 1))?;
        Ok(out[0])
    }
}
