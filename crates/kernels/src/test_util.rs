//! Deterministic data for the unit tests (no external crates).

/// xorshift64*: fast, seedable, good enough to fill test matrices.
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f32, high: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        low + (high - low) * unit
    }

    pub fn uniform_vec(&mut self, len: usize, low: f32, high: f32) -> Vec<f32> {
        (0..len).map(|_| self.uniform(low, high)).collect()
    }
}

/// Integers in `-4..=4` as f32: products and sums of them stay exact in f32.
pub(crate) fn small_integers(rng: &mut Rng, len: usize) -> Vec<f32> {
    (0..len).map(|_| (rng.next_u64() % 9) as f32 - 4.0).collect()
}
