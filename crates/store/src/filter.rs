//! What a case listing may ask for, and where a page ends.

use fraudwatch_core::{CaseStatus, Decision, Timestamp};

/// Most rows one listing returns.
pub const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    pub decision: Option<Decision>,
    pub customer_id: Option<String>,
    pub assignee: Option<String>,
    pub min_risk: Option<f64>,
    /// Event time range, `from` inclusive, `to` exclusive.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Keyset cursor: only cases after this one in the listing's order.
    pub after: Option<Cursor>,
    /// Clamped to 1..=[`MAX_LIMIT`].
    pub limit: u32,
}

/// A position in the listing's order (risk descending, then transaction id ascending). Paging by
/// position rather than by offset keeps pages stable while cases are added or change status.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub risk: f64,
    pub transaction_id: String,
}

impl Default for CaseFilter {
    fn default() -> Self {
        Self {
            status: None,
            decision: None,
            customer_id: None,
            assignee: None,
            min_risk: None,
            from: None,
            to: None,
            after: None,
            limit: 100,
        }
    }
}

impl CaseFilter {
    pub fn limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, MAX_LIMIT))
    }
}
