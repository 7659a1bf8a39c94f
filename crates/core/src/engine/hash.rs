//! `IdMap`: a hash map from `Id` with a fast deterministic hasher. std's default SipHash costs
//! more than the rest of a window lookup; ids come from upstream systems (card and terminal
//! numbers), not from whoever pays, so a keyed DoS-resistant hash buys little here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::id::Id;

/// Multiply-rotate over 8-byte words (as FxHash), finished with murmur3's avalanche so the low
/// bits the table indexes with depend on every input bit.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A map keyed by id.
pub type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn spreads_sequential_ids_over_the_low_bits() {
        let b = BuildHasherDefault::<IdHasher>::default();
        let mut buckets = [0u32; 64];
        for n in 0..64_000u64 {
            buckets[(b.hash_one(Id::from(n)) & 63) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&c| (800..1200).contains(&c)),
            "{buckets:?}"
        );
        assert_ne!(b.hash_one(Id::from("ab")), b.hash_one(Id::from("ba")));
        assert_ne!(b.hash_one(Id::from("a")), b.hash_one(Id::from("a\0")));
    }
}
