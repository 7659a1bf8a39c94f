//! The time-ordered split of a run's rows, never a random one: the newest days whose labels have
//! settled are the holdout; training days end `delay_days` before it, as in the fraud
//! handbook's protocol (when a model goes live, its last days' labels are not all known).
//!
//! ```text
//! ... | train_days | delay_days | test_days | label_delay_days | newest
//! ```

use fraudwatch_train::Dataset;

use crate::RetrainConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
    /// First and last day (days since the epoch) of each part, as asked.
    pub train_days: (i64, i64),
    pub test_days: (i64, i64),
}

impl Split {
    /// Splits `data` by the day of its newest row.
    pub fn new(data: &Dataset, config: &RetrainConfig) -> Split {
        let newest = (0..data.len()).map(|i| data.day(i)).max().unwrap_or(0);
        let test_last = newest - i64::from(config.label_delay_days);
        let test_first = test_last - i64::from(config.test_days) + 1;
        let train_last = test_first - i64::from(config.delay_days) - 1;
        let train_first = train_last - i64::from(config.train_days) + 1;
        Split {
            train: data.days(train_first, train_last),
            test: data.days(test_first, test_last),
            train_days: (train_first, train_last),
            test_days: (test_first, test_last),
        }
    }
}

#[cfg(test)]
mod tests {
    use fraudwatch_train::dataset::date_of;

    use super::*;

    #[test]
    fn parts_follow_each_other_in_time_with_the_gaps_between() {
        let mut data = Dataset::new(vec!["x".into()]);
        let id = fraudwatch_core::Id::from(1u64);
        for day in 0..60i64 {
            data.push(&id, day * 86_400_000 + 1, &id, false, &[1.0])
                .unwrap();
        }
        let config = RetrainConfig {
            train_days: 10,
            delay_days: 3,
            test_days: 5,
            label_delay_days: 7,
            ..RetrainConfig::default()
        };
        let s = Split::new(&data, &config);
        assert_eq!(s.test_days, (48, 52));
        assert_eq!(s.train_days, (35, 44));
        assert_eq!((s.train.len(), s.test.len()), (10, 5));
        assert_eq!(date_of(s.test_days.1).to_string(), "1970-02-22");
    }
}
