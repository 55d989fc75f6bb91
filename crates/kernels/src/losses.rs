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
        sum_with_gradient(predictions, targets, gradient, (term, term), |p, t| scale * (p - t))
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
        // With a target of exactly 1 or 0 one of the logarithms is multiplied by zero, and
        // adding that (signed) zero changes nothing (-0 + 0 included): the term is the other
        // logarithm alone, bit for bit. Classification has only such targets, so a block of
        // them takes one logarithm per element instead of two.
        let class_term = |p: f32, t: f32| -math::ln::<M>(if t == 1.0 { at_least(p, EPSILON) } else { at_least(1.0 - p, EPSILON) });
        sum_with_gradient(predictions, targets, gradient, (term, class_term), |p, t| (p - t) * inv_count)
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
        sum_with_gradient(predictions, targets, gradient, (term, term), |p, t| (p - t) * inv_rows)
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

/// Independent f64 partial sums in [`sum_with_gradient`].
const LANES: usize = 16;

/// Writes `gradient[i] = grad(p_i, t_i)` and returns the f64 sum of `term(p_i, t_i)`, where
/// `terms` is `(term, class_term)` and `class_term` gives the same values for targets of
/// exactly 0 or 1 at less cost (or is `term` again): a block whose targets are all 0 or 1 uses
/// it. A block at a time: first every term and gradient, plain loops that vectorize at the
/// full width (logarithms included), then the terms added into sixteen f64 accumulators,
/// which keep the sum from serializing; the ts backend's sequential sum differs only in f64
/// rounding.
#[inline(always)]
fn sum_with_gradient(
    predictions: &[f32],
    targets: &[f32],
    gradient: &mut [f32],
    (term, class_term): (impl Fn(f32, f32) -> f32, impl Fn(f32, f32) -> f32),
    grad: impl Fn(f32, f32) -> f32,
) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let blocks = predictions.chunks(BLOCK).zip(targets.chunks(BLOCK));
    for ((p_block, t_block), g_block) in blocks.zip(gradient.chunks_mut(BLOCK)) {
        // A short last block leaves zeros in `terms`, which add nothing.
        let mut terms = [0.0f32; BLOCK];
        let pairs = terms.iter_mut().zip(p_block).zip(t_block);
        if t_block.iter().fold(true, |all, &t| all & (t == 0.0 || t == 1.0)) {
            pairs.for_each(|((slot, &p), &t)| *slot = class_term(p, t));
        } else {
            pairs.for_each(|((slot, &p), &t)| *slot = term(p, t));
        }
        for ((g, &p), &t) in g_block.iter_mut().zip(p_block).zip(t_block) {
            *g = grad(p, t);
        }
        for chunk in terms.chunks_exact(LANES) {
            for (lane, &value) in lanes.iter_mut().zip(chunk) {
                *lane += f64::from(value);
            }
        }
    }
    lanes.iter().sum()
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

    /// Targets of exactly 0 and 1 take one logarithm, not two: the same terms bit for bit,
    /// so the sum matches the two-logarithm formula summed in f64 to f64 rounding (a term off
    /// by one float32 ulp would show at 1e-10).
    #[test]
    fn binary_cross_entropy_of_classes_is_the_full_formula() {
        let mut rng = crate::test_util::Rng::new(16);
        let mut p = rng.uniform_vec(1000, 0.0, 1.0);
        p[..6].copy_from_slice(&[0.0, 1.0, 1e-9, 1.0 - 1e-7, 0.5, EPSILON]);
        let t: Vec<f32> = (0..p.len()).map(|i| ((i * 7 + i / 3) % 2) as f32).collect();
        // The kernel's logarithm: `multiversion!` fuses its multiply-adds on AVX2 and AVX-512.
        let ln = match crate::isa::selected() {
            crate::isa::Isa::Avx512 | crate::isa::Isa::Avx2 => math::ln::<math::Fused>,
            _ => math::ln::<math::Baseline>,
        };
        let full = |p: f32, t: f32| -(t * ln(p.max(EPSILON)) + (1.0 - t) * ln((1.0 - p).max(EPSILON)));
        let want: f64 = p
            .iter()
            .zip(&t)
            .map(|(&p, &t)| f64::from(full(p, t)))
            .sum::<f64>()
            / p.len() as f64;
        let mut g = vec![0.0; p.len()];
        let loss = binary_cross_entropy(&p, &t, &mut g).unwrap();
        assert!(((loss - want) / want).abs() < 1e-13, "{loss} vs {want}");
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
