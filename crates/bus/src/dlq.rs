//! The typed decode path. Each message either becomes a value or goes to `<topic>.dlq` as a
//! [`DeadLetter`] that keeps the original bytes, its position and the reason. The dead letters are
//! produced before the caller can commit the batch, so nothing is lost and nothing is dropped
//! silently.

use std::collections::BTreeMap;

use base64::Engine as _;
use fraudwatch_core::{Validate, decode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::topics::dlq_topic;
use crate::{Bus, BusError, Message, Record};

/// Most payload bytes a dead letter keeps.
pub const KEPT_BYTES: usize = 64 * 1024;

/// What a dead-letter topic holds: the rejected message, where it came from and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub reason: String,
    /// The original key and payload, as text when they are UTF-8...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// ...and in base64 when they are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_base64: Option<String>,
    /// Set when the payload was longer than [`KEPT_BYTES`]: its full length. Only its first
    /// [`KEPT_BYTES`] bytes are kept here (a dead letter must fit in a message itself); the whole
    /// message stays at `topic`/`partition`/`offset` for the topic's retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_bytes: Option<usize>,
    pub rejected_at: String,
}

impl DeadLetter {
    pub fn new(m: &Message, reason: impl Into<String>) -> Self {
        let (key, key_base64) = match &m.key {
            Some(k) => text_or_base64(k),
            None => (None, None),
        };
        let kept = &m.payload[..m.payload.len().min(KEPT_BYTES)];
        let (payload, payload_base64) = text_or_base64(kept);
        DeadLetter {
            topic: m.topic.to_string(),
            partition: m.partition,
            offset: m.offset,
            reason: reason.into(),
            key,
            payload,
            key_base64,
            payload_base64,
            payload_bytes: (m.payload.len() > KEPT_BYTES).then_some(m.payload.len()),
            rejected_at: fraudwatch_core::time::format(&chrono::Utc::now()),
        }
    }

    /// The original payload bytes (their first [`KEPT_BYTES`] when `payload_bytes` is set).
    pub fn original_payload(&self) -> Option<Vec<u8>> {
        match (&self.payload, &self.payload_base64) {
            (Some(text), _) => Some(text.clone().into_bytes()),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD.decode(b64).ok(),
            (None, None) => None,
        }
    }
}

fn text_or_base64(bytes: &[u8]) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Some(s.to_string()), None),
        Err(_) => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    }
}

/// An encoded dead letter and the key of the message it holds.
type Letter<'a> = (Vec<u8>, Option<&'a [u8]>);

/// The outcome of decoding one batch.
#[derive(Debug)]
pub struct Decoded<T> {
    /// Each valid value with the index of its message in the batch.
    pub items: Vec<(usize, T)>,
    /// How many messages went to the dead-letter topics.
    pub dead: usize,
}

/// Decodes and validates `batch`; every message that fails goes to `<its topic>.dlq` with the
/// reason, produced (and acknowledged) before this returns.
pub async fn decode_batch<T: DeserializeOwned + Validate>(
    bus: &dyn Bus,
    batch: &[Message],
) -> Result<Decoded<T>, BusError> {
    let mut items = Vec::with_capacity(batch.len());
    let mut dead: BTreeMap<String, Vec<Letter<'_>>> = BTreeMap::new();
    let mut count = 0;
    for (i, m) in batch.iter().enumerate() {
        match decode::<T>(&m.payload) {
            Ok(v) => items.push((i, v)),
            Err(e) => {
                tracing::warn!(topic = %m.topic, partition = m.partition, offset = m.offset, reason = %e, "dead letter");
                let letter = serde_json::to_vec(&DeadLetter::new(m, e.to_string()))
                    .map_err(|e| BusError::Other(format!("encoding dead letter: {e}")))?;
                dead.entry(dlq_topic(&m.topic))
                    .or_default()
                    .push((letter, m.key.as_deref()));
                count += 1;
            }
        }
    }
    for (topic, letters) in &dead {
        let records: Vec<Record<'_>> = letters
            .iter()
            .map(|(p, k)| Record {
                key: *k,
                payload: p,
            })
            .collect();
        bus.produce(topic, &records).await?;
    }
    Ok(Decoded { items, dead: count })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn msg(payload: &[u8]) -> Message {
        Message {
            topic: "transactions".into(),
            partition: 2,
            offset: 41,
            key: Some(Bytes::from_static(b"c-1")),
            payload: Bytes::copy_from_slice(payload),
            timestamp_ms: 0,
        }
    }

    #[test]
    fn keeps_the_original_bytes() {
        let text = DeadLetter::new(&msg(b"{oops"), "malformed");
        assert_eq!(text.payload.as_deref(), Some("{oops"));
        assert_eq!(text.original_payload().unwrap(), b"{oops");
        let binary = DeadLetter::new(&msg(b"\xff\x00\xfe"), "malformed");
        assert_eq!(binary.payload, None);
        assert_eq!(binary.original_payload().unwrap(), b"\xff\x00\xfe");
        assert_eq!(binary.key.as_deref(), Some("c-1"));
        let huge = vec![b'x'; 1_000_000];
        let letter = DeadLetter::new(&msg(&huge), "too big");
        assert_eq!(letter.payload_bytes, Some(1_000_000));
        assert_eq!(letter.original_payload().unwrap().len(), KEPT_BYTES);
        assert!(serde_json::to_vec(&letter).unwrap().len() < 2 * KEPT_BYTES);
        assert_eq!(text.payload_bytes, None);
    }
}
