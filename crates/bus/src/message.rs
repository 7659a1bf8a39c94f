//! What goes onto the bus and what comes off it.

use std::sync::Arc;

use bytes::Bytes;

/// A record to produce: borrowed, so producing a batch copies each payload once, into the backend.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Partitioning key (the customer id for pipeline topics).
    pub key: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

impl<'a> Record<'a> {
    pub fn new(key: &'a [u8], payload: &'a [u8]) -> Self {
        Self {
            key: Some(key),
            payload,
        }
    }
}

/// A consumed message with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Shared: the messages of one topic point at one name.
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Bytes>,
    pub payload: Bytes,
    /// Milliseconds since the epoch at which the bus accepted the message: the pipeline's
    /// `ingested_at` for a transaction.
    pub timestamp_ms: i64,
}
