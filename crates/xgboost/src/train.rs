//! The training loop: boost round by round, evaluate, and stop early on a validation set the way
//! XGBoost's Python `xgb.train(..., early_stopping_rounds=k)` does.

use crate::{Booster, Matrix, XgbError};

/// Name of the training set in evaluation lines.
const TRAIN: &str = "train";
/// Name of the validation set in evaluation lines.
const VALID: &str = "valid";

/// What to train.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainConfig {
    /// Maximum number of boosting rounds.
    pub rounds: u32,
    /// Stop when the validation metric has not improved for this many rounds. Only used when
    /// [`train`] gets a validation set; must be at least 1.
    pub early_stopping_rounds: Option<u32>,
    /// XGBoost parameters in the order they are set, e.g. `("objective", "binary:logistic")`,
    /// `eta`, `max_depth`, `tree_method`, `base_score`, `seed`, `scale_pos_weight`, `nthread`.
    /// `eval_metric` may appear several times; the last one drives early stopping.
    pub params: Vec<(String, String)>,
}

impl TrainConfig {
    /// `rounds` rounds, no early stopping, no parameters (XGBoost's defaults).
    pub fn new(rounds: u32) -> TrainConfig {
        TrainConfig {
            rounds,
            early_stopping_rounds: None,
            params: Vec::new(),
        }
    }

    /// Append one parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> TrainConfig {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Set the early-stopping patience.
    pub fn early_stopping(mut self, rounds: u32) -> TrainConfig {
        self.early_stopping_rounds = Some(rounds);
        self
    }
}

/// One boosting round's evaluation: the value of the last (or only) metric on each set, `None`
/// when that set was not evaluated this run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    pub iteration: u32,
    pub train: Option<f64>,
    pub valid: Option<f64>,
}

/// The result of [`train`].
#[derive(Debug)]
pub struct Trained {
    /// With early stopping, sliced to the best iteration (`rounds() == best_iteration + 1`).
    pub booster: Booster,
    /// The round with the best validation score; `None` without early stopping.
    pub best_iteration: Option<u32>,
    /// One entry per round trained, in order (including the rounds after the best one).
    pub history: Vec<Round>,
}

/// Train a model on `train`, evaluating on `valid` if given, calling `on_round` after each round.
///
/// - With `valid` and `cfg.early_stopping_rounds = Some(k)`: each round is evaluated on both
///   sets; training stops once the last metric on `valid` has not improved for `k` rounds
///   (maximised for `auc`/`aucpr`/`map`/`ndcg`/`pre`-like metrics, minimised otherwise, see
///   [`is_maximize_metric`]); the returned booster is sliced to the best round.
/// - Otherwise all `cfg.rounds` rounds are trained. Rounds are evaluated only if an
///   `eval_metric` parameter is set, on `train` and on `valid` if given.
pub fn train(
    cfg: &TrainConfig,
    train: &Matrix,
    valid: Option<&Matrix>,
    on_round: &mut dyn FnMut(&Round),
) -> Result<Trained, XgbError> {
    if cfg.early_stopping_rounds == Some(0) {
        return Err(XgbError::InvalidInput(
            "early_stopping_rounds must be at least 1".into(),
        ));
    }
    if i32::try_from(cfg.rounds).is_err() {
        return Err(XgbError::InvalidInput(format!(
            "{} rounds is more than XGBoost can count",
            cfg.rounds
        )));
    }
    // XGBoost "trains" on an empty matrix with only a warning; that is never what a caller wants.
    if train.rows() == 0 {
        return Err(XgbError::InvalidInput(
            "the training matrix has no rows".into(),
        ));
    }
    let patience = valid.and(cfg.early_stopping_rounds);

    let mut cache = vec![train];
    cache.extend(valid);
    let mut booster = Booster::new(&cache)?;
    // As XGBoost's Python package does: warn (on stderr) about parameters nothing used, such as
    // typos. The C API's default is to ignore them silently. `cfg.params` may override this.
    booster.set_param("validate_parameters", "1")?;
    for (name, value) in &cfg.params {
        booster.set_param(name, value)?;
    }

    let has_metric = cfg.params.iter().any(|(name, _)| name == "eval_metric");
    let mut eval_sets: Vec<(&str, &Matrix)> = Vec::new();
    if patience.is_some() || has_metric {
        eval_sets.push((TRAIN, train));
        if let Some(valid) = valid {
            eval_sets.push((VALID, valid));
        }
    }

    let mut stopper = patience.map(EarlyStopping::new);
    let mut history = Vec::new();
    for iteration in 0..cfg.rounds {
        // Checked above: every iteration fits in an i32.
        let it = iteration as i32;
        booster.update(it, train)?;

        let mut round = Round {
            iteration,
            train: None,
            valid: None,
        };
        let mut stop = false;
        if !eval_sets.is_empty() {
            let line = booster.eval(it, &eval_sets)?;
            let parsed = parse_eval(&line)?;
            round.train = parsed.last_of(TRAIN).map(|s| s.value);
            round.valid = parsed.last_of(VALID).map(|s| s.value);
            if let Some(stopper) = &mut stopper {
                let score = parsed.last_of(VALID).ok_or_else(|| XgbError::EvalParse {
                    line: line.clone(),
                    reason: format!("no score for the {VALID:?} set"),
                })?;
                stop = stopper.observe(iteration, &score.metric, score.value);
            }
        }
        on_round(&round);
        history.push(round);
        if stop {
            break;
        }
    }

    let best_iteration = stopper.and_then(|s| s.best).map(|(iteration, _)| iteration);
    if let Some(best) = best_iteration {
        // best < rounds <= i32::MAX, so best + 1 fits.
        let keep = best as i32 + 1;
        if keep < booster.rounds()? {
            booster = booster.slice(0, keep)?;
        }
    }
    Ok(Trained {
        booster,
        best_iteration,
        history,
    })
}

/// Python's `EarlyStopping` callback with `min_delta = 0`: the first score is the best; a later
/// one replaces it only if strictly better (so NaN never improves); stop after `patience`
/// rounds in a row without improvement.
#[derive(Debug)]
struct EarlyStopping {
    patience: u32,
    maximize: Option<bool>,
    best: Option<(u32, f64)>,
    since_best: u32,
}

impl EarlyStopping {
    fn new(patience: u32) -> EarlyStopping {
        EarlyStopping {
            patience,
            maximize: None,
            best: None,
            since_best: 0,
        }
    }

    /// Record a round's score; `true` means stop now.
    fn observe(&mut self, iteration: u32, metric: &str, score: f64) -> bool {
        let maximize = *self
            .maximize
            .get_or_insert_with(|| is_maximize_metric(metric));
        let improved = match self.best {
            None => true,
            Some((_, best)) if maximize => score > best,
            Some((_, best)) => score < best,
        };
        if improved {
            self.best = Some((iteration, score));
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        self.since_best >= self.patience
    }
}

/// Whether early stopping maximises `metric` (as named in an evaluation line, e.g. `auc`,
/// `ndcg@5`, `logloss`). Same rule as XGBoost's Python package: names starting with `auc`,
/// `aucpr`, `pre`, `map` or `ndcg` are maximised, except `mape`; everything else is minimised.
pub fn is_maximize_metric(metric: &str) -> bool {
    const MAXIMIZE: [&str; 5] = ["auc", "aucpr", "pre", "map", "ndcg"];
    metric != "mape" && MAXIMIZE.iter().any(|prefix| metric.starts_with(prefix))
}

/// One `set-metric:value` entry of an evaluation line.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub set: String,
    pub metric: String,
    pub value: f64,
}

/// A parsed evaluation line such as `"[3]\ttrain-auc:0.91\tvalid-auc:0.88"`.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalLine {
    pub iteration: i64,
    /// In the order XGBoost printed them: per set, every metric in the order configured.
    pub scores: Vec<Score>,
}

impl EvalLine {
    /// The last score of `set`, i.e. its last configured metric.
    pub fn last_of(&self, set: &str) -> Option<&Score> {
        self.scores.iter().rev().find(|s| s.set == set)
    }
}

/// Parse XGBoost's evaluation line: `[<iteration>]` then tab-separated `<set>-<metric>:<value>`
/// entries. The set name ends at the first `-` (set names must not contain one) and the value
/// starts after the last `:`. Values may be `nan`/`inf`.
pub fn parse_eval(line: &str) -> Result<EvalLine, XgbError> {
    let fail = |reason: String| XgbError::EvalParse {
        line: line.to_owned(),
        reason,
    };
    let mut fields = line.split_whitespace();
    let head = fields.next().ok_or_else(|| fail("empty line".into()))?;
    let iteration = head
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| fail(format!("expected \"[<iteration>]\", found {head:?}")))?;
    let scores = fields
        .map(|field| {
            let (name, value) = field
                .rsplit_once(':')
                .ok_or_else(|| fail(format!("no ':' in {field:?}")))?;
            let (set, metric) = name
                .split_once('-')
                .ok_or_else(|| fail(format!("no '-' in {name:?}")))?;
            if set.is_empty() || metric.is_empty() {
                return Err(fail(format!("empty set or metric name in {field:?}")));
            }
            let value = value
                .parse::<f64>()
                .map_err(|e| fail(format!("value {value:?}: {e}")))?;
            Ok(Score {
                set: set.to_owned(),
                metric: metric.to_owned(),
                value,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EvalLine { iteration, scores })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_line_with_two_sets_and_two_metrics() {
        let line = "[3]\ttrain-auc:0.91000000000000003\ttrain-logloss:0.2\tvalid-auc:0.88\tvalid-logloss:0.31";
        let parsed = parse_eval(line).unwrap();
        assert_eq!(parsed.iteration, 3);
        assert_eq!(parsed.scores.len(), 4);
        assert_eq!(parsed.last_of("train").unwrap().metric, "logloss");
        assert_eq!(parsed.last_of("valid").unwrap().value, 0.31);
        assert!(parsed.last_of("test").is_none());
    }

    #[test]
    fn parses_metric_names_with_dashes_ats_and_nan_values() {
        let parsed =
            parse_eval("[0]\tvalid-map@3-:nan\tvalid-error@0.7:-nan\ttrain-rmse:inf").unwrap();
        assert_eq!(parsed.scores[0].metric, "map@3-");
        assert!(parsed.scores[0].value.is_nan());
        assert_eq!(parsed.scores[1].metric, "error@0.7");
        assert!(parsed.scores[1].value.is_nan());
        assert_eq!(parsed.scores[2].value, f64::INFINITY);
    }

    #[test]
    fn a_line_without_scores_is_fine() {
        assert_eq!(
            parse_eval("[7]").unwrap(),
            EvalLine {
                iteration: 7,
                scores: vec![]
            }
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        for line in [
            "",
            "  ",
            "3\ttrain-auc:0.9",
            "[x]\ttrain-auc:0.9",
            "[1]\ttrain-auc=0.9",
            "[1]\ttrainauc:0.9",
            "[1]\ttrain-auc:",
            "[1]\ttrain-auc:abc",
            "[1]\t-auc:0.5",
            "[1]\ttrain-:0.5",
        ] {
            assert!(
                matches!(parse_eval(line), Err(XgbError::EvalParse { .. })),
                "{line:?}"
            );
        }
    }

    #[test]
    fn metric_direction_follows_the_python_package() {
        for m in [
            "auc", "aucpr", "ndcg", "ndcg@5", "ndcg@5-", "map", "map@3", "pre@10", "auc@2",
        ] {
            assert!(is_maximize_metric(m), "{m}");
        }
        for m in [
            "logloss",
            "error",
            "error@0.7",
            "rmse",
            "mae",
            "mape",
            "mlogloss",
            "merror",
            "aft-nloglik",
        ] {
            assert!(!is_maximize_metric(m), "{m}");
        }
    }

    #[test]
    fn early_stopping_counts_rounds_without_strict_improvement() {
        let mut s = EarlyStopping::new(2);
        assert!(!s.observe(0, "logloss", 0.5));
        assert!(!s.observe(1, "logloss", 0.4));
        assert!(!s.observe(2, "logloss", 0.4)); // a tie is not an improvement
        assert!(s.observe(3, "logloss", 0.45));
        assert_eq!(s.best, Some((1, 0.4)));

        let mut s = EarlyStopping::new(1);
        assert!(!s.observe(0, "auc", 0.7));
        assert!(!s.observe(1, "auc", 0.8));
        assert!(s.observe(2, "auc", f64::NAN));
        assert_eq!(s.best, Some((1, 0.8)));
    }
}
