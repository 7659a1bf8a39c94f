//! The population of a profile: customers and terminals, built once from the seed.

use crate::config::{Config, Profile};
use crate::handbook::HandbookWorld;
use crate::rich::RichWorld;

#[derive(Debug, Clone)]
pub enum Population {
    Handbook(HandbookWorld),
    Default(RichWorld),
}

impl Population {
    pub fn new(cfg: &Config) -> Self {
        match cfg.profile {
            Profile::Handbook => {
                Population::Handbook(HandbookWorld::new(cfg.seed, cfg.customers, cfg.terminals))
            }
            Profile::Default => {
                Population::Default(RichWorld::new(cfg.seed, cfg.customers, cfg.terminals))
            }
        }
    }

    pub fn customers(&self) -> usize {
        match self {
            Population::Handbook(w) => w.customers.len(),
            Population::Default(w) => w.customers.len(),
        }
    }

    pub fn terminals(&self) -> usize {
        match self {
            Population::Handbook(w) => w.terminals.len(),
            Population::Default(w) => w.terminals.len(),
        }
    }

    /// Customer `c`'s mean amount, in euros.
    pub fn mean_amount(&self, c: usize) -> f64 {
        match self {
            Population::Handbook(w) => w.customers[c].mean_amount,
            Population::Default(w) => w.customers[c].mean_amount,
        }
    }

    /// Expected genuine transactions a day (before any drift).
    pub fn expected_per_day(&self) -> f64 {
        match self {
            Population::Handbook(w) => w.expected_per_day(),
            Population::Default(w) => w.expected_per_day(),
        }
    }
}
