//! What a case listing may ask for.

use fraudwatch_core::CaseStatus;

/// Most rows one listing returns.
pub const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub customer_id: Option<String>,
    pub assignee: Option<String>,
    pub min_risk: Option<f64>,
    /// Clamped to 1..=[`MAX_LIMIT`].
    pub limit: u32,
}

impl Default for CaseFilter {
    fn default() -> Self {
        Self {
            status: None,
            customer_id: None,
            assignee: None,
            min_risk: None,
            limit: 100,
        }
    }
}

impl CaseFilter {
    pub fn limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, MAX_LIMIT))
    }
}
