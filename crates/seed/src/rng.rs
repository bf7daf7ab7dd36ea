//! Deterministic randomness: every record draws from its own stream derived from the seed and its
//! sequence number, so the data do not depend on batch size or generation order.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng};

pub struct Rng(StdRng);

impl Rng {
    /// The stream for record `n` of kind `stream` under `seed`.
    pub fn for_record(seed: u64, stream: u64, n: u64) -> Rng {
        // SplitMix-style mixing so neighbouring records get unrelated streams.
        let mut z = seed
            ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ n.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 30)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng(StdRng::seed_from_u64(z ^ (z >> 31)))
    }

    pub fn below(&mut self, n: u32) -> u32 {
        self.0.random_range(0..n.max(1))
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p)
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        self.0.random_range(lo..hi)
    }
}

pub fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u32) as usize]
}

/// Draws one item with probability proportional to `weight(item)`.
pub fn weighted_by<'a, T>(rng: &mut Rng, items: &'a [T], weight: impl Fn(&T) -> u32) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut r = rng.below(total);
    for item in items {
        let w = weight(item);
        if r < w {
            return item;
        }
        r -= w;
    }
    &items[0]
}

pub fn weighted<T: Copy>(rng: &mut Rng, items: &[(T, u32)]) -> T {
    weighted_by(rng, items, |i| i.1).0
}
