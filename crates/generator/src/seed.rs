//! Seeding. Every random decision draws from a stream derived from (seed, purpose, index), so a
//! day's genuine transactions do not change when, say, a scenario's rate does.

use rand::SeedableRng;

/// The generator's PRNG: small, fast, seedable, and stable across platforms.
pub type Rng = rand_pcg::Pcg64Mcg;

/// What a stream of random numbers is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    Customers = 1,
    Terminals = 2,
    Genuine = 3,
    TerminalDraws = 4,
    CardDraws = 5,
    CardSelection = 6,
    CardTesting = 7,
    Takeover = 8,
    Collusion = 9,
}

/// SplitMix64's finaliser: a bijection that scatters nearby inputs.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream for `purpose` and `index` (e.g. a day) under `seed`.
pub fn rng(seed: u64, purpose: Purpose, index: u64) -> Rng {
    Rng::seed_from_u64(mix(mix(mix(seed) ^ purpose as u64) ^ index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = rng(7, Purpose::Genuine, 3).random();
        let b: u64 = rng(7, Purpose::Genuine, 3).random();
        let c: u64 = rng(7, Purpose::Genuine, 4).random();
        let d: u64 = rng(7, Purpose::CardDraws, 3).random();
        let e: u64 = rng(8, Purpose::Genuine, 3).random();
        assert_eq!(a, b);
        assert!(a != c && a != d && a != e);
    }
}
