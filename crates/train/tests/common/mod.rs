//! Shared by the tests that compare the native models with the XGBoost library: seeded data.
#![allow(dead_code)]

pub const WIDTH: usize = 8;

/// SplitMix64: a small seeded generator for test data.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows with a rare nonlinear label; `missing` of the values are NaN.
pub fn data(rows: usize, seed: u64, missing: f64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng(seed);
    let mut x = Vec::with_capacity(rows * WIDTH);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let row: Vec<f64> = (0..WIDTH).map(|j| rng.next() * (j + 1) as f64).collect();
        let signal = row[0] * row[1] - row[2] + (row[3] * 3.0).sin() + 0.5 * rng.next();
        y.push(f32::from(u8::from(signal > 1.2)));
        x.extend(row.iter().map(|&v| {
            if rng.next() < missing {
                f32::NAN
            } else {
                v as f32
            }
        }));
    }
    (x, y)
}
