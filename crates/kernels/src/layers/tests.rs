//! Each layer kind against a plain reference: convolution against the direct sum, pooling and
//! batch norm against their formulas, dropout against the generator's draws, and every kind's
//! gradients (parameters, and inputs through the layers before it) against central finite
//! differences of the training loss.

use super::*;
use crate::test_util::Rng;
use crate::{BatchRecords, Batches, Loss, Model, Optimizer, TrainingConfig};

fn conv(
    filters: usize,
    kernel: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
    activation: &str,
) -> LayerConfig {
    LayerConfig::Conv2d {
        filters,
        kernel_size: kernel,
        strides,
        padding,
        activation: activation.to_owned(),
        alpha: 0.0,
        use_bias: true,
    }
}

fn pool(max: bool, size: [usize; 2], strides: [usize; 2], padding: Padding) -> LayerConfig {
    if max {
        LayerConfig::MaxPool2d {
            pool_size: size,
            strides,
            padding,
        }
    } else {
        LayerConfig::AvgPool2d {
            pool_size: size,
            strides,
            padding,
        }
    }
}

fn model(input_shape: &[usize], configs: &[LayerConfig], rng: &mut Rng) -> Model {
    let mut model = Model::new(input_shape).unwrap();
    for config in configs {
        model.add_layer(config).unwrap();
    }
    for index in 0..model.parameter_count() {
        let len = model.parameter(index).unwrap().len();
        // Batch norm's moving variance must stay positive; every buffer gets positive values
        // around 1 from this draw, which suits gamma and variances and is fine for weights.
        let values = rng.uniform_vec(len, -0.8, 0.8);
        model.set_parameter(index, &values).unwrap();
    }
    model
}

fn predict(model: &mut Model, x: &[f32], rows: usize) -> Vec<f32> {
    let mut out = vec![0.0; rows * model.outputs()];
    model.predict(x, rows, &mut out).unwrap();
    out
}

#[test]
fn conv2d_equals_the_direct_sum_for_same_and_valid_padding_and_strides() {
    let mut rng = Rng::new(7);
    let (h, w, c, f) = (5, 7, 3, 4);
    for (kernel, strides, padding) in [
        ([3, 3], [1, 1], Padding::Same),
        ([3, 2], [2, 2], Padding::Same),
        ([5, 5], [2, 1], Padding::Same),
        ([3, 3], [2, 3], Padding::Valid),
        ([1, 1], [1, 1], Padding::Valid),
    ] {
        let mut net = model(
            &[h, w, c],
            &[conv(f, kernel, strides, padding, "linear")],
            &mut rng,
        );
        let x = rng.uniform_vec(2 * h * w * c, -1.0, 1.0);
        let got = predict(&mut net, &x, 2);
        let weights = net.parameter(0).unwrap().to_vec();
        let bias = net.parameter(1).unwrap().to_vec();
        let rows_axis = window::Axis::new(h, kernel[0], strides[0], padding).unwrap();
        let cols_axis = window::Axis::new(w, kernel[1], strides[1], padding).unwrap();
        let (oh, ow) = (rows_axis.out, cols_axis.out);
        assert_eq!(got.len(), 2 * oh * ow * f);
        for n in 0..2 {
            for oy in 0..oh {
                for ox in 0..ow {
                    for filter in 0..f {
                        let mut sum = f64::from(bias[filter]);
                        for ky in 0..kernel[0] {
                            for kx in 0..kernel[1] {
                                let iy = (oy * strides[0] + ky) as isize - rows_axis.before as isize;
                                let ix = (ox * strides[1] + kx) as isize - cols_axis.before as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                    continue;
                                }
                                for ch in 0..c {
                                    let xv = x[((n * h + iy as usize) * w + ix as usize) * c + ch];
                                    let wv = weights[((filter * kernel[0] + ky) * kernel[1] + kx) * c + ch];
                                    sum += f64::from(xv) * f64::from(wv);
                                }
                            }
                        }
                        let at = ((n * oh + oy) * ow + ox) * f + filter;
                        assert!(
                            (got[at] as f64 - sum).abs() < 1e-5,
                            "{kernel:?} {strides:?} {padding:?}: {} vs {sum}",
                            got[at]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn pooling_ignores_padding_and_max_takes_the_first_maximum() {
    // One 3x3 channel, 2x2 windows with stride 2 and 'same' padding (none before, one after).
    let x = [1.0, 5.0, 2.0, 5.0, 3.0, 4.0, 7.0, 6.0, 8.0];
    let mut max = model(
        &[3, 3, 1],
        &[pool(true, [2, 2], [2, 2], Padding::Same)],
        &mut Rng::new(1),
    );
    assert_eq!(predict(&mut max, &x, 1), [5.0, 4.0, 7.0, 8.0]);
    let mut avg = model(
        &[3, 3, 1],
        &[pool(false, [2, 2], [2, 2], Padding::Same)],
        &mut Rng::new(1),
    );
    assert_eq!(predict(&mut avg, &x, 1), [14.0 / 4.0, 3.0, 6.5, 8.0]);
}

/// Trains `net` for one SGD step of rate 1 on the batch and returns every parameter's
/// gradient (its value before minus after), leaving the parameters as they were.
fn gradients(net: &mut Model, loss: Loss, x: &[f32], y: &[f32], rows: usize) -> Vec<Vec<f32>> {
    let before: Vec<Vec<f32>> = (0..net.parameter_count())
        .map(|i| net.parameter(i).unwrap().to_vec())
        .collect();
    let state = net.random_state();
    net.configure_training(TrainingConfig::new(loss, Optimizer::Sgd { learning_rate: 1.0 }))
        .unwrap();
    let order: Vec<u32> = (0..rows as u32).collect();
    let (mut losses, mut correct) = ([0.0], [0]);
    net.train_batches(
        x,
        y,
        rows,
        Batches {
            indices: &order,
            ends: &[rows as u32],
        },
        BatchRecords {
            losses: &mut losses,
            correct: &mut correct,
        },
    )
    .unwrap();
    let mut result = Vec::new();
    for (i, old) in before.iter().enumerate() {
        let new = net.parameter(i).unwrap();
        result.push(old.iter().zip(new).map(|(a, b)| a - b).collect());
        net.set_parameter(i, old).unwrap();
    }
    net.set_random_state(state);
    result
}

/// The training-mode loss of one batch (the loss a step records before its update), with the
/// dropout generator at `state`; nothing is updated (learning rate 0) and moving statistics
/// are put back.
fn training_loss(net: &mut Model, loss: Loss, x: &[f32], y: &[f32], rows: usize, state: [u32; 4]) -> f64 {
    let saved: Vec<Vec<f32>> = (0..net.parameter_count())
        .map(|i| net.parameter(i).unwrap().to_vec())
        .collect();
    net.set_random_state(state);
    net.configure_training(TrainingConfig::new(loss, Optimizer::Sgd { learning_rate: 0.0 }))
        .unwrap();
    let order: Vec<u32> = (0..rows as u32).collect();
    let (mut losses, mut correct) = ([0.0], [0]);
    let batches = Batches {
        indices: &order,
        ends: &[rows as u32],
    };
    let records = BatchRecords {
        losses: &mut losses,
        correct: &mut correct,
    };
    net.train_batches(x, y, rows, batches, records).unwrap();
    for (i, values) in saved.iter().enumerate() {
        net.set_parameter(i, values).unwrap();
    }
    losses[0]
}

/// Central differences of the training loss against backpropagation, for a sample of every
/// trained buffer's elements. f32 forward passes limit the agreement to about 1e-2 relative.
fn check_gradients(input_shape: &[usize], configs: &[LayerConfig], loss: Loss, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut net = model(input_shape, configs, &mut rng);
    net.set_random_state([seed as u32 | 1, 2, 3, 4]);
    let rows = 3;
    let x = rng.uniform_vec(rows * net.inputs(), -1.0, 1.0);
    let outputs = net.outputs();
    let y: Vec<f32> = match loss {
        Loss::CategoricalCrossEntropy => (0..rows * outputs)
            .map(|i| f32::from(i % outputs == i / outputs % outputs))
            .collect(),
        _ => rng.uniform_vec(rows * outputs, 0.0, 1.0),
    };
    let state = net.random_state();
    let analytic = gradients(&mut net, loss, &x, &y, rows);
    let mut checked = 0;
    for (index, gradient) in analytic.iter().enumerate() {
        if !net.params().nth(index).unwrap().trained {
            continue; // moving statistics: what changed them is no gradient
        }
        let step = (gradient.len() / 5).max(1);
        for j in (0..gradient.len()).step_by(step) {
            let original = net.parameter(index).unwrap().to_vec();
            let eps = 1e-2;
            let mut shifted = original.clone();
            shifted[j] = original[j] + eps;
            net.set_parameter(index, &shifted).unwrap();
            let plus = training_loss(&mut net, loss, &x, &y, rows, state);
            shifted[j] = original[j] - eps;
            net.set_parameter(index, &shifted).unwrap();
            let minus = training_loss(&mut net, loss, &x, &y, rows, state);
            net.set_parameter(index, &original).unwrap();
            let numeric = (plus - minus) / (2.0 * f64::from(eps));
            let got = f64::from(gradient[j]);
            let tolerance = 2e-2 * numeric.abs().max(got.abs()).max(1e-2);
            assert!(
                (got - numeric).abs() <= tolerance,
                "{configs:?}: buffer {index}[{j}]: backprop {got}, finite difference {numeric}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

fn dense(units: usize, activation: &str) -> LayerConfig {
    LayerConfig::Dense {
        units,
        activation: activation.to_owned(),
        alpha: 0.0,
        use_bias: true,
    }
}

/// Max pooling takes in relu's backward from the layer before it (a conv2d's relu, or a relu
/// layer's): the gradients are bit for bit those of the same network with an identity layer
/// between the two, which keeps the relu's own backward. Tiling windows and overlapping,
/// padded ones (the two backward paths); inputs around zero, so relu cuts many winners.
#[test]
fn max_pooling_absorbs_relus_backward_bit_for_bit() {
    let identity = LayerConfig::Activation {
        activation: "linear".to_owned(),
        alpha: 0.0,
    };
    let relu = LayerConfig::Activation {
        activation: "relu".to_owned(),
        alpha: 0.0,
    };
    let same = Padding::Same;
    for window in [
        pool(true, [2, 2], [2, 2], Padding::Valid),
        pool(true, [3, 3], [2, 2], same),
    ] {
        let heads = [
            vec![conv(4, [3, 3], [1, 1], same, "relu")],
            vec![conv(4, [3, 3], [1, 1], same, "linear"), relu.clone()],
        ];
        for head in heads {
            let tail = [LayerConfig::Flatten {}, dense(3, "softmax")];
            let mut absorbed: Vec<LayerConfig> = head.clone();
            absorbed.push(window.clone());
            absorbed.extend(tail.clone());
            let mut apart: Vec<LayerConfig> = head.clone();
            apart.extend([identity.clone(), window.clone()]);
            apart.extend(tail);
            let (shape, rows) = ([6, 6, 2], 5);
            let mut rng = Rng::new(31);
            let mut absorbing = model(&shape, &absorbed, &mut rng);
            let mut separate = model(&shape, &apart, &mut Rng::new(31));
            let x = rng.uniform_vec(rows * 72, -1.0, 1.0);
            let y: Vec<f32> = (0..rows * 3)
                .map(|i| f32::from(u8::from(i % 3 == i / 3 % 3)))
                .collect();
            let loss = Loss::CategoricalCrossEntropy;
            let got = gradients(&mut absorbing, loss, &x, &y, rows);
            let want = gradients(&mut separate, loss, &x, &y, rows);
            let bits = |all: &[Vec<f32>]| all.iter().flatten().map(|g| g.to_bits()).collect::<Vec<_>>();
            assert!(bits(&got) == bits(&want), "{absorbed:?}");
            // The convolution's gradient is not all zero: relu passed some of it.
            assert!(got[0].iter().any(|&g| g != 0.0) && got[0].iter().all(|g| g.is_finite()));
        }
    }
}

#[test]
fn every_layer_kind_backpropagates_like_finite_differences() {
    let flatten = LayerConfig::Flatten {};
    let batch_norm = LayerConfig::BatchNorm {
        momentum: 0.9,
        epsilon: 1e-3,
    };
    let tanh = LayerConfig::Activation {
        activation: "tanh".to_owned(),
        alpha: 0.0,
    };
    let dropout = LayerConfig::Dropout { rate: 0.3 };
    let cases: Vec<(Vec<usize>, Vec<LayerConfig>, Loss)> = vec![
        (
            vec![5, 4, 2],
            vec![
                conv(3, [3, 3], [2, 1], Padding::Same, "tanh"),
                flatten.clone(),
                dense(2, "softmax"),
            ],
            Loss::CategoricalCrossEntropy,
        ),
        (
            vec![6, 5, 1],
            vec![
                conv(2, [3, 2], [1, 1], Padding::Valid, "linear"),
                conv(2, [2, 2], [1, 2], Padding::Same, "sigmoid"),
                flatten.clone(),
                dense(1, "sigmoid"),
            ],
            Loss::BinaryCrossEntropy,
        ),
        (
            vec![5, 5, 2],
            vec![
                conv(2, [1, 1], [1, 1], Padding::Valid, "tanh"),
                pool(true, [2, 2], [2, 2], Padding::Same),
                flatten.clone(),
                dense(2, "linear"),
            ],
            Loss::MeanSquaredError,
        ),
        (
            vec![5, 6, 2],
            vec![
                conv(2, [3, 3], [1, 1], Padding::Same, "tanh"),
                pool(false, [3, 2], [2, 2], Padding::Same),
                flatten.clone(),
                dense(2, "linear"),
            ],
            Loss::MeanSquaredError,
        ),
        (
            vec![4, 4, 2],
            vec![
                conv(3, [3, 3], [1, 1], Padding::Same, "linear"),
                batch_norm.clone(),
                tanh.clone(),
                flatten.clone(),
                dense(1, "sigmoid"),
            ],
            Loss::BinaryCrossEntropy,
        ),
        (
            vec![4],
            vec![dense(5, "linear"), batch_norm, tanh, dense(2, "linear")],
            Loss::MeanSquaredError,
        ),
        (
            vec![4],
            vec![dense(6, "tanh"), dropout, dense(2, "softmax")],
            Loss::CategoricalCrossEntropy,
        ),
    ];
    for (seed, (shape, configs, loss)) in cases.into_iter().enumerate() {
        check_gradients(&shape, &configs, loss, seed as u64 + 11);
    }
}

#[test]
fn batch_norm_moves_its_statistics_as_keras_and_normalizes_with_them_in_inference() {
    let mut net = Model::new(&[2]).unwrap();
    net.add_layer(&LayerConfig::BatchNorm {
        momentum: 0.75,
        epsilon: 1e-3,
    })
    .unwrap();
    net.set_parameter(0, &[1.0, 2.0]).unwrap(); // gamma
    net.set_parameter(1, &[0.0, 0.5]).unwrap(); // beta
    net.set_parameter(3, &[1.0, 1.0]).unwrap(); // moving variance starts at 1, mean at 0
    let x = [1.0, 2.0, 3.0, 6.0]; // feature 0: mean 2, biased variance 1; feature 1: 4 and 4
    training_loss_once(&mut net, &x);
    let moving_mean = net.parameter(2).unwrap().to_vec();
    let moving_variance = net.parameter(3).unwrap().to_vec();
    assert_eq!(moving_mean, [0.25 * 2.0, 0.25 * 4.0]);
    assert_eq!(moving_variance, [0.75 + 0.25 * 1.0, 0.75 + 0.25 * 4.0]);
    let out = predict(&mut net, &x, 2);
    let expected = |v: f32, ch: usize| {
        [1.0, 2.0][ch] * (v - moving_mean[ch]) / (moving_variance[ch] + 1e-3).sqrt() + [0.0, 0.5][ch]
    };
    for (i, &got) in out.iter().enumerate() {
        assert!((got - expected(x[i], i % 2)).abs() < 1e-6);
    }
}

fn training_loss_once(net: &mut Model, x: &[f32]) {
    net.configure_training(TrainingConfig::new(
        Loss::MeanSquaredError,
        Optimizer::Sgd { learning_rate: 0.0 },
    ))
    .unwrap();
    let (mut losses, mut correct) = ([0.0], [0]);
    net.train_batches(
        x,
        &vec![0.0; x.len()],
        2,
        Batches {
            indices: &[0, 1],
            ends: &[2],
        },
        BatchRecords {
            losses: &mut losses,
            correct: &mut correct,
        },
    )
    .unwrap();
}

#[test]
fn dropout_keeps_the_elements_whose_draw_is_at_least_the_rate_in_row_major_order() {
    let mut net = Model::new(&[3]).unwrap();
    net.add_layer(&LayerConfig::Dropout { rate: 0.5 }).unwrap();
    let state = [9, 8, 7, 6];
    net.set_random_state(state);
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    net.configure_training(TrainingConfig::new(
        Loss::MeanSquaredError,
        Optimizer::Sgd { learning_rate: 0.0 },
    ))
    .unwrap();
    let (mut losses, mut correct) = ([0.0], [0]);
    let y = [0.0; 6];
    net.train_batches(
        &x,
        &y,
        2,
        Batches {
            indices: &[0, 1],
            ends: &[2],
        },
        BatchRecords {
            losses: &mut losses,
            correct: &mut correct,
        },
    )
    .unwrap();
    let mut random = Xoshiro128::from_state(state);
    let kept: f64 = x
        .iter()
        .map(|&v| {
            if random.uniform() >= 0.5 {
                f64::from(v * 2.0).powi(2)
            } else {
                0.0
            }
        })
        .sum();
    assert_eq!(losses[0], kept / 6.0);
    assert_eq!(net.random_state(), random.state());
    // Inference is the identity and draws nothing.
    assert_eq!(predict(&mut net, &x, 2), x);
    assert_eq!(net.random_state(), random.state());
}

#[test]
fn configurations_parse_from_the_json_the_bindings_receive_and_bad_ones_are_errors() {
    let json = r#"{"type":"conv2d","filters":2,"kernelSize":[3,3],"strides":[1,1],"padding":"same","activation":"relu","alpha":0,"useBias":true,"inputShape":[4,4,1],"outputShape":[4,4,2]}"#;
    assert_eq!(
        LayerConfig::from_json(json).unwrap(),
        conv(2, [3, 3], [1, 1], Padding::Same, "relu")
    );
    assert_eq!(
        LayerConfig::from_json(r#"{"type":"sparse"}"#)
            .unwrap_err()
            .argument,
        "layer"
    );
    let mut net = Model::new(&[4]).unwrap();
    let error = net
        .add_layer(&conv(2, [3, 3], [1, 1], Padding::Same, "relu"))
        .unwrap_err();
    assert!(error.to_string().contains("[height, width, channels]"), "{error}");
    let mut net = Model::new(&[2, 2, 1]).unwrap();
    assert!(net
        .add_layer(&conv(1, [3, 3], [1, 1], Padding::Valid, "relu"))
        .is_err());
    assert!(net.add_layer(&dense(3, "relu")).is_err());
    assert_eq!(
        net.add_layer(&LayerConfig::Dropout { rate: 1.0 })
            .unwrap_err()
            .argument,
        "rate"
    );
}
