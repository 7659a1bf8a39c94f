//! What a run's data must be before anything is trained on it. Each refusal says what was
//! wrong with which numbers; a refused run stops at `validate` and leaves the champion.

use serde::Serialize;

use fraudwatch_train::Dataset;

use crate::{RetrainConfig, Split};

/// Why the data were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("the extract holds no labelled transactions")]
    Empty,
    #[error("{rows} training rows from {first} to {last}; at least {min} are needed")]
    TooFewRows {
        rows: usize,
        min: usize,
        first: String,
        last: String,
    },
    #[error("{frauds} frauds among the training rows; at least {min} are needed")]
    TooFewFrauds { frauds: usize, min: usize },
    #[error("the training rows' fraud rate is {rate:.6}, outside [{min}, {max}]")]
    LabelRate { rate: f64, min: f64, max: f64 },
    #[error("no holdout: no settled labels from {first} to {last}")]
    NoHoldout { first: String, last: String },
    #[error("the holdout holds no fraud, so no model can be judged on it")]
    NoHoldoutFraud,
    #[error("the champion reads {missing:?}, which the extract does not hold")]
    Schema { missing: Vec<String> },
    #[error("leakage: a holdout row ({test}) is not later than every training row ({train})")]
    Leakage { train: i64, test: i64 },
}

/// What was checked, for the run's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validated {
    pub train_rows: usize,
    pub train_frauds: usize,
    pub test_rows: usize,
    pub test_frauds: usize,
    pub label_rate: f64,
}

/// Checks row counts, the label rate, the schema (every feature the champion reads is there),
/// and that the holdout comes strictly after the training rows.
pub fn validate(
    data: &Dataset,
    split: &Split,
    champion_features: &[String],
    config: &RetrainConfig,
) -> Result<Validated, Refusal> {
    if data.is_empty() {
        return Err(Refusal::Empty);
    }
    let day = |d: i64| fraudwatch_train::dataset::date_of(d).to_string();
    let frauds = |rows: &[usize]| rows.iter().filter(|&&i| data.fraud(i)).count();
    let (train_frauds, test_frauds) = (frauds(&split.train), frauds(&split.test));
    if split.train.len() < config.min_rows.max(2) {
        return Err(Refusal::TooFewRows {
            rows: split.train.len(),
            min: config.min_rows.max(2),
            first: day(split.train_days.0),
            last: day(split.train_days.1),
        });
    }
    if train_frauds < config.min_frauds {
        return Err(Refusal::TooFewFrauds {
            frauds: train_frauds,
            min: config.min_frauds,
        });
    }
    let rate = train_frauds as f64 / split.train.len() as f64;
    if !(config.min_label_rate..=config.max_label_rate).contains(&rate) {
        return Err(Refusal::LabelRate {
            rate,
            min: config.min_label_rate,
            max: config.max_label_rate,
        });
    }
    if split.test.is_empty() {
        return Err(Refusal::NoHoldout {
            first: day(split.test_days.0),
            last: day(split.test_days.1),
        });
    }
    if test_frauds == 0 {
        return Err(Refusal::NoHoldoutFraud);
    }
    let missing: Vec<String> = champion_features
        .iter()
        .filter(|f| !data.names().contains(f))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::Schema { missing });
    }
    let last_train = split.train.iter().map(|&i| data.time(i)).max();
    let first_test = split.test.iter().map(|&i| data.time(i)).min();
    if let (Some(train), Some(test)) = (last_train, first_test)
        && test <= train
    {
        return Err(Refusal::Leakage { train, test });
    }
    Ok(Validated {
        train_rows: split.train.len(),
        train_frauds,
        test_rows: split.test.len(),
        test_frauds,
        label_rate: rate,
    })
}

#[cfg(test)]
mod tests {
    use fraudwatch_core::Id;

    use super::*;

    /// `days` days of `per_day` rows, every `fraud_every`-th a fraud.
    fn data(days: i64, per_day: i64, fraud_every: i64) -> Dataset {
        let mut d = Dataset::new(vec!["a".into(), "b".into()]);
        for day in 0..days {
            for k in 0..per_day {
                let n = day * per_day + k;
                let id = Id::from(n as u64);
                let t = day * 86_400_000 + k * 1_000;
                d.push(
                    &id,
                    t,
                    &Id::from((n % 50) as u64),
                    n % fraud_every == 0,
                    &[1.0, 2.0],
                )
                .unwrap();
            }
        }
        d
    }

    fn config() -> RetrainConfig {
        RetrainConfig {
            min_rows: 100,
            min_frauds: 5,
            ..RetrainConfig::default()
        }
    }

    #[test]
    fn good_data_pass_and_each_flaw_is_named() {
        let d = data(60, 20, 10);
        let s = Split::new(&d, &config());
        let v = validate(&d, &s, &["a".into()], &config()).unwrap();
        assert_eq!((v.train_rows, v.test_rows), (420, 140));
        assert!((v.label_rate - 0.1).abs() < 1e-9);

        let empty = Dataset::new(vec!["a".into()]);
        let err = validate(&empty, &Split::new(&empty, &config()), &[], &config()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the extract holds no labelled transactions"
        );

        let no_labels = data(60, 20, i64::MAX);
        let err = validate(
            &no_labels,
            &Split::new(&no_labels, &config()),
            &[],
            &config(),
        )
        .unwrap_err();
        assert_eq!(err, Refusal::TooFewFrauds { frauds: 0, min: 5 });

        let short = data(20, 20, 10);
        let err = validate(&short, &Split::new(&short, &config()), &[], &config()).unwrap_err();
        assert!(err.to_string().contains("training rows from"), "{err}");

        let err = validate(&d, &s, &["a".into(), "zz".into()], &config()).unwrap_err();
        assert!(err.to_string().contains("\"zz\""), "{err}");

        let all_fraud = data(60, 20, 1);
        let err = validate(
            &all_fraud,
            &Split::new(&all_fraud, &config()),
            &[],
            &config(),
        )
        .unwrap_err();
        assert!(matches!(err, Refusal::LabelRate { .. }), "{err}");

        // A split whose parts overlap in time is leakage, whatever produced it.
        let mut overlapping = s.clone();
        overlapping.test.push(s.train[0]);
        let err = validate(&d, &overlapping, &[], &config()).unwrap_err();
        assert!(err.to_string().starts_with("leakage"), "{err}");
    }
}
