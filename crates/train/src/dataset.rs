//! Labelled rows of model inputs, with what the protocols need to split them: time, card, label.

use std::collections::HashMap;

use chrono::NaiveDate;
use fraudwatch_core::Id;
use fraudwatch_core::engine::DAY_MS;

use crate::TrainError;

/// Rows of inputs (row-major), one per transaction.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    names: Vec<String>,
    values: Vec<f64>,
    ids: Vec<Id>,
    times: Vec<i64>,
    cards: Vec<u32>,
    frauds: Vec<bool>,
    card_numbers: HashMap<Id, u32>,
    /// Each card number's id.
    card_ids: Vec<Id>,
}

impl Dataset {
    pub fn new(names: Vec<String>) -> Dataset {
        Dataset {
            names,
            ..Dataset::default()
        }
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn width(&self) -> usize {
        self.names.len()
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Adds a row; `inputs` must hold [`Dataset::width`] finite values.
    pub fn push(
        &mut self,
        id: &Id,
        time_ms: i64,
        card: &Id,
        fraud: bool,
        inputs: &[f64],
    ) -> Result<(), TrainError> {
        if inputs.len() != self.width() {
            return Err(TrainError::Data(format!(
                "transaction {id}: {} inputs, the data set has {}",
                inputs.len(),
                self.width()
            )));
        }
        if let Some(i) = inputs.iter().position(|v| !v.is_finite()) {
            return Err(TrainError::Data(format!(
                "transaction {id}: input {} is {}",
                self.names[i], inputs[i]
            )));
        }
        let next = self.card_numbers.len() as u32;
        let card = *self.card_numbers.entry(card.clone()).or_insert_with(|| {
            self.card_ids.push(card.clone());
            next
        });
        self.values.extend_from_slice(inputs);
        self.ids.push(id.clone());
        self.times.push(time_ms);
        self.cards.push(card);
        self.frauds.push(fraud);
        Ok(())
    }

    pub fn row(&self, i: usize) -> &[f64] {
        let w = self.width();
        &self.values[i * w..(i + 1) * w]
    }

    pub fn id(&self, i: usize) -> &Id {
        &self.ids[i]
    }

    pub fn time(&self, i: usize) -> i64 {
        self.times[i]
    }

    /// The row's calendar day (UTC), as days since 1970-01-01.
    pub fn day(&self, i: usize) -> i64 {
        self.times[i].div_euclid(DAY_MS)
    }

    pub fn card(&self, i: usize) -> u32 {
        self.cards[i]
    }

    /// The row's card (customer) as it was given.
    pub fn card_id(&self, i: usize) -> &Id {
        &self.card_ids[self.cards[i] as usize]
    }

    pub fn fraud(&self, i: usize) -> bool {
        self.frauds[i]
    }

    /// The rows whose day is in `first..=last`, in row order.
    pub fn days(&self, first: i64, last: i64) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| (first..=last).contains(&self.day(i)))
            .collect()
    }

    /// The inputs of `rows`, row-major.
    pub fn gather(&self, rows: &[usize]) -> Vec<f64> {
        let mut out = Vec::with_capacity(rows.len() * self.width());
        for &i in rows {
            out.extend_from_slice(self.row(i));
        }
        out
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn day_number(date: NaiveDate) -> i64 {
    date.signed_duration_since(NaiveDate::default()).num_days()
}

/// The date of a day number.
pub fn date_of(day: i64) -> NaiveDate {
    NaiveDate::default() + chrono::Duration::days(day)
}
