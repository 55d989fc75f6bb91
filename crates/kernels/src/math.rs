//! Elementary functions for the elementwise kernels, written to vectorize.
//!
//! libm's `expf`/`tanhf`/`logf` are scalar calls, which keep LLVM from vectorizing the loops
//! that apply them and dominate small training steps. These use only float arithmetic, bit
//! casts and selects, so a loop over a slice compiles to SIMD on every instruction set. Each
//! is within a few float32 ulps of the true value (tests below sweep them against f64).
//!
//! Each is generic over how it multiplies and adds ([`MulAdd`]): the polynomials are chains
//! of multiply-adds, one after another, so a fused multiply-add shortens each chain by half
//! where the instruction set has one (`multiversion!` picks).

/// How a polynomial step `a * b + c` is computed. [`Fused`] rounds once, with the instruction
/// set's fused multiply-add: one instruction on the chain instead of two, and more exact.
/// [`Unfused`] rounds the product and the sum: on a target without FMA `f32::mul_add` is a call
/// to libm's `fmaf`, which would keep the loops from vectorizing.
pub(crate) trait MulAdd {
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

// Only the tests use it where no instruction set fuses (wasm32).
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(dead_code))]
pub(crate) enum Fused {}

// Only the tests use it on aarch64, where the baseline fuses.
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
pub(crate) enum Unfused {}

impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

impl MulAdd for Unfused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// The multiply-add of code compiled for no particular instruction set: FMA is part of
/// aarch64's baseline, not of x86_64's or wasm32's (relaxed-simd's `madd` may or may not
/// fuse, so `f32::mul_add` never compiles to it).
#[cfg(target_arch = "aarch64")]
pub(crate) type Baseline = Fused;
#[cfg(not(target_arch = "aarch64"))]
pub(crate) type Baseline = Unfused;

/// `c[0] + x (c[1] + x (c[2] + ...))` by Horner's scheme (0 for no coefficients); unrolled,
/// as `coefficients` is a constant at every call.
#[inline(always)]
fn polynomial<M: MulAdd>(x: f32, coefficients: &[f32]) -> f32 {
    coefficients
        .iter()
        .rev()
        .copied()
        .reduce(|acc, c| M::mul_add(acc, x, c))
        .unwrap_or(0.0)
}

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so that `n * LN2_HI` is exact for the `n` that occur (Cody & Waite).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Adding 1.5 * 2^23 rounds a float to an integer held in the low mantissa bits, with
/// plain float ops that every SIMD instruction set has (SSE2 has no rounding instruction).
const ROUNDING_MAGIC: f32 = 12_582_912.0;
/// Below this, `e^x` is under the smallest normal float: the result is flushed to 0.
const EXP_UNDERFLOW: f32 = -87.336_55;
/// Above this, `n` below would reach 128 and `2^n` overflow; `e^x` is clamped to ~2.4e38.
const EXP_OVERFLOW: f32 = 88.376_2;

/// `e^x`, relative error below 3e-7; 0 below -87.34, clamped to e^88.376 above it.
#[inline(always)]
pub(crate) fn exp<M: MulAdd>(x: f32) -> f32 {
    let clamped = x.clamp(EXP_UNDERFLOW, EXP_OVERFLOW);
    // x = n ln2 + r with |r| <= ln2 / 2, then e^x = 2^n e^r.
    let shifted = clamped * LOG2E + ROUNDING_MAGIC;
    let n = shifted - ROUNDING_MAGIC;
    let r = clamped - n * LN2_HI - n * LN2_LO;
    // Taylor to degree 6 is within float32 rounding on |r| <= 0.347.
    let e_r = polynomial::<M>(
        r,
        &[1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0],
    );
    let n_bits = shifted.to_bits().wrapping_sub(ROUNDING_MAGIC.to_bits());
    let two_to_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    if x < EXP_UNDERFLOW {
        0.0
    } else {
        e_r * two_to_n
    }
}

/// `tanh(x)`, relative error below 5e-7: Eigen's rational minimax approximation, saturating
/// at +-1 from |x| = 7.9 (where it reaches 1 unfused; fused, it stays 3 ulps short).
#[inline(always)]
pub(crate) fn tanh<M: MulAdd>(x: f32) -> f32 {
    const SATURATION: f32 = 7.905_311;
    // No clamp of `x` to +-SATURATION first: the select below replaces whatever `p / q` is
    // there (NaN for infinite `x` included). Near 0, `p / q` is `x` within 1e-7 relative,
    // so tiny inputs need no select of their own either. Returning `x` itself from a select
    // would also turn a loop that maps a slice in place into a masked store (`vmaskmovps`),
    // which takes over ten cycles on AMD's Zen cores.
    let x2 = x * x;
    let p = x * polynomial::<M>(
        x2,
        &[
            4.893_524_6e-3,
            6.372_619_3e-4,
            1.485_722_4e-5,
            5.122_297e-8,
            -8.604_672e-11,
            2.000_188e-13,
            -2.760_768_5e-16,
        ],
    );
    let q = polynomial::<M>(
        x2,
        &[4.893_525e-3, 2.268_434_6e-3, 1.185_347_1e-4, 1.198_258_4e-6],
    );
    if x.abs() >= SATURATION {
        1.0f32.copysign(x)
    } else {
        p / q
    }
}

/// `ln(x)` for positive normal `x`, relative error below 3e-7 (Cephes `logf`): x = m 2^e
/// with m in [sqrt(1/2), sqrt(2)), and ln(m) by a polynomial in m - 1.
#[inline(always)]
pub(crate) fn ln<M: MulAdd>(x: f32) -> f32 {
    let bits = x.to_bits();
    // m in [0.5, 1): keep the mantissa, set the exponent of 0.5.
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000);
    let small = m < std::f32::consts::FRAC_1_SQRT_2;
    e -= i32::from(small);
    m = if small { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let poly = polynomial::<M>(
        m,
        &[
            3.333_333e-1,
            -2.499_999_4e-1,
            2.000_071_4e-1,
            -1.666_805_8e-1,
            1.424_932_3e-1,
            -1.242_014_1e-1,
            1.167_699_9e-1,
            -1.151_461e-1,
            7.037_683_6e-2,
        ],
    );
    let e = e as f32;
    let y = m * z * poly + e * LN2_LO - 0.5 * z;
    m + y + e * LN2_HI
}

/// `1 / (1 + e^-x)`, from `e^-|x|` so that it never overflows and keeps its relative
/// accuracy for very negative `x` (where the result is tiny, not zero).
#[inline(always)]
pub(crate) fn sigmoid<M: MulAdd>(x: f32) -> f32 {
    let e = exp::<M>(-x.abs());
    let inv = 1.0 / (1.0 + e);
    if x >= 0.0 {
        inv
    } else {
        e * inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worst relative error of `f` against `reference` over `[low, high)` in steps of `step`.
    fn worst(f: fn(f32) -> f32, reference: fn(f64) -> f64, low: f32, high: f32, step: f32) -> (f64, f32) {
        let mut worst = (0.0f64, low);
        let mut x = low;
        while x < high {
            let want = reference(f64::from(x));
            // Results below the smallest normal float are flushed; compare normal ones.
            if want.abs() > 1.2e-38 && want.abs() < 3.4e38 {
                let error = ((f64::from(f(x)) - want) / want).abs();
                if error > worst.0 {
                    worst = (error, x);
                }
            }
            x += step;
        }
        worst
    }

    /// Runs `check` with both multiply-adds: `Fused` is what the AVX2, AVX-512 and NEON
    /// kernels compute, `Unfused` what the SSE2 and simd128 ones do.
    fn for_both(check: impl Fn(&str, fn(f32) -> f32, fn(f32) -> f32, fn(f32) -> f32, fn(f32) -> f32)) {
        check(
            "fused",
            exp::<Fused>,
            tanh::<Fused>,
            sigmoid::<Fused>,
            ln::<Fused>,
        );
        check(
            "unfused",
            exp::<Unfused>,
            tanh::<Unfused>,
            sigmoid::<Unfused>,
            ln::<Unfused>,
        );
    }

    #[test]
    fn exp_is_within_3e_7() {
        for_both(|name, exp, _, _, _| {
            let (error, at) = worst(exp, f64::exp, -87.3, 88.37, 1.7e-3);
            assert!(error < 3e-7, "{name}: {error:e} at {at}");
            assert_eq!(exp(-88.0), 0.0);
            assert_eq!(exp(-1e30), 0.0);
            assert_eq!(exp(0.0), 1.0);
            assert!(exp(100.0).is_finite());
        });
    }

    #[test]
    fn tanh_is_within_5e_7() {
        for_both(|name, _, tanh, _, _| {
            let (error, at) = worst(tanh, f64::tanh, -12.0, 12.0, 3.1e-4);
            assert!(error < 5e-7, "{name}: {error:e} at {at}");
            let (tiny, at) = worst(tanh, f64::tanh, 1e-8, 1e-2, 1.3e-6);
            assert!(tiny < 5e-7, "{name}: {tiny:e} at {at}");
            assert_eq!(tanh(0.0), 0.0);
            assert_eq!(tanh(50.0), 1.0);
            assert_eq!(tanh(-50.0), -1.0);
        });
    }

    #[test]
    fn sigmoid_is_within_5e_7_including_its_tiny_tail() {
        for_both(|name, _, _, sigmoid, _| {
            let reference = |x: f64| 1.0 / (1.0 + (-x).exp());
            let (error, at) = worst(sigmoid, reference, -87.0, 40.0, 1.3e-3);
            assert!(error < 5e-7, "{name}: {error:e} at {at}");
            assert_eq!(sigmoid(-200.0), 0.0);
            assert_eq!(sigmoid(200.0), 1.0);
            assert_eq!(sigmoid(0.0), 0.5);
        });
    }

    #[test]
    fn ln_is_within_3e_7() {
        for_both(|name, _, _, _, ln| {
            let (error, at) = worst(ln, f64::ln, 1e-7, 10.0, 1.1e-5);
            assert!(error < 3e-7, "{name}: {error:e} at {at}");
            let (large, at) = worst(ln, f64::ln, 10.0, 1e6, 0.37);
            assert!(large < 3e-7, "{name}: {large:e} at {at}");
            assert_eq!(ln(1.0), 0.0);
        });
    }

    #[test]
    fn nan_stays_nan() {
        for_both(|name, exp, tanh, sigmoid, _| {
            assert!(exp(f32::NAN).is_nan(), "{name}");
            assert!(tanh(f32::NAN).is_nan(), "{name}");
            assert!(sigmoid(f32::NAN).is_nan(), "{name}");
        });
    }

    /// The unfused polynomial is the nested form it replaced, bit for bit, so that the SSE2
    /// and simd128 kernels compute what they did; the fused one differs in the last bits.
    #[test]
    fn unfused_horner_is_the_nested_form() {
        let c = [0.3f32, -1.7, 2.9, 0.011];
        for x in [-3.1f32, -0.7, 0.0, 0.2, 1.9, 41.0] {
            let nested = c[0] + x * (c[1] + x * (c[2] + x * c[3]));
            assert_eq!(
                polynomial::<Unfused>(x, &c).to_bits(),
                nested.to_bits(),
                "x = {x}"
            );
        }
        assert_eq!(polynomial::<Unfused>(2.0, &[]), 0.0);
    }
}
