use super::*;
use crate::test_util::Rng;

const ALL: [Activation; 6] = [
    Activation::Linear,
    Activation::Relu,
    Activation::LeakyRelu { alpha: 0.1 },
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Softmax,
];

/// The textbook definitions in f64, one element or one row at a time.
fn reference(activation: Activation, cols: usize, x: &[f64]) -> Vec<f64> {
    match activation {
        Activation::Linear => x.to_vec(),
        Activation::Relu => x.iter().map(|&v| v.max(0.0)).collect(),
        Activation::LeakyRelu { alpha } => x
            .iter()
            .map(|&v| if v > 0.0 { v } else { f64::from(alpha) * v })
            .collect(),
        Activation::Tanh => x.iter().map(|v| v.tanh()).collect(),
        Activation::Sigmoid => x.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect(),
        Activation::Softmax => x
            .chunks(cols)
            .flat_map(|row| {
                let total: f64 = row.iter().map(|v| v.exp()).sum();
                row.iter().map(move |v| v.exp() / total)
            })
            .collect(),
    }
}

fn widen(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| f64::from(v)).collect()
}

fn narrow(x: &[f64]) -> Vec<f32> {
    x.iter().map(|&v| v as f32).collect()
}

fn assert_close(got: &[f32], expected: &[f32], tolerance: f32, what: &str) {
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tolerance * e.abs().max(1.0),
            "{what}[{i}]: got {g}, expected {e}"
        );
    }
}

#[test]
fn forward_matches_reference_on_awkward_shapes() {
    let mut rng = Rng::new(3);
    for activation in ALL {
        for &(rows, cols) in &[(1, 1), (3, 7), (16, 33), (129, 10)] {
            let x = rng.uniform_vec(rows * cols, -6.0, 6.0);
            let mut y = vec![f32::NAN; x.len()];
            activation.forward(rows, cols, &x, &mut y).unwrap();
            assert_close(
                &y,
                &narrow(&reference(activation, cols, &widen(&x))),
                1e-6,
                &format!("{activation:?}"),
            );
        }
    }
}

/// The backward kernels against central differences of the f64 reference: for a random
/// upstream gradient `dy`, `dx_i` must equal `d(sum_j dy_j * f(x)_j) / dx_i`.
#[test]
fn backward_matches_finite_differences() {
    let mut rng = Rng::new(5);
    let (rows, cols) = (3, 5);
    for activation in ALL {
        // Keep away from relu's kink, where the derivative is undefined.
        let x: Vec<f32> = rng
            .uniform_vec(rows * cols, -3.0, 3.0)
            .into_iter()
            .map(|v| if v.abs() < 0.05 { v + 0.1 } else { v })
            .collect();
        let dy = rng.uniform_vec(rows * cols, -1.0, 1.0);
        let mut y = vec![0.0; x.len()];
        activation.forward(rows, cols, &x, &mut y).unwrap();
        let mut dx = vec![f32::NAN; x.len()];
        activation.backward(rows, cols, &y, &dy, &mut dx).unwrap();

        let objective = |x: &[f64]| -> f64 {
            let out = reference(activation, cols, x);
            out.iter().zip(&dy).map(|(o, &g)| o * f64::from(g)).sum()
        };
        let x64 = widen(&x);
        let h = 1e-4;
        for i in 0..x.len() {
            let mut plus = x64.clone();
            plus[i] += h;
            let mut minus = x64.clone();
            minus[i] -= h;
            let numeric = ((objective(&plus) - objective(&minus)) / (2.0 * h)) as f32;
            assert!(
                (dx[i] - numeric).abs() <= 1e-3 * numeric.abs().max(1.0),
                "{activation:?} dx[{i}]: got {}, finite difference {numeric}",
                dx[i]
            );
        }
    }
}

#[test]
fn softmax_is_stable_for_large_inputs() {
    let x = [1000.0, 1001.0, -1000.0, 88.0, 89.0, 90.0];
    let mut y = [0.0; 6];
    softmax_forward(2, 3, &x, &mut y).unwrap();
    assert!(y.iter().all(|v| v.is_finite()));
    assert_close(&y[..3], &[0.268_941_43, 0.731_058_6, 0.0], 1e-6, "row 0");
    let row1_sum: f32 = y[3..].iter().sum();
    assert!((row1_sum - 1.0).abs() < 1e-6);
}

#[test]
fn sigmoid_saturates_without_nan() {
    let x = [-1000.0, -200.0, 0.0, 90.0, 1000.0];
    let mut y = [f32::NAN; 5];
    sigmoid_forward(&x, &mut y).unwrap();
    assert_eq!(y, [0.0, 0.0, 0.5, 1.0, 1.0]);
}

#[test]
fn wrong_lengths_name_the_argument() {
    let mut out = [0.0; 3];
    assert_eq!(
        relu_forward(&[0.0; 4], &mut out).unwrap_err().to_string(),
        "y: expected length 4 (length of x), got 3"
    );
    assert_eq!(
        tanh_backward(&[0.0; 3], &[0.0; 2], &mut out)
            .unwrap_err()
            .argument,
        "dy"
    );
    assert_eq!(
        sigmoid_backward(&[0.0; 3], &[0.0; 3], &mut [0.0; 2])
            .unwrap_err()
            .argument,
        "dx"
    );
    assert_eq!(
        softmax_forward(2, 2, &[0.0; 3], &mut out).unwrap_err().argument,
        "x"
    );
}

/// The training model's fused bias-and-activation pass gives exactly what adding the bias
/// and then activating gives, for narrow and wide rows alike.
#[test]
fn fused_bias_and_activation_match_the_two_passes() {
    let mut rng = Rng::new(9);
    for activation in ALL {
        for &(rows, cols) in &[(3, 1), (7, 4), (5, 33), (2, 64)] {
            let x = rng.uniform_vec(rows * cols, -4.0, 4.0);
            let bias = rng.uniform_vec(cols, -1.0, 1.0);
            let mut two_passes = x.clone();
            crate::bias_add(rows, cols, &bias, &mut two_passes).unwrap();
            activation.forward_in_place(cols, &mut two_passes);
            let mut fused = x.clone();
            activation.forward_with_bias_in_place(cols, &bias, &mut fused);
            assert_eq!(fused, two_passes, "{activation:?} {rows}x{cols}");
        }
    }
}

/// Relu's and leaky relu's backward over several blocks and a ragged tail, against the
/// definition element by element, bit for bit: the kernel passes them through a stack block.
#[test]
fn relu_backward_keeps_every_bit_across_blocks() {
    let mut rng = Rng::new(11);
    let count = 1_000;
    let y: Vec<f32> = rng.uniform_vec(count, -1.0, 1.0);
    let mut dy = rng.uniform_vec(count, -1.0, 1.0);
    dy[7] = -0.0;
    dy[300] = f32::NAN;
    for activation in [Activation::Relu, Activation::LeakyRelu { alpha: 0.1 }] {
        let mut dx = dy.clone();
        activation.backward_in_place(1, &y, &mut dx);
        for (i, ((&got, &g), &v)) in dx.iter().zip(&dy).zip(&y).enumerate() {
            let want = match activation {
                Activation::Relu if v > 0.0 => g,
                Activation::Relu => 0.0,
                _ if v > 0.0 => g,
                _ => 0.1 * g,
            };
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{activation:?} at {i}: y {v}, dy {g}"
            );
        }
    }
}

/// Relu's and leaky relu's forward without a bias, in place over several blocks and a ragged
/// tail, against the definition element by element, bit for bit (-0 and NaN included): the
/// kernel passes the values through a stack block.
#[test]
fn relu_forward_keeps_every_bit_across_blocks() {
    let mut rng = Rng::new(12);
    let mut x = rng.uniform_vec(1_000, -1.0, 1.0);
    x[7] = -0.0;
    x[300] = f32::NAN;
    x[555] = 0.0;
    for activation in [Activation::Relu, Activation::LeakyRelu { alpha: 0.1 }] {
        let mut y = x.clone();
        activation.forward_in_place(1, &mut y);
        for (i, (&got, &v)) in y.iter().zip(&x).enumerate() {
            let want = match activation {
                _ if v > 0.0 => v,
                Activation::Relu => 0.0,
                _ => 0.1 * v,
            };
            assert_eq!(got.to_bits(), want.to_bits(), "{activation:?} at {i}: x {v}");
        }
    }
}
