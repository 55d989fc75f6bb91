use super::*;
use crate::test_util::Rng;
use crate::{Activation, LayerConfig, TrainingConfig};

fn model(inputs: usize, layers: &[(usize, Activation)], rng: &mut Rng) -> Model {
    let mut model = Model::new(&[inputs]).unwrap();
    for &(units, activation) in layers {
        model.add_layer(&LayerConfig::dense(units, activation)).unwrap();
    }
    for index in 0..model.parameter_count() {
        let values = rng.uniform_vec(model.parameter(index).unwrap().len(), -0.5, 0.5);
        model.set_parameter(index, &values).unwrap();
    }
    model
}

fn parameters(model: &Model) -> Vec<Vec<f32>> {
    (0..model.parameter_count())
        .map(|i| model.parameter(i).unwrap().to_vec())
        .collect()
}

fn all_rows(samples: usize) -> Vec<u32> {
    (0..samples as u32).collect()
}

/// Ends of the batches of `batch_size` cut from `len` indices (the last may be smaller).
fn ends(len: usize, batch_size: usize) -> Vec<u32> {
    (1..=len.div_ceil(batch_size))
        .map(|b| (b * batch_size).min(len) as u32)
        .collect()
}

/// What a run recorded per batch, with the outcome.
#[derive(Debug)]
struct Run {
    outcome: TrainOutcome,
    losses: Vec<f64>,
    correct: Vec<u32>,
}

impl Run {
    /// Sum over the applied batches of (loss x rows), as the Trainer turns records into epochs.
    fn loss_sum(&self, batch_size: usize, len: usize) -> f64 {
        let rows = ends(len, batch_size);
        let mut start = 0;
        let mut sum = 0.0;
        for (loss, &end) in self.losses.iter().zip(&rows).take(self.outcome.batches) {
            sum += loss * f64::from(end - start);
            start = end;
        }
        sum
    }
}

fn train(
    net: &mut Model,
    (x, y, samples): (&[f32], &[f32], usize),
    indices: &[u32],
    batch_size: usize,
) -> Result<Run, ModelError> {
    let ends = ends(indices.len(), batch_size);
    let mut losses = vec![f64::NAN; ends.len()];
    let mut correct = vec![u32::MAX; ends.len()];
    let batches = Batches { indices, ends: &ends };
    let records = BatchRecords {
        losses: &mut losses,
        correct: &mut correct,
    };
    let outcome = net.train_batches(x, y, samples, batches, records)?;
    Ok(Run {
        outcome,
        losses,
        correct,
    })
}

/// One SGD step with learning rate 1 moves each parameter by exactly minus its gradient, so
/// the update gives the gradient, which is compared with central differences of the loss.
#[test]
fn gradients_match_finite_differences_for_every_loss() {
    let mut rng = Rng::new(21);
    let (samples, inputs) = (6, 3);
    let cases = [
        (Activation::Sigmoid, Loss::BinaryCrossEntropy, 2),
        (Activation::Softmax, Loss::CategoricalCrossEntropy, 3),
        (Activation::Linear, Loss::MeanSquaredError, 2),
        (Activation::Tanh, Loss::MeanSquaredError, 2),
    ];
    for hidden in [
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::LeakyRelu { alpha: 0.1 },
    ] {
        for (output, loss, outputs) in cases {
            let x = rng.uniform_vec(samples * inputs, -1.0, 1.0);
            let y: Vec<f32> = (0..samples * outputs)
                .map(|i| match loss {
                    Loss::CategoricalCrossEntropy => {
                        f32::from(u8::from(i % outputs == (i / outputs) % outputs))
                    }
                    _ => f32::from(u8::from(rng.uniform(0.0, 1.0) > 0.5)),
                })
                .collect();
            let mut net = model(inputs, &[(4, hidden), (outputs, output)], &mut rng);
            let before = parameters(&net);
            let mut probe = |params: &[Vec<f32>]| {
                for (i, values) in params.iter().enumerate() {
                    net.set_parameter(i, values).unwrap();
                }
                let mut out = vec![0.0; samples * outputs];
                net.evaluate(loss, &x, &y, samples, &mut out).unwrap().loss
            };
            let h = 1e-3f32;
            let mut numeric = before.clone();
            for (i, buffer) in before.iter().enumerate() {
                for j in 0..buffer.len() {
                    let mut plus = before.clone();
                    plus[i][j] += h;
                    let mut minus = before.clone();
                    minus[i][j] -= h;
                    numeric[i][j] = ((probe(&plus) - probe(&minus)) / (2.0 * f64::from(h))) as f32;
                }
            }
            probe(&before);
            net.configure_training(TrainingConfig::new(loss, Optimizer::Sgd { learning_rate: 1.0 }))
                .unwrap();
            train(&mut net, (&x, &y, samples), &all_rows(samples), samples).unwrap();
            for (i, buffer) in before.iter().enumerate() {
                for (j, &old) in buffer.iter().enumerate() {
                    let analytic = old - net.parameter(i).unwrap()[j];
                    let expected = numeric[i][j];
                    assert!(
                        (analytic - expected).abs() <= 2e-3 * expected.abs().max(0.05),
                        "{hidden:?}/{output:?}/{loss:?} parameter {i}[{j}]: backprop {analytic}, finite difference {expected}"
                    );
                }
            }
        }
    }
}

#[test]
fn shuffled_and_contiguous_batches_agree_when_they_hold_the_same_rows() {
    let mut rng = Rng::new(5);
    let (samples, inputs) = (8, 2);
    let x = rng.uniform_vec(samples * inputs, -1.0, 1.0);
    let y: Vec<f32> = (0..samples).map(|i| (i % 2) as f32).collect();
    let layers = [(5, Activation::Relu), (1, Activation::Sigmoid)];
    let mut a = model(inputs, &layers, &mut Rng::new(9));
    let mut b = model(inputs, &layers, &mut Rng::new(9));
    for net in [&mut a, &mut b] {
        net.configure_training(TrainingConfig::new(
            Loss::BinaryCrossEntropy,
            Optimizer::Sgd { learning_rate: 0.5 },
        ))
        .unwrap();
    }
    // One batch of all rows: contiguous for `a`, reversed (so gathered) for `b`. The mean
    // loss gradient is a sum over rows, so only rounding may differ.
    let forward: Vec<u32> = all_rows(samples);
    let reversed: Vec<u32> = forward.iter().rev().copied().collect();
    let out_a = train(&mut a, (&x, &y, samples), &forward, samples).unwrap();
    let out_b = train(&mut b, (&x, &y, samples), &reversed, samples).unwrap();
    assert!((out_a.losses[0] - out_b.losses[0]).abs() < 1e-6);
    assert_eq!(out_a.correct, out_b.correct);
    for (pa, pb) in parameters(&a).iter().zip(parameters(&b).iter()) {
        for (va, vb) in pa.iter().zip(pb) {
            assert!((va - vb).abs() < 1e-6, "{va} vs {vb}");
        }
    }
}

/// Plain f64 SGD on mean squared error for a one-unit linear model (`weights` then `bias`),
/// batch by batch over `order` in batches of `batch_size`: each batch's loss before its update
/// and how many of its rows fall on the target's side of 0.5, then the final parameters.
fn linear_sgd_reference(
    (x, y, inputs): (&[f32], &[f32], usize),
    order: &[u32],
    batch_size: usize,
    learning_rate: f64,
    mut parameters: Vec<f64>,
) -> (Vec<f64>, Vec<u32>, Vec<f64>) {
    let (mut losses, mut correct) = (Vec::new(), Vec::new());
    for batch in order.chunks(batch_size) {
        let rows = batch.len() as f64;
        let mut gradient = vec![0.0; inputs + 1];
        let (mut loss, mut hits) = (0.0, 0);
        for &row in batch {
            let features = &x[row as usize * inputs..][..inputs];
            let prediction = parameters[inputs]
                + features
                    .iter()
                    .zip(&parameters)
                    .map(|(&v, w)| f64::from(v) * w)
                    .sum::<f64>();
            let target = f64::from(y[row as usize]);
            loss += (prediction - target).powi(2) / rows;
            hits += u32::from((prediction >= 0.5) == (target >= 0.5));
            for (g, &v) in gradient.iter_mut().zip(features) {
                *g += 2.0 * (prediction - target) * f64::from(v) / rows;
            }
            gradient[inputs] += 2.0 * (prediction - target) / rows;
        }
        for (p, g) in parameters.iter_mut().zip(&gradient) {
            *p -= learning_rate * g;
        }
        losses.push(loss);
        correct.push(hits);
    }
    (losses, correct, parameters)
}

#[test]
fn batches_are_cut_from_the_index_order_and_the_last_may_be_smaller() {
    let mut rng = Rng::new(3);
    let (samples, inputs) = (7, 2);
    let x = rng.uniform_vec(samples * inputs, -1.0, 1.0);
    let y = rng.uniform_vec(samples, -1.0, 1.0);
    let mut net = model(inputs, &[(1, Activation::Linear)], &mut rng);
    let start: Vec<f64> = parameters(&net).concat().into_iter().map(f64::from).collect();
    net.configure_training(TrainingConfig::new(
        Loss::MeanSquaredError,
        Optimizer::Sgd { learning_rate: 0.1 },
    ))
    .unwrap();
    let order = [6, 0, 3, 1, 2, 5, 4];
    let run = train(&mut net, (&x, &y, samples), &order, 3).unwrap();
    let (losses, correct, end) = linear_sgd_reference((&x, &y, inputs), &order, 3, 0.1, start.clone());
    assert_eq!(run.outcome.batches, 3);
    for (b, (&got, &expected)) in run.losses.iter().zip(&losses).enumerate() {
        assert!(
            (got - expected).abs() <= 1e-5 * expected,
            "batch {b}: loss {got}, expected {expected}"
        );
    }
    assert_eq!(run.correct, correct);
    for (i, (&got, &expected)) in parameters(&net).concat().iter().zip(&end).enumerate() {
        assert!(
            (f64::from(got) - expected).abs() < 1e-6,
            "parameter {i}: {got} vs {expected}"
        );
    }
    // The order matters to every batch here: rows in ascending order give other losses.
    let (ascending, ..) = linear_sgd_reference((&x, &y, inputs), &all_rows(samples), 3, 0.1, start);
    for (b, (a, expected)) in ascending.iter().zip(&losses).enumerate() {
        assert!((a - expected).abs() > 1e-3 * expected, "batch {b}");
    }
}

#[test]
fn training_reduces_the_loss_with_each_optimizer() {
    let mut rng = Rng::new(8);
    let (samples, inputs) = (64, 2);
    let x = rng.uniform_vec(samples * inputs, -1.0, 1.0);
    // XOR-like labels: not linearly separable, so the hidden layer has to learn.
    let y: Vec<f32> = x
        .chunks(2)
        .map(|p| f32::from(u8::from(p[0] * p[1] > 0.0)))
        .collect();
    let optimizers = [
        Optimizer::Sgd { learning_rate: 0.5 },
        Optimizer::Momentum {
            learning_rate: 0.1,
            momentum: 0.9,
        },
        Optimizer::Adam {
            learning_rate: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
        },
    ];
    for optimizer in optimizers {
        let mut net = model(
            inputs,
            &[(16, Activation::Tanh), (1, Activation::Sigmoid)],
            &mut Rng::new(1),
        );
        net.configure_training(TrainingConfig::new(Loss::BinaryCrossEntropy, optimizer))
            .unwrap();
        let epoch = |net: &mut Model| {
            let run = train(net, (&x, &y, samples), &all_rows(samples), 16).unwrap();
            run.loss_sum(16, samples)
        };
        let first = epoch(&mut net);
        let mut last = first;
        for _ in 0..300 {
            last = epoch(&mut net);
        }
        assert!(last < 0.5 * first, "{optimizer:?}: {first} -> {last}");
    }
}

#[test]
fn divergence_stops_and_restores_the_parameters_of_the_call_start() {
    let (samples, inputs) = (4, 1);
    let x = vec![1.0, 2.0, 3.0, 4.0];
    let y = vec![1.0, 2.0, 3.0, 4.0];
    let mut net = Model::new(&[inputs]).unwrap();
    net.add_layer(&LayerConfig::dense(1, Activation::Linear)).unwrap();
    net.set_parameter(0, &[1.0]).unwrap();
    // A learning rate this large makes every step overshoot by more than it corrects.
    net.configure_training(TrainingConfig::new(
        Loss::MeanSquaredError,
        Optimizer::Sgd { learning_rate: 1e19 },
    ))
    .unwrap();
    net.set_parameter(0, &[2.0]).unwrap();
    let run = train(&mut net, (&x, &y, samples), &[0, 1, 2, 3, 0, 1, 2, 3, 0, 1], 2).unwrap();
    assert!(run.outcome.diverged);
    assert!(run.outcome.batches < 5);
    assert!(!run.losses[run.outcome.batches].is_finite());
    assert_eq!(parameters(&net), vec![vec![2.0], vec![0.0]]);
}

#[test]
fn updates_that_overflow_the_weights_are_rolled_back_even_when_every_loss_was_finite() {
    let mut net = Model::new(&[1]).unwrap();
    net.add_layer(&LayerConfig::dense(1, Activation::Linear)).unwrap();
    net.set_parameter(0, &[1.0]).unwrap();
    // One step: the loss (in f64) is finite, the update overflows f32.
    net.configure_training(TrainingConfig::new(
        Loss::MeanSquaredError,
        Optimizer::Sgd { learning_rate: 1e38 },
    ))
    .unwrap();
    let run = train(&mut net, (&[1.0], &[1e3], 1), &[0], 1).unwrap();
    assert!(run.losses[0].is_finite());
    assert!(run.outcome.diverged);
    assert_eq!(parameters(&net), vec![vec![1.0], vec![0.0]]);
}

#[test]
fn bad_arguments_are_errors_naming_them() {
    let mut net = Model::new(&[2]).unwrap();
    assert_eq!(Model::new(&[0]).err().unwrap().argument, "inputShape");
    assert_eq!(
        net.add_layer(&LayerConfig::dense(0, Activation::Relu))
            .unwrap_err()
            .argument,
        "units"
    );
    net.add_layer(&LayerConfig::dense(3, Activation::Relu)).unwrap();
    net.add_layer(&LayerConfig::dense(1, Activation::Linear)).unwrap();
    assert_eq!(
        net.configure_training(TrainingConfig::new(
            Loss::BinaryCrossEntropy,
            Optimizer::Sgd { learning_rate: 0.1 }
        ))
        .unwrap_err()
        .to_string(),
        "loss: binaryCrossEntropy needs a sigmoid output layer, got Linear"
    );
    let x = [0.0; 4];
    let y = [0.0; 2];
    assert_eq!(
        train(&mut net, (&x, &y, 2), &[0, 1], 1).unwrap_err().argument,
        "training"
    );
    net.configure_training(TrainingConfig::new(
        Loss::MeanSquaredError,
        Optimizer::Sgd { learning_rate: 0.1 },
    ))
    .unwrap();
    assert_eq!(
        train(&mut net, (&x, &y, 2), &[0, 2], 1).unwrap_err().to_string(),
        "indices: expected sample indices below 2, got 2"
    );
    assert_eq!(
        train(&mut net, (&x[..3], &y, 2), &[0], 1)
            .unwrap_err()
            .to_string(),
        "x: expected length 4 (rows*inputs), got 3"
    );
    let mut bad_ends = |ends: &[u32]| {
        let batches = Batches {
            indices: &[0, 1, 1],
            ends,
        };
        let records = BatchRecords {
            losses: &mut [0.0; 2],
            correct: &mut [0; 2],
        };
        net.train_batches(&x, &y, 2, batches, records)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        bad_ends(&[0, 3]),
        "batchEnds: expected rising offsets within the 3 indices, got 0 for batch 0"
    );
    assert_eq!(
        bad_ends(&[2, 4]),
        "batchEnds: expected rising offsets within the 3 indices, got 4 for batch 1"
    );
    assert_eq!(
        bad_ends(&[1, 2]),
        "batchEnds: expected the last batch to end at 3, the number of indices, got 2"
    );
    let batches = Batches {
        indices: &[0, 1],
        ends: &[1, 2],
    };
    let records = BatchRecords {
        losses: &mut [0.0; 1],
        correct: &mut [0; 2],
    };
    assert_eq!(
        net.train_batches(&x, &y, 2, batches, records)
            .unwrap_err()
            .to_string(),
        "losses: expected length 2 (one per batch), got 1"
    );
    assert_eq!(net.set_parameter(4, &[]).unwrap_err().argument, "index");
    assert_eq!(
        net.set_parameter(1, &[0.0; 2]).unwrap_err().to_string(),
        "values: expected length 3 (the parameter's length), got 2"
    );
    let mut out = [0.0; 1];
    assert_eq!(net.predict(&x, 2, &mut out).unwrap_err().argument, "out");
}

#[test]
fn count_correct_thresholds_one_output_and_takes_argmax_of_several() {
    assert_eq!(count_correct(1, &[0.2, 0.7, 0.5, 0.4], &[0.0, 1.0, 0.0, 1.0]), 2);
    assert_eq!(
        count_correct(
            3,
            &[0.1, 0.7, 0.2, 0.5, 0.3, 0.2],
            &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        ),
        1
    );
}

#[test]
fn impossible_sizes_are_errors_not_aborts() {
    let mut net = Model::new(&[1 << 20]).unwrap();
    // Weights of units x 2^20 overflow a 64-bit usize, and exceed the buffer limit on 32-bit wasm.
    let error = net
        .add_layer(&LayerConfig::dense(usize::MAX >> 20, Activation::Relu))
        .unwrap_err();
    assert_eq!(error.argument, "units");
    let error = net
        .add_layer(&LayerConfig::dense(1 << 9, Activation::Relu))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "units: a buffer of 536870912 floats is over the limit of 268435456"
    );
    let mut net = Model::new(&[usize::MAX / 2]).unwrap();
    assert_eq!(
        net.add_layer(&LayerConfig::dense(4, Activation::Relu))
            .unwrap_err()
            .argument,
        "units"
    );
}

/// A 3-2-1 network, its data, and each buffer's gradient from one plain SGD step of rate 1.
fn decay_fixture() -> (Model, Vec<f32>, Vec<f32>, Vec<Vec<f32>>) {
    let mut rng = Rng::new(21);
    let mut net = model(3, &[(2, Activation::Tanh), (1, Activation::Linear)], &mut rng);
    let (x, y) = (rng.uniform_vec(12, -1.0, 1.0), rng.uniform_vec(4, -1.0, 1.0));
    let before = parameters(&net);
    let sgd = Optimizer::Sgd { learning_rate: 1.0 };
    net.configure_training(TrainingConfig::new(Loss::MeanSquaredError, sgd))
        .unwrap();
    train(&mut net, (&x, &y, 4), &all_rows(4), 4).unwrap();
    let gradients = before
        .iter()
        .zip(parameters(&net))
        .map(|(old, new)| old.iter().zip(new).map(|(a, b)| a - b).collect())
        .collect();
    for (index, values) in before.iter().enumerate() {
        net.set_parameter(index, values).unwrap();
    }
    (net, x, y, gradients)
}

#[test]
fn coupled_weight_decay_adds_to_the_gradient_of_kernels_only() {
    let (mut net, x, y, gradients) = decay_fixture();
    let before = parameters(&net);
    let config = TrainingConfig {
        weight_decay: 0.1,
        ..TrainingConfig::new(Loss::MeanSquaredError, Optimizer::Sgd { learning_rate: 0.5 })
    };
    net.configure_training(config).unwrap();
    train(&mut net, (&x, &y, 4), &all_rows(4), 4).unwrap();
    for (index, after) in parameters(&net).iter().enumerate() {
        let decays = index % 2 == 0; // weights decay, biases do not
        for (j, &got) in after.iter().enumerate() {
            let (p, g) = (before[index][j], gradients[index][j]);
            let expected = p - 0.5 * (g + if decays { 0.1 * p } else { 0.0 });
            assert!(
                (got - expected).abs() < 1e-6,
                "buffer {index}[{j}]: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn adamw_shrinks_kernels_by_the_rate_times_the_decay_before_the_adam_step() {
    let (mut plain, x, y, _) = decay_fixture();
    let (mut decoupled, ..) = decay_fixture();
    let before = parameters(&plain);
    let adam = Optimizer::Adam {
        learning_rate: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };
    let adamw = Optimizer::AdamW {
        learning_rate: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };
    plain
        .configure_training(TrainingConfig::new(Loss::MeanSquaredError, adam))
        .unwrap();
    let config = TrainingConfig {
        weight_decay: 0.5,
        ..TrainingConfig::new(Loss::MeanSquaredError, adamw)
    };
    decoupled.configure_training(config).unwrap();
    train(&mut plain, (&x, &y, 4), &all_rows(4), 4).unwrap();
    train(&mut decoupled, (&x, &y, 4), &all_rows(4), 4).unwrap();
    // The Adam step does not depend on the parameter, so AdamW = Adam's step from p * (1 - lr wd).
    for (index, (got, step)) in parameters(&decoupled).iter().zip(parameters(&plain)).enumerate() {
        for j in 0..got.len() {
            let p = before[index][j];
            let shrunk = if index % 2 == 0 { p * (1.0 - 0.01 * 0.5) } else { p };
            let expected = shrunk + (step[j] - p);
            assert!(
                (got[j] - expected).abs() < 1e-6,
                "buffer {index}[{j}]: {} vs {expected}",
                got[j]
            );
        }
    }
}

#[test]
fn clipping_scales_every_gradient_to_the_global_norm() {
    let (mut net, x, y, gradients) = decay_fixture();
    let before = parameters(&net);
    let norm = gradients
        .iter()
        .flatten()
        .map(|&g| f64::from(g).powi(2))
        .sum::<f64>()
        .sqrt();
    let clip_norm = (norm / 4.0) as f32;
    let config = TrainingConfig {
        clip_norm: Some(clip_norm),
        ..TrainingConfig::new(Loss::MeanSquaredError, Optimizer::Sgd { learning_rate: 1.0 })
    };
    net.configure_training(config).unwrap();
    train(&mut net, (&x, &y, 4), &all_rows(4), 4).unwrap();
    let scale = f64::from(clip_norm) / (norm + 1e-6);
    for (index, after) in parameters(&net).iter().enumerate() {
        for (j, &got) in after.iter().enumerate() {
            let expected = f64::from(before[index][j]) - scale * f64::from(gradients[index][j]);
            assert!((f64::from(got) - expected).abs() < 1e-6, "buffer {index}[{j}]");
        }
    }
    // A norm under the limit leaves the gradients alone.
    let (mut loose, ..) = decay_fixture();
    let config = TrainingConfig {
        clip_norm: Some((norm * 2.0) as f32),
        ..TrainingConfig::new(Loss::MeanSquaredError, Optimizer::Sgd { learning_rate: 1.0 })
    };
    loose.configure_training(config).unwrap();
    train(&mut loose, (&x, &y, 4), &all_rows(4), 4).unwrap();
    for (index, after) in parameters(&loose).iter().enumerate() {
        for (j, &got) in after.iter().enumerate() {
            assert_eq!(got, before[index][j] - gradients[index][j]);
        }
    }
}

#[test]
fn a_new_learning_rate_keeps_the_optimizer_state_and_the_state_moves_to_another_model() {
    let mut rng = Rng::new(5);
    let mut net = model(2, &[(3, Activation::Relu), (1, Activation::Sigmoid)], &mut rng);
    let mut twin = model(
        2,
        &[(3, Activation::Relu), (1, Activation::Sigmoid)],
        &mut Rng::new(99),
    );
    let x = rng.uniform_vec(16, -1.0, 1.0);
    let y: Vec<f32> = (0..8).map(|i| (i % 2) as f32).collect();
    let adam = Optimizer::Adam {
        learning_rate: 0.1,
        beta1: 0.9,
        beta2: 0.99,
        epsilon: 1e-7,
    };
    net.configure_training(TrainingConfig::new(Loss::BinaryCrossEntropy, adam))
        .unwrap();
    train(&mut net, (&x, &y, 8), &all_rows(8), 4).unwrap();
    net.set_learning_rate(0.05).unwrap();
    assert_eq!(net.optimizer_step(), 2);
    // The twin takes the weights, the optimizer state and the step count, then both go on.
    twin.configure_training(TrainingConfig::new(
        Loss::BinaryCrossEntropy,
        adam.with_learning_rate(0.05),
    ))
    .unwrap();
    for (index, values) in parameters(&net).iter().enumerate() {
        twin.set_parameter(index, values).unwrap();
    }
    assert_eq!(twin.optimizer_state_count(), 8); // m and v of 4 buffers
    for index in 0..net.optimizer_state_count() {
        let state = net.optimizer_state(index).unwrap().to_vec();
        assert!(state.iter().any(|&v| v != 0.0), "state {index} was reset");
        twin.set_optimizer_state(index, &state).unwrap();
    }
    twin.set_optimizer_step(net.optimizer_step()).unwrap();
    train(&mut net, (&x, &y, 8), &all_rows(8), 4).unwrap();
    train(&mut twin, (&x, &y, 8), &all_rows(8), 4).unwrap();
    assert_eq!(parameters(&twin), parameters(&net));
    assert_eq!(twin.optimizer_state(9).unwrap_err().argument, "index");
}

/// Narrow dense layers in a row hand each other columns instead of rows: predictions, losses
/// and trained parameters are bit for bit those of the same layers kept apart by identity
/// (linear activation) layers, which pass rows. Both shapes: softmax over 3 classes, and the
/// planar network's one sigmoid unit; 13 rows leave a partial vector in every column.
#[test]
fn narrow_layers_in_a_row_compute_as_when_kept_apart() {
    let cases = [
        (
            vec![
                (5, Activation::Tanh),
                (4, Activation::Relu),
                (3, Activation::Softmax),
            ],
            Loss::CategoricalCrossEntropy,
        ),
        (
            vec![(4, Activation::Tanh), (1, Activation::Sigmoid)],
            Loss::BinaryCrossEntropy,
        ),
    ];
    for (layers, loss) in cases {
        let (samples, inputs) = (13, 2);
        let mut rng = Rng::new(17);
        let mut linked = model(inputs, &layers, &mut rng);
        let mut apart = Model::new(&[inputs]).unwrap();
        for (l, &(units, activation)) in layers.iter().enumerate() {
            if l > 0 {
                let identity = LayerConfig::Activation {
                    activation: "linear".to_owned(),
                    alpha: 0.0,
                };
                apart.add_layer(&identity).unwrap();
            }
            apart.add_layer(&LayerConfig::dense(units, activation)).unwrap();
        }
        for (index, values) in parameters(&linked).iter().enumerate() {
            apart.set_parameter(index, values).unwrap();
        }
        let x = rng.uniform_vec(samples * inputs, -1.0, 1.0);
        let outputs = linked.outputs();
        let y: Vec<f32> = (0..samples * outputs)
            .map(|i| {
                f32::from(u8::from(if outputs == 1 {
                    i % 3 == 0
                } else {
                    i % outputs == (i / outputs) % outputs
                }))
            })
            .collect();
        let initial = parameters(&linked);
        let [linked_run, apart_run] = [&mut linked, &mut apart].map(|net| {
            let mut predictions = vec![0.0; samples * outputs];
            net.predict(&x, samples, &mut predictions).unwrap();
            let config = TrainingConfig::new(loss, Optimizer::Sgd { learning_rate: 0.5 });
            net.configure_training(config).unwrap();
            let run = train(net, (&x, &y, samples), &all_rows(samples), 5).unwrap();
            assert_eq!(run.outcome.batches, 3);
            assert!(run.losses.iter().all(|loss| loss.is_finite() && *loss > 0.0));
            (predictions, run.losses, parameters(net))
        });
        assert_eq!(linked_run.0, apart_run.0, "{layers:?}: predictions");
        assert_eq!(linked_run.1, apart_run.1, "{layers:?}: losses");
        assert_eq!(linked_run.2, apart_run.2, "{layers:?}: trained parameters");
        assert_ne!(linked_run.2, initial, "{layers:?}: training changed nothing");
    }
}

/// Trace: each dense layer's pre-activation is `x W^T + b` (checked in f64), its output the
/// activation of that, and the last output is predict's, bit for bit.
#[test]
fn trace_writes_each_layers_pre_activation_and_output() {
    let mut rng = Rng::new(5);
    let (rows, inputs) = (3, 2);
    let mut net = model(
        inputs,
        &[(4, Activation::Relu), (3, Activation::Softmax)],
        &mut rng,
    );
    let x = rng.uniform_vec(rows * inputs, -1.0, 1.0);
    let mut out = vec![f32::NAN; net.trace_len(rows).unwrap()];
    assert_eq!(out.len(), rows * 2 * (4 + 3));
    net.trace(&x, rows, &mut out).unwrap();
    let (w, b) = (
        net.parameter(0).unwrap().to_vec(),
        net.parameter(1).unwrap().to_vec(),
    );
    let (pre, hidden) = out[..2 * rows * 4].split_at(rows * 4);
    for r in 0..rows {
        for u in 0..4 {
            let z: f64 = (0..inputs)
                .map(|i| f64::from(x[r * inputs + i]) * f64::from(w[u * inputs + i]))
                .sum::<f64>()
                + f64::from(b[u]);
            assert!(
                (f64::from(pre[r * 4 + u]) - z).abs() < 1e-6,
                "pre-activation [{r}][{u}]"
            );
            assert_eq!(hidden[r * 4 + u], pre[r * 4 + u].max(0.0));
        }
    }
    let logits = &out[2 * rows * 4..2 * rows * 4 + rows * 3];
    let probabilities = &out[2 * rows * 4 + rows * 3..];
    assert!(
        logits.iter().any(|&v| !(0.0..=1.0).contains(&v)),
        "logits are not probabilities"
    );
    let mut predictions = vec![0.0; rows * 3];
    net.predict(&x, rows, &mut predictions).unwrap();
    assert_eq!(probabilities, &predictions[..]);
    let mut short = vec![0.0; out.len() - 1];
    assert_eq!(net.trace(&x, rows, &mut short).unwrap_err().argument, "out");
}

/// `gradients` computes what a training step's update consumes (the same dropout mask, batch
/// norm on the batch's statistics), then leaves every parameter, the moving statistics and
/// the model's generator as they were.
#[test]
fn gradients_are_a_training_steps_and_change_nothing() {
    let mut rng = Rng::new(9);
    let (rows, inputs) = (5, 3);
    let mut net = Model::new(&[inputs]).unwrap();
    net.add_layer(&LayerConfig::dense(4, Activation::Tanh)).unwrap();
    net.add_layer(&LayerConfig::BatchNorm {
        momentum: 0.9,
        epsilon: 1e-3,
    })
    .unwrap();
    net.add_layer(&LayerConfig::Dropout { rate: 0.4 }).unwrap();
    net.add_layer(&LayerConfig::dense(2, Activation::Sigmoid))
        .unwrap();
    for index in 0..net.parameter_count() {
        let values = rng.uniform_vec(net.parameter(index).unwrap().len(), 0.2, 0.9);
        net.set_parameter(index, &values).unwrap();
    }
    let x = rng.uniform_vec(rows * inputs, -1.0, 1.0);
    let y: Vec<f32> = (0..rows * 2).map(|i| f32::from(u8::from(i % 3 == 0))).collect();
    let state = [11, 22, 33, 44];
    net.set_random_state([1, 2, 3, 4]);
    let before = parameters(&net);
    let mut gradients = vec![0.0; net.gradient_len()];
    assert_eq!(gradients.len(), 3 * 4 + 4 + 4 + 4 + 4 * 2 + 2);
    let loss = net
        .gradients(Loss::BinaryCrossEntropy, &x, &y, rows, state, &mut gradients)
        .unwrap();
    assert!(loss.is_finite() && loss > 0.0);
    assert_eq!(parameters(&net), before);
    assert_eq!(net.random_state(), [1, 2, 3, 4]);
    net.set_random_state(state);
    net.configure_training(TrainingConfig::new(
        Loss::BinaryCrossEntropy,
        Optimizer::Sgd { learning_rate: 1.0 },
    ))
    .unwrap();
    let run = train(&mut net, (&x, &y, rows), &all_rows(rows), rows).unwrap();
    assert_eq!(run.losses[0], loss);
    let trained = [0, 1, 2, 3, 6, 7];
    let steps: Vec<f32> = trained
        .iter()
        .flat_map(|&i| {
            let after = net.parameter(i).unwrap().to_vec();
            before[i]
                .iter()
                .zip(after)
                .map(|(&b, a)| b - a)
                .collect::<Vec<_>>()
        })
        .collect();
    for (i, (&step, &gradient)) in steps.iter().zip(&gradients).enumerate() {
        assert!(
            (step - gradient).abs() <= 1e-6,
            "gradient {i}: step {step}, gradients() {gradient}"
        );
    }
    assert!(gradients.iter().all(|g| g.is_finite()) && gradients.iter().any(|&g| g.abs() > 1e-3));
    let error = net
        .gradients(Loss::BinaryCrossEntropy, &x, &y[1..], rows, state, &mut gradients)
        .unwrap_err();
    assert_eq!(error.argument, "y");
}

/// Class indices (one per sample) train, evaluate and give gradients exactly as their one-hot
/// rows do, shuffled batches included; an index that is not a class is an error, not a write
/// past the row.
#[test]
fn class_indices_are_one_hot_rows_batch_by_batch() {
    let mut rng = Rng::new(8);
    let (samples, inputs, classes) = (10, 3, 4);
    let x = rng.uniform_vec(samples * inputs, -1.0, 1.0);
    let labels: Vec<f32> = (0..samples).map(|i| ((i * 7) % classes) as f32).collect();
    let mut one_hot_rows = vec![0.0; samples * classes];
    for (i, &label) in labels.iter().enumerate() {
        one_hot_rows[i * classes + label as usize] = 1.0;
    }
    let loss = Loss::CategoricalCrossEntropy;
    let mut dense = model(
        inputs,
        &[(5, Activation::Tanh), (classes, Activation::Softmax)],
        &mut rng,
    );
    let mut indexed = model(
        inputs,
        &[(5, Activation::Tanh), (classes, Activation::Softmax)],
        &mut rng,
    );
    for i in 0..dense.parameter_count() {
        indexed.set_parameter(i, dense.parameter(i).unwrap()).unwrap();
    }
    let shuffled: Vec<u32> = vec![3, 9, 0, 4, 7, 1, 8, 2, 6, 5];
    for net in [&mut dense, &mut indexed] {
        net.configure_training(TrainingConfig::new(loss, Optimizer::Sgd { learning_rate: 0.5 }))
            .unwrap();
    }
    let by_rows = train(&mut dense, (&x, &one_hot_rows, samples), &shuffled, 4).unwrap();
    let by_index = train(&mut indexed, (&x, &labels, samples), &shuffled, 4).unwrap();
    assert_eq!(by_index.losses, by_rows.losses);
    assert_eq!(by_index.correct, by_rows.correct);
    assert_eq!(parameters(&indexed), parameters(&dense));

    let mut out = vec![0.0; samples * classes];
    let expected = dense
        .evaluate(loss, &x, &one_hot_rows, samples, &mut out)
        .unwrap();
    assert_eq!(
        indexed.evaluate(loss, &x, &labels, samples, &mut out).unwrap(),
        expected
    );
    let mut gradients = vec![0.0; dense.gradient_len()];
    let mut from_index = gradients.clone();
    let state = [1, 2, 3, 4];
    let value = dense
        .gradients(loss, &x, &one_hot_rows, samples, state, &mut gradients)
        .unwrap();
    assert_eq!(
        indexed
            .gradients(loss, &x, &labels, samples, state, &mut from_index)
            .unwrap(),
        value
    );
    assert_eq!(from_index, gradients);

    for bad in [4.0, -1.0, 1.5, f32::NAN] {
        let mut labels = labels.clone();
        labels[6] = bad;
        let error = indexed
            .evaluate(loss, &x, &labels, samples, &mut out)
            .unwrap_err();
        assert_eq!(error.argument, "y");
        assert!(
            error
                .reason
                .ends_with(&format!("whole numbers in [0, 3], got {bad} at y[6]")),
            "{error}"
        );
    }
    // Only categorical cross-entropy reads indices: other losses still want rows of outputs.
    let error = indexed
        .evaluate(Loss::MeanSquaredError, &x, &labels, samples, &mut out)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "y: expected length 40 (rows*outputs, or rows class indices), got 10"
    );
}

/// Training runs on a team (gemm/threads.rs) whose helpers take whole output tiles and
/// layer parts: any pool size gives the same losses and parameters, bit for bit, for an
/// MLP whose products are split and a convolution whose batch is cut into parts.
#[cfg(feature = "threads")]
#[test]
fn training_is_bit_identical_across_pool_sizes() {
    let mlp = || {
        model(
            300,
            &[(256, Activation::Relu), (10, Activation::Softmax)],
            &mut Rng::new(29),
        )
    };
    let cnn = || {
        let mut cnn = Model::new(&[28, 28, 8]).unwrap();
        let conv = LayerConfig::Conv2d {
            filters: 16,
            kernel_size: [3, 3],
            strides: [1, 1],
            padding: layers::Padding::Same,
            activation: "relu".to_owned(),
            alpha: 0.0,
            use_bias: true,
        };
        cnn.add_layer(&conv).unwrap();
        cnn.add_layer(&LayerConfig::Flatten {}).unwrap();
        cnn.add_layer(&LayerConfig::dense(10, Activation::Softmax))
            .unwrap();
        let mut rng = Rng::new(31);
        for index in 0..cnn.parameter_count() {
            let len = cnn.parameter(index).unwrap().len();
            cnn.set_parameter(index, &rng.uniform_vec(len, -0.1, 0.1))
                .unwrap();
        }
        cnn
    };
    let cases: [(&str, &dyn Fn() -> Model, usize, usize); 2] = [("mlp", &mlp, 256, 64), ("cnn", &cnn, 24, 8)];
    for (name, build, samples, batch_size) in cases {
        let inputs = build().inputs();
        let x = Rng::new(37).uniform_vec(samples * inputs, -1.0, 1.0);
        let y: Vec<f32> = (0..samples * 10)
            .map(|i| f32::from(u8::from(i % 10 == (i / 10) % 7)))
            .collect();
        let indices: Vec<u32> = (0..2).flat_map(|_| all_rows(samples)).collect();
        let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut net = build();
            let config = TrainingConfig::new(
                Loss::CategoricalCrossEntropy,
                Optimizer::Sgd { learning_rate: 0.1 },
            );
            net.configure_training(config).unwrap();
            let run = pool
                .install(|| train(&mut net, (&x, &y, samples), &indices, batch_size))
                .unwrap();
            assert_eq!(run.outcome.batches, indices.len() / batch_size, "{name}");
            let losses: Vec<u64> = run.losses.iter().map(|l| l.to_bits()).collect();
            (
                losses,
                parameters(&net).iter().map(|p| bits(p)).collect::<Vec<_>>(),
            )
        };
        let one = run(1);
        assert!(
            one.0.iter().all(|&l| f64::from_bits(l).is_finite()),
            "{name}: a loss is not finite"
        );
        let untrained: Vec<Vec<u32>> = parameters(&build()).iter().map(|p| bits(p)).collect();
        assert_ne!(untrained, one.1, "{name}: training changed nothing");
        for threads in [2, 3] {
            assert!(run(threads) == one, "{name}: {threads} threads differ from one");
        }
    }
}
