//! Losses: each kernel returns the mean loss and writes its gradient in the same pass.
//!
//! The two cross-entropies are fused with their output activation (sigmoid and softmax):
//! they take the activation's output `p` and return the gradient with respect to the
//! activation's *input*, `(p - t) / count`. That is the exact derivative, and it stays
//! finite where the chain rule through a saturated sigmoid would divide zero by zero.
//! Sums run in f64 so that every backend reports the same loss.

use crate::error::{check_len, checked_area, ShapeError};
use crate::isa::multiversion;
use crate::math;
use crate::model::ModelError;
use serde::Deserialize;

/// Probabilities are clamped to `[EPSILON, 1 - EPSILON]` inside logarithms, as Keras does.
pub const EPSILON: f32 = 1e-7;

fn check_targets_and_gradient(
    predictions: &[f32],
    targets: &[f32],
    gradient: &[f32],
) -> Result<(), ShapeError> {
    check_len("targets", "length of predictions", targets, predictions.len())?;
    check_len("gradient", "length of predictions", gradient, predictions.len())
}

/// Mean over all elements of `(p - t)^2`; `gradient = 2 (p - t) / count`.
pub fn mean_squared_error(
    predictions: &[f32],
    targets: &[f32],
    gradient: &mut [f32],
) -> Result<f64, ShapeError> {
    check_targets_and_gradient(predictions, targets, gradient)?;
    if predictions.is_empty() {
        return Ok(0.0);
    }
    let scale = 2.0 / predictions.len() as f32;
    Ok(squared_error_sum(predictions, targets, gradient, scale) / predictions.len() as f64)
}

multiversion! {
    fn squared_error_sum(predictions: &[f32], targets: &[f32], gradient: &mut [f32], scale: f32) -> f64 {
        let term = |p: f32, t: f32| (p - t) * (p - t);
        let no_logarithms = None::<fn(f32, f32) -> f32>;
        sum_with_gradient(predictions, targets, gradient, term, no_logarithms, |p, t| scale * (p - t))
    }
}

/// Mean over all elements of `-(t ln p + (1 - t) ln(1 - p))` with `p` clamped to
/// `[EPSILON, 1 - EPSILON]`; `gradient = (p - t) / count` with respect to the logits of a
/// sigmoid output (`p = sigmoid(logits)`).
pub fn binary_cross_entropy(
    predictions: &[f32],
    targets: &[f32],
    gradient: &mut [f32],
) -> Result<f64, ShapeError> {
    check_targets_and_gradient(predictions, targets, gradient)?;
    if predictions.is_empty() {
        return Ok(0.0);
    }
    let inv_count = 1.0 / predictions.len() as f32;
    Ok(binary_cross_entropy_sum(predictions, targets, gradient, inv_count) / predictions.len() as f64)
}

multiversion! {
    fn binary_cross_entropy_sum<M>(predictions: &[f32], targets: &[f32], gradient: &mut [f32], inv_count: f32) -> f64 {
        // Clamping p and 1 - p below at EPSILON is clamping p to [EPSILON, 1 - EPSILON];
        // 1 - p is exact in float32 where it matters (p >= 0.5).
        let term = |p: f32, t: f32| -(t * math::ln::<M>(at_least(p, EPSILON)) + (1.0 - t) * math::ln::<M>(at_least(1.0 - p, EPSILON)));
        // With a target of exactly 1 or 0 one of the logarithms is multiplied by zero: the
        // term is minus the other alone.
        let class_probability = |p: f32, t: f32| if t == 1.0 { at_least(p, EPSILON) } else { at_least(1.0 - p, EPSILON) };
        sum_with_gradient(predictions, targets, gradient, term, Some(class_probability), |p, t| (p - t) * inv_count)
    }
}

/// Mean over rows of `-sum_j t_j ln p_j` for a row-major `rows x cols` matrix of softmax
/// probabilities (each clamped below at `EPSILON`); `gradient = (p - t) / rows` with respect
/// to the softmax's logits.
pub fn softmax_cross_entropy(
    rows: usize,
    cols: usize,
    predictions: &[f32],
    targets: &[f32],
    gradient: &mut [f32],
) -> Result<f64, ShapeError> {
    check_len(
        "predictions",
        "rows*cols",
        predictions,
        checked_area("predictions", "rows*cols", rows, cols)?,
    )?;
    check_targets_and_gradient(predictions, targets, gradient)?;
    if rows == 0 {
        return Ok(0.0);
    }
    let inv_rows = 1.0 / rows as f32;
    Ok(softmax_cross_entropy_sum(predictions, targets, gradient, inv_rows) / rows as f64)
}

multiversion! {
    fn softmax_cross_entropy_sum<M>(predictions: &[f32], targets: &[f32], gradient: &mut [f32], inv_rows: f32) -> f64 {
        // Zero targets contribute nothing, even where ln(p) is large.
        let term = |p: f32, t: f32| if t == 0.0 { 0.0 } else { -t * math::ln::<M>(at_least(p, EPSILON)) };
        // One-hot targets: -ln of the target class's probability, and -ln 1 = 0 elsewhere.
        let class_probability = |p: f32, t: f32| if t == 1.0 { at_least(p, EPSILON) } else { 1.0 };
        sum_with_gradient(predictions, targets, gradient, term, Some(class_probability), |p, t| (p - t) * inv_rows)
    }
}

/// `max(x, floor)`, `floor` for NaN, as a compare and a select: `f32::max` is a call to libm's
/// `fmaxf` in wasm (whose `f32.max` propagates NaN), which keeps the loop from vectorizing.
#[inline(always)]
fn at_least(x: f32, floor: f32) -> f32 {
    if x > floor {
        x
    } else {
        floor
    }
}

/// Elements per block of [`sum_with_gradient`]: a few vectors of terms on the stack.
const BLOCK: usize = 64;

/// Independent f64 partial sums in [`sum_with_gradient`] and lanes of a [`LogSum`].
const LANES: usize = 16;

/// Writes `gradient[i] = grad(p_i, t_i)` and returns the f64 sum of `term(p_i, t_i)`.
///
/// A block at a time: the gradients and terms are plain loops that vectorize at the full
/// width (logarithms included), then the terms are added into sixteen f64 accumulators, which
/// keep the sum from serializing; the ts backend's sequential sum differs only in f64
/// rounding. For a cross-entropy, `class_probability` gives the probability `v` whose `-ln v`
/// is the term when the target is exactly 0 or 1: a block of only such targets (all of
/// classification's) adds its `v` to a [`LogSum`] instead, with no logarithm per element.
#[inline(always)]
fn sum_with_gradient(
    predictions: &[f32],
    targets: &[f32],
    gradient: &mut [f32],
    term: impl Fn(f32, f32) -> f32,
    class_probability: Option<impl Fn(f32, f32) -> f32>,
    grad: impl Fn(f32, f32) -> f32,
) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let mut class_logs = LogSum::new();
    let blocks = predictions.chunks(BLOCK).zip(targets.chunks(BLOCK));
    for ((p_block, t_block), g_block) in blocks.zip(gradient.chunks_mut(BLOCK)) {
        for ((g, &p), &t) in g_block.iter_mut().zip(p_block).zip(t_block) {
            *g = grad(p, t);
        }
        let classes = || t_block.iter().fold(true, |all, &t| all & (t == 0.0 || t == 1.0));
        match &class_probability {
            // Only a cross-entropy scans its targets; mean squared error has no class path.
            Some(probability) if classes() => {
                // A short last block leaves ones, whose logarithm is 0.
                let mut values = [1.0f32; BLOCK];
                for ((slot, &p), &t) in values.iter_mut().zip(p_block).zip(t_block) {
                    *slot = probability(p, t);
                }
                class_logs.add_block(&values);
            }
            _ => {
                // A short last block leaves zeros, which add nothing.
                let mut terms = [0.0f32; BLOCK];
                for ((slot, &p), &t) in terms.iter_mut().zip(p_block).zip(t_block) {
                    *slot = term(p, t);
                }
                for chunk in terms.chunks_exact(LANES) {
                    for (lane, &value) in lanes.iter_mut().zip(chunk) {
                        *lane += f64::from(value);
                    }
                }
            }
        }
    }
    lanes.iter().sum::<f64>() - class_logs.total()
}

/// The sum of `ln v` over positive normal floats `v`, kept as a product: the values' binary
/// exponents are added as integers and their mantissas (in [1, 2)) multiplied in f64, in
/// [`LANES`] independent lanes. One logarithm at the end instead of one per element, and
/// nearer the exact sum: each product rounds to f64's 53 bits, where each float32 logarithm
/// was within 3e-7.
struct LogSum {
    mantissas: [f64; LANES],
    exponents: [i64; LANES],
}

impl LogSum {
    fn new() -> LogSum {
        LogSum {
            mantissas: [1.0; LANES],
            exponents: [0; LANES],
        }
    }

    #[inline(always)]
    fn add_block(&mut self, values: &[f32; BLOCK]) {
        const F32_MANTISSA: u32 = (1 << 23) - 1;
        const F64_MANTISSA: u64 = (1 << 52) - 1;
        for chunk in values.chunks_exact(LANES) {
            let lanes = self.mantissas.iter_mut().zip(&mut self.exponents);
            for ((mantissa, exponent), &v) in lanes.zip(chunk) {
                let bits = v.to_bits();
                *exponent += i64::from(bits >> 23) - 127;
                *mantissa *= f64::from(f32::from_bits((bits & F32_MANTISSA) | 1.0f32.to_bits()));
            }
        }
        // A block multiplies BLOCK / LANES = 4 mantissas into each lane, below 2^4: moving
        // the product's exponent out again keeps the lanes in [1, 2), far from overflow.
        for (mantissa, exponent) in self.mantissas.iter_mut().zip(&mut self.exponents) {
            let bits = mantissa.to_bits();
            *exponent += (bits >> 52) as i64 - 1023;
            *mantissa = f64::from_bits((bits & F64_MANTISSA) | 1.0f64.to_bits());
        }
    }

    fn total(&self) -> f64 {
        let exponent: i64 = self.exponents.iter().sum();
        // Sixteen factors in [1, 2): below 2^16.
        let mantissa: f64 = self.mantissas.iter().product();
        exponent as f64 * std::f64::consts::LN_2 + mantissa.ln()
    }
}

/// A model's loss, as a training model stores it (and the TypeScript side names it).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Loss {
    MeanSquaredError,
    /// Requires a sigmoid output layer (the kernel is fused with it).
    BinaryCrossEntropy,
    /// Requires a softmax output layer (the kernel is fused with it).
    CategoricalCrossEntropy,
}

impl Loss {
    /// The loss called `name` in ferronet's TypeScript API.
    pub fn from_name(name: &str) -> Result<Loss, ModelError> {
        Ok(match name {
            "meanSquaredError" => Loss::MeanSquaredError,
            "binaryCrossEntropy" => Loss::BinaryCrossEntropy,
            "categoricalCrossEntropy" => Loss::CategoricalCrossEntropy,
            _ => {
                return Err(ModelError::unknown_name(
                    "loss",
                    "'meanSquaredError', 'binaryCrossEntropy', 'categoricalCrossEntropy'",
                    name,
                ))
            }
        })
    }

    /// Whether the gradient this loss writes is already with respect to the output layer's
    /// pre-activation, so the output activation's backward pass must be skipped.
    pub fn is_fused_with_activation(self) -> bool {
        !matches!(self, Loss::MeanSquaredError)
    }

    /// The mean loss of a `rows x cols` batch of outputs; writes the gradient.
    pub fn evaluate(
        self,
        rows: usize,
        cols: usize,
        predictions: &[f32],
        targets: &[f32],
        gradient: &mut [f32],
    ) -> Result<f64, ShapeError> {
        match self {
            Loss::MeanSquaredError => mean_squared_error(predictions, targets, gradient),
            Loss::BinaryCrossEntropy => binary_cross_entropy(predictions, targets, gradient),
            Loss::CategoricalCrossEntropy => {
                softmax_cross_entropy(rows, cols, predictions, targets, gradient)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_squared_error_value_and_gradient() {
        let mut g = [f32::NAN; 4];
        let loss = mean_squared_error(&[1.0, 2.0, 3.0, 4.0], &[1.0, 0.0, 3.0, 8.0], &mut g).unwrap();
        assert_eq!(loss, (4.0 + 16.0) / 4.0);
        assert_eq!(g, [0.0, 1.0, 0.0, -2.0]);
    }

    #[test]
    fn binary_cross_entropy_matches_the_formula() {
        let p = [0.9f32, 0.2, 0.5];
        let t = [1.0f32, 0.0, 1.0];
        let mut g = [0.0; 3];
        let loss = binary_cross_entropy(&p, &t, &mut g).unwrap();
        let expected = -((0.9f32 as f64).ln() + (0.8f32 as f64).ln() + 0.5f64.ln()) / 3.0;
        assert!((loss - expected).abs() < 1e-7, "{loss} vs {expected}");
        assert_eq!(g, [(0.9 - 1.0) / 3.0, 0.2 / 3.0, -0.5 / 3.0]);
    }

    /// `-(t ln p + (1 - t) ln(1 - p))` in f64 from the float32 clamps the kernel takes.
    fn exact_binary_term(p: f32, t: f32) -> f64 {
        let (p_clamped, q_clamped) = (p.max(EPSILON), (1.0 - p).max(EPSILON));
        -(f64::from(t) * f64::from(p_clamped).ln() + f64::from(1.0 - t) * f64::from(q_clamped).ln())
    }

    /// Targets of exactly 0 and 1 sum their logarithms as a product (`LogSum`): the loss is
    /// the exact sum to f64 rounding, where adding float32 logarithms (each within 3e-7) was
    /// off by 5e-11 relative here. Lengths that end in a short block included.
    #[test]
    fn binary_cross_entropy_of_classes_is_the_exact_sum() {
        let mut rng = crate::test_util::Rng::new(16);
        for len in [1, 63, 64, 65, 1000] {
            let mut p = rng.uniform_vec(len, 0.0, 1.0);
            let edges = [0.0, 1.0, 1e-9, 1.0 - 1e-7, 0.5, EPSILON];
            p[..len.min(6)].copy_from_slice(&edges[..len.min(6)]);
            let t: Vec<f32> = (0..len).map(|i| ((i * 7 + i / 3) % 2) as f32).collect();
            let want = p
                .iter()
                .zip(&t)
                .map(|(&p, &t)| exact_binary_term(p, t))
                .sum::<f64>()
                / len as f64;
            let mut g = vec![0.0; len];
            let loss = binary_cross_entropy(&p, &t, &mut g).unwrap();
            assert!(
                (loss - want).abs() <= 1e-13 * want.abs(),
                "{len}: {loss} vs {want}"
            );
            let want_g: Vec<f32> = p
                .iter()
                .zip(&t)
                .map(|(&p, &t)| (p - t) * (1.0 / len as f32))
                .collect();
            assert_eq!(g, want_g, "{len}");
        }
    }

    /// A block of soft targets takes the float32 logarithms and the class blocks the product,
    /// in one sum; and a long run of the smallest probability, whose logarithms add to
    /// about -1.6e6, neither overflows the product nor loses its digits.
    #[test]
    fn binary_cross_entropy_mixes_soft_and_class_blocks_and_keeps_long_sums() {
        let mut rng = crate::test_util::Rng::new(17);
        let p = rng.uniform_vec(256, 0.01, 0.99);
        let mut t: Vec<f32> = (0..256).map(|i| (i % 2) as f32).collect();
        t[64..128].copy_from_slice(&rng.uniform_vec(64, 0.0, 1.0));
        let want = p
            .iter()
            .zip(&t)
            .map(|(&p, &t)| exact_binary_term(p, t))
            .sum::<f64>()
            / 256.0;
        let mut g = vec![0.0; 256];
        let loss = binary_cross_entropy(&p, &t, &mut g).unwrap();
        assert!(((loss - want) / want).abs() < 1e-6, "{loss} vs {want}");

        let (p, t) = (vec![0.0f32; 100_000], vec![1.0f32; 100_000]);
        let mut g = vec![0.0; p.len()];
        let loss = binary_cross_entropy(&p, &t, &mut g).unwrap();
        let want = -f64::from(EPSILON).ln();
        assert!((loss - want).abs() <= 1e-13 * want.abs(), "{loss} vs {want}");
    }

    #[test]
    fn softmax_cross_entropy_of_one_hot_targets_is_the_exact_sum() {
        let mut rng = crate::test_util::Rng::new(18);
        let (rows, cols) = (77, 10);
        let mut p = rng.uniform_vec(rows * cols, 0.0, 0.3);
        p[0] = 0.0;
        let t: Vec<f32> = (0..rows * cols)
            .map(|i| f32::from(u8::from(i % cols == (i / cols) % cols)))
            .collect();
        let want = p
            .iter()
            .zip(&t)
            .filter(|(_, &t)| t == 1.0)
            .map(|(&p, _)| -f64::from(p.max(EPSILON)).ln())
            .sum::<f64>()
            / rows as f64;
        let mut g = vec![0.0; p.len()];
        let loss = softmax_cross_entropy(rows, cols, &p, &t, &mut g).unwrap();
        assert!((loss - want).abs() <= 1e-13 * want.abs(), "{loss} vs {want}");
    }

    #[test]
    fn binary_cross_entropy_is_finite_at_saturation() {
        let mut g = [0.0; 2];
        let loss = binary_cross_entropy(&[0.0, 1.0], &[1.0, 0.0], &mut g).unwrap();
        assert!((loss - -f64::from(EPSILON).ln()).abs() < 1e-6, "{loss}");
        assert_eq!(g, [-0.5, 0.5]);
    }

    #[test]
    fn softmax_cross_entropy_is_mean_over_rows() {
        let p = [0.25f32, 0.75, 0.5, 0.5];
        let t = [0.0f32, 1.0, 1.0, 0.0];
        let mut g = [0.0; 4];
        let loss = softmax_cross_entropy(2, 2, &p, &t, &mut g).unwrap();
        let expected = -(0.75f64.ln() + 0.5f64.ln()) / 2.0;
        assert!((loss - expected).abs() < 1e-7);
        assert_eq!(g, [0.125, -0.125, -0.25, 0.25]);
    }

    #[test]
    fn wrong_lengths_name_the_argument() {
        let mut g = [0.0; 3];
        assert_eq!(
            mean_squared_error(&[0.0; 3], &[0.0; 2], &mut g)
                .unwrap_err()
                .to_string(),
            "targets: expected length 3 (length of predictions), got 2"
        );
        assert_eq!(
            binary_cross_entropy(&[0.0; 2], &[0.0; 2], &mut g)
                .unwrap_err()
                .argument,
            "gradient"
        );
        assert_eq!(
            softmax_cross_entropy(2, 2, &[0.0; 3], &[0.0; 3], &mut g)
                .unwrap_err()
                .argument,
            "predictions"
        );
    }
}
