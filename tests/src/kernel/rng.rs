//! The seeded random source. One `u64` seed reproduces a whole run.
//!
//! SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator whose output is a pure
//! function of its state, so that besides a stream ([`SimRng`]) the kernel can draw values
//! keyed by *what* is asked ([`keyed`]: a fault for the nth `StopDBCluster` on `dev-1`)
//! rather than by the global order of draws, which any change to a function would shift.

/// One SplitMix64 step: mixes `x` into a well-distributed 64-bit value.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a over the bytes of `s`: a stable hash (std's hashers may change between releases).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// A value in [0, 1) keyed by the seed and the parts that name the draw.
pub fn keyed(seed: u64, parts: &[&str], n: u64) -> f64 {
    let mut h = mix(seed);
    for p in parts {
        h = mix(h ^ stable_hash(p));
    }
    unit(mix(h ^ n))
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A seeded stream of random values.
#[derive(Debug, Clone)]
pub struct SimRng {
    state: u64,
}

impl SimRng {
    pub fn new(seed: u64) -> Self {
        Self {
            state: mix(seed ^ 0x5EED),
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// Uniform in [0, n); 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Uniform in [lo, hi] (inclusive).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = {
            let mut r = SimRng::new(7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let mut r = SimRng::new(7);
        assert_eq!(a, (0..5).map(|_| r.next_u64()).collect::<Vec<_>>());
        let mut other = SimRng::new(8);
        assert_ne!(a[0], other.next_u64());
    }

    #[test]
    fn keyed_draws_do_not_depend_on_order() {
        let x = keyed(1, &["dev-1", "StopDBCluster"], 3);
        let _ = keyed(1, &["dev-2", "StopDBCluster"], 0);
        assert_eq!(x, keyed(1, &["dev-1", "StopDBCluster"], 3));
        assert_ne!(x, keyed(1, &["dev-1", "StopDBCluster"], 4));
        assert!((0.0..1.0).contains(&x));
    }

    #[test]
    fn draws_are_roughly_uniform() {
        let mut r = SimRng::new(42);
        let n = 20_000;
        let hits = (0..n).filter(|_| r.chance(0.3)).count() as f64 / n as f64;
        assert!((hits - 0.3).abs() < 0.02, "{hits}");
        assert!((0..1000).all(|_| r.between(3, 5) >= 3));
    }
}
