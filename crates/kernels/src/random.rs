//! xoshiro128** (Blackman & Vigna), the generator ferronet's TypeScript side seeds and uses
//! (ts/random.ts). The Rust model draws dropout masks from it, so the state the Trainer hands
//! over gives the same masks here as in the ts backend.

/// xoshiro128**'s four-word state; seeding happens in TypeScript, which hands the words over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Xoshiro128 {
    state: [u32; 4],
}

impl Xoshiro128 {
    pub fn from_state(state: [u32; 4]) -> Self {
        Xoshiro128 { state }
    }

    pub fn state(&self) -> [u32; 4] {
        self.state
    }

    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Uniform in `[0, 1)` with 32 random bits, exactly as `Random.uniform()` in TypeScript.
    pub fn uniform(&mut self) -> f64 {
        f64::from(self.next_u32()) / 4_294_967_296.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence_of_xoshiro128_star_star() {
        // The first outputs of the reference C implementation from the state {1, 2, 3, 4}.
        let mut random = Xoshiro128::from_state([1, 2, 3, 4]);
        let outputs: Vec<u32> = (0..4).map(|_| random.next_u32()).collect();
        assert_eq!(outputs, [11520, 0, 5927040, 70819200]);
    }
}
