//! The pipeline's topics (DESIGN.md §2) and key partitioning.

pub const TRANSACTIONS: &str = "transactions";
pub const FEATURES: &str = "features";
pub const SCORES: &str = "scores";
pub const LABELS: &str = "labels";
pub const DRIFT_ALERTS: &str = "drift-alerts";
/// Scores of the `challenger` bundle in shadow: recorded, never acted on.
pub const SHADOW_SCORES: &str = "scores.shadow";

/// Every pipeline topic; each also has a dead-letter topic, see [`dlq_topic`].
pub const PIPELINE: [&str; 5] = [TRANSACTIONS, FEATURES, SCORES, LABELS, DRIFT_ALERTS];

/// Where messages of `topic` that cannot be decoded go.
pub fn dlq_topic(topic: &str) -> String {
    format!("{topic}.dlq")
}

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
}

impl TopicSpec {
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: name.into(),
            partitions,
        }
    }

    /// `name` and its dead-letter topic, both with `partitions`.
    pub fn with_dlq(name: &str, partitions: i32) -> [TopicSpec; 2] {
        [
            Self::new(name, partitions),
            Self::new(dlq_topic(name), partitions),
        ]
    }

    /// Every pipeline topic and its dead-letter topic.
    pub fn pipeline(partitions: i32) -> Vec<TopicSpec> {
        PIPELINE
            .iter()
            .flat_map(|t| Self::with_dlq(t, partitions))
            .collect()
    }
}

/// The partition of `key` among `partitions`: murmur2, as Kafka's Java client computes it, so that
/// fraudwatch and a Java producer put one customer on the same partition (the processor's state
/// and the customer's labels must meet there). Keyless records go to partition 0.
pub fn partition_for(key: Option<&[u8]>, partitions: i32) -> i32 {
    match key {
        Some(k) if partitions > 0 => ((murmur2(k) & 0x7fff_ffff) % partitions as u32) as i32,
        _ => 0,
    }
}

/// Kafka's murmur2 (seed 0x9747b28c), as in `org.apache.kafka.common.utils.Utils.murmur2`.
pub fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if let Some(&b) = rest.first() {
        h ^= u32::from(b);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafkas_java_client() {
        // Values from Kafka's UtilsTest.testMurmur2 (as signed ints there).
        let cases: [(&[u8], i32); 5] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input) as i32,
                expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn partitions_are_in_range() {
        for i in 0..1000u32 {
            let p = partition_for(Some(&i.to_le_bytes()), 7);
            assert!((0..7).contains(&p));
        }
        assert_eq!(partition_for(None, 7), 0);
    }
}
