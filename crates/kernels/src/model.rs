//! A multilayer perceptron that trains itself: forward pass, loss, backpropagation and
//! optimizer update for a whole run of minibatches per call, so a training loop crosses the
//! JavaScript boundary once per group of batches. Parameters, gradients, optimizer state and
//! scratch buffers live here between calls and are never reallocated once a batch size has
//! been seen.
//!
//! Layout: weights are `[units][inputs]` row-major (like a PyTorch `Linear`), activations are
//! `[rows][features]`.

use crate::error::{check_len, checked_area, ShapeError};
use crate::{column_sums, gemm, Activation, Loss, Optimizer};
use std::fmt;

/// An argument the model cannot accept: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    pub argument: &'static str,
    pub reason: String,
}

impl ModelError {
    pub(crate) fn unknown_name(argument: &'static str, names: &str, got: &str) -> Self {
        ModelError::new(argument, format!("expected one of {names}, got '{got}'"))
    }

    fn new(argument: &'static str, reason: impl Into<String>) -> Self {
        ModelError {
            argument,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.argument, self.reason)
    }
}

impl std::error::Error for ModelError {}

impl From<ShapeError> for ModelError {
    fn from(error: ShapeError) -> Self {
        let full = error.to_string();
        let reason = full.split_once(": ").map_or(full.as_str(), |(_, reason)| reason);
        ModelError::new(error.argument, reason)
    }
}

/// A run of minibatches: `indices` lists sample rows in visiting order and batch `b` is
/// `indices[ends[b - 1]..ends[b]]` (from 0 for the first). Explicit ends let one run span
/// several epochs, whose last batches may be smaller than the rest.
#[derive(Clone, Copy, Debug)]
pub struct Batches<'a> {
    pub indices: &'a [u32],
    pub ends: &'a [u32],
}

/// Where a run of batches records each batch: its mean loss (from the forward pass before
/// its update) and how many of its samples were classified correctly (see [`count_correct`]).
#[derive(Debug)]
pub struct BatchRecords<'a> {
    pub losses: &'a mut [f64],
    pub correct: &'a mut [u32],
}

/// What a run of training batches did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainOutcome {
    /// Batches whose update was applied; their records are written.
    pub batches: usize,
    /// Training diverged: batch `batches`'s loss was not finite (training stopped there and
    /// its loss is recorded), or the updates left a parameter that is not finite. Either way
    /// the parameters were restored to their values when the call began; the optimizer state
    /// was not, so configure training again before going on.
    pub diverged: bool,
}

struct Layer {
    inputs: usize,
    units: usize,
    activation: Activation,
    weights: Vec<f32>,
    bias: Vec<f32>,
    weight_gradient: Vec<f32>,
    bias_gradient: Vec<f32>,
    weight_state: Vec<Vec<f32>>,
    bias_state: Vec<Vec<f32>>,
    /// Activations of the current batch, `[rows][units]`.
    outputs: Vec<f32>,
    /// Gradient of the loss with respect to this layer's pre-activation, `[rows][units]`.
    delta: Vec<f32>,
}

/// The most floats one model buffer may hold (1 GiB). Sizes come from user input, and on an
/// overcommitting OS an allocation that "succeeds" can still get the process killed when it
/// is filled, so absurd sizes are refused before any allocation. ferronet is for small and
/// medium networks; the TypeScript layer enforces the same limit with a friendlier message.
pub(crate) const MAX_BUFFER_FLOATS: usize = 1 << 28;

/// A zero-filled buffer, or an error naming `argument` when it is over [`MAX_BUFFER_FLOATS`]
/// or the allocator cannot provide it (a failed allocation would abort the host process).
fn zeroed(argument: &'static str, len: usize) -> Result<Vec<f32>, ModelError> {
    let mut buffer = Vec::new();
    grow(argument, &mut buffer, len)?;
    Ok(buffer)
}

/// Grows `buffer` with zeros to `len` floats, failing (not aborting) when memory runs out.
fn grow(argument: &'static str, buffer: &mut Vec<f32>, len: usize) -> Result<(), ModelError> {
    if len > MAX_BUFFER_FLOATS {
        return Err(ModelError::new(
            argument,
            format!("a buffer of {len} floats is over the limit of {MAX_BUFFER_FLOATS}"),
        ));
    }
    if buffer.len() < len {
        buffer
            .try_reserve_exact(len - buffer.len())
            .map_err(|_| ModelError::new(argument, format!("cannot allocate {len} floats")))?;
        buffer.resize(len, 0.0);
    }
    Ok(())
}

impl Layer {
    /// Makes room for a batch of `rows` activations and deltas.
    fn ensure_rows(&mut self, rows: usize) -> Result<(), ModelError> {
        let needed = checked_area("rows", "rows*units", rows, self.units)?;
        grow("rows", &mut self.outputs, needed)?;
        grow("rows", &mut self.delta, needed)
    }
}

#[derive(Clone, Copy)]
struct Training {
    loss: Loss,
    optimizer: Optimizer,
    step: u32,
}

/// A mean loss and how many samples were classified correctly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub correct: usize,
}

/// Counts the rows whose prediction matches the target: with one output, both on the same
/// side of 0.5 (binary classification); with several, the same argmax (one-hot classes).
pub fn count_correct(outputs: usize, predictions: &[f32], targets: &[f32]) -> usize {
    if outputs == 0 {
        return 0;
    }
    let argmax = |row: &[f32]| {
        row.iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |best, (i, &v)| if v > best.1 { (i, v) } else { best },
            )
            .0
    };
    predictions
        .chunks_exact(outputs)
        .zip(targets.chunks_exact(outputs))
        .filter(|(p, t)| {
            if outputs == 1 {
                (p[0] >= 0.5) == (t[0] >= 0.5)
            } else {
                argmax(p) == argmax(t)
            }
        })
        .count()
}

/// Rows per forward pass in `predict` and `evaluate`, so that inference over a large data
/// set needs scratch memory for one chunk only.
const INFERENCE_CHUNK_ROWS: usize = 1024;

/// A stack of dense layers with its training state.
pub struct Model {
    inputs: usize,
    layers: Vec<Layer>,
    training: Option<Training>,
    batch_x: Vec<f32>,
    batch_y: Vec<f32>,
    /// Every parameter as it was when `train_batches` began, restored if training diverges;
    /// sized by `configure_training`.
    checkpoint: Vec<f32>,
}

impl Model {
    /// An empty model taking `inputs` features per sample.
    pub fn new(inputs: usize) -> Result<Model, ModelError> {
        if inputs == 0 {
            return Err(ModelError::new(
                "inputs",
                "expected at least 1 input feature, got 0",
            ));
        }
        Ok(Model {
            inputs,
            layers: Vec::new(),
            training: None,
            batch_x: Vec::new(),
            batch_y: Vec::new(),
            checkpoint: Vec::new(),
        })
    }

    /// Appends a dense layer of `units` outputs with zero weights and biases.
    pub fn add_layer(&mut self, units: usize, activation: Activation) -> Result<(), ModelError> {
        if units == 0 {
            return Err(ModelError::new("units", "expected at least 1 unit, got 0"));
        }
        let inputs = self.outputs_or_inputs();
        let size = checked_area("units", "units*inputs", units, inputs)?;
        self.layers.push(Layer {
            inputs,
            units,
            activation,
            weights: zeroed("units", size)?,
            bias: zeroed("units", units)?,
            weight_gradient: zeroed("units", size)?,
            bias_gradient: zeroed("units", units)?,
            weight_state: Vec::new(),
            bias_state: Vec::new(),
            outputs: Vec::new(),
            delta: Vec::new(),
        });
        self.training = None;
        Ok(())
    }

    fn outputs_or_inputs(&self) -> usize {
        self.layers.last().map_or(self.inputs, |layer| layer.units)
    }

    fn output_layer(&self) -> Result<&Layer, ModelError> {
        self.layers
            .last()
            .ok_or_else(|| ModelError::new("layers", "the model has no layers"))
    }

    /// Features per sample.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Outputs per sample (the last layer's units).
    pub fn outputs(&self) -> usize {
        self.outputs_or_inputs()
    }

    /// Number of parameter buffers: a weight matrix and a bias vector per layer.
    pub fn parameter_count(&self) -> usize {
        2 * self.layers.len()
    }

    /// Parameter buffer `index`: layer `index / 2`'s weights (even) or bias (odd).
    pub fn parameter(&self, index: usize) -> Result<&[f32], ModelError> {
        let layer = self
            .layers
            .get(index / 2)
            .ok_or_else(|| self.parameter_index_error(index))?;
        Ok(if index.is_multiple_of(2) {
            &layer.weights
        } else {
            &layer.bias
        })
    }

    /// Overwrites parameter buffer `index` (see [`Model::parameter`]).
    pub fn set_parameter(&mut self, index: usize, values: &[f32]) -> Result<(), ModelError> {
        let error = self.parameter_index_error(index);
        let layer = self.layers.get_mut(index / 2).ok_or(error)?;
        let (target, rule) = if index.is_multiple_of(2) {
            (&mut layer.weights, "units*inputs")
        } else {
            (&mut layer.bias, "units")
        };
        check_len("values", rule, values, target.len())?;
        target.copy_from_slice(values);
        Ok(())
    }

    fn parameter_index_error(&self, index: usize) -> ModelError {
        ModelError::new(
            "index",
            format!(
                "expected a parameter index below {}, got {index}",
                self.parameter_count()
            ),
        )
    }

    /// Checks that `loss` fits the output layer: the cross-entropies are fused with their
    /// activation, so they need exactly that activation.
    fn check_loss(&self, loss: Loss) -> Result<(), ModelError> {
        let activation = self.output_layer()?.activation;
        let required = match loss {
            Loss::BinaryCrossEntropy => Some(("binaryCrossEntropy", Activation::Sigmoid, "sigmoid")),
            Loss::CategoricalCrossEntropy => {
                Some(("categoricalCrossEntropy", Activation::Softmax, "softmax"))
            }
            Loss::MeanSquaredError => None,
        };
        match required {
            Some((name, needed, needed_name)) if activation != needed => Err(ModelError::new(
                "loss",
                format!("{name} needs a {needed_name} output layer, got {activation:?}"),
            )),
            _ => Ok(()),
        }
    }

    /// Sets the loss and optimizer and resets the optimizer's state and step count.
    pub fn configure_training(&mut self, loss: Loss, optimizer: Optimizer) -> Result<(), ModelError> {
        self.check_loss(loss)?;
        let mut parameters = 0;
        for layer in &mut self.layers {
            let buffers = optimizer.state_buffers();
            layer.weight_state = (0..buffers)
                .map(|_| zeroed("optimizer", layer.weights.len()))
                .collect::<Result<_, _>>()?;
            layer.bias_state = (0..buffers)
                .map(|_| zeroed("optimizer", layer.bias.len()))
                .collect::<Result<_, _>>()?;
            parameters += layer.weights.len() + layer.bias.len();
        }
        self.checkpoint = zeroed("optimizer", parameters)?;
        self.training = Some(Training {
            loss,
            optimizer,
            step: 0,
        });
        Ok(())
    }

    fn check_data(&self, x: &[f32], y: Option<&[f32]>, rows: usize) -> Result<(), ModelError> {
        let outputs = self.output_layer()?.units;
        check_len(
            "x",
            "rows*inputs",
            x,
            checked_area("x", "rows*inputs", rows, self.inputs)?,
        )?;
        if let Some(y) = y {
            check_len(
                "y",
                "rows*outputs",
                y,
                checked_area("y", "rows*outputs", rows, outputs)?,
            )?;
        }
        Ok(())
    }

    /// Runs the network forward on `rows` samples of `x`, writing `[rows][outputs]` to `out`.
    pub fn predict(&mut self, x: &[f32], rows: usize, out: &mut [f32]) -> Result<(), ModelError> {
        self.check_data(x, None, rows)?;
        let outputs = self.outputs();
        check_len("out", "rows*outputs", out, rows * outputs)?;
        for (chunk_x, chunk_out) in x
            .chunks(INFERENCE_CHUNK_ROWS * self.inputs)
            .zip(out.chunks_mut(INFERENCE_CHUNK_ROWS * outputs))
        {
            let chunk_rows = chunk_x.len() / self.inputs;
            forward(&mut self.layers, chunk_x, chunk_rows)?;
            chunk_out.copy_from_slice(&self.output_layer()?.outputs[..chunk_out.len()]);
        }
        Ok(())
    }

    /// The mean `loss` over `rows` samples and the number classified correctly, with the
    /// predictions written to `out`.
    pub fn evaluate(
        &mut self,
        loss: Loss,
        x: &[f32],
        y: &[f32],
        rows: usize,
        out: &mut [f32],
    ) -> Result<Evaluation, ModelError> {
        self.check_loss(loss)?;
        self.check_data(x, Some(y), rows)?;
        self.predict(x, rows, out)?;
        if rows == 0 {
            return Ok(Evaluation {
                loss: 0.0,
                correct: 0,
            });
        }
        // The loss kernels write a gradient too; the scratch row block is as good a place as any.
        let outputs = self.outputs();
        let mut total = 0.0;
        let mut gradient = zeroed("rows", INFERENCE_CHUNK_ROWS.min(rows) * outputs)?;
        for (chunk_out, chunk_y) in out
            .chunks(INFERENCE_CHUNK_ROWS * outputs)
            .zip(y.chunks(INFERENCE_CHUNK_ROWS * outputs))
        {
            let chunk_rows = chunk_out.len() / outputs;
            let scratch = &mut gradient[..chunk_out.len()];
            total += loss.evaluate(chunk_rows, outputs, chunk_out, chunk_y, scratch)? * chunk_rows as f64;
        }
        Ok(Evaluation {
            loss: total / rows as f64,
            correct: count_correct(outputs, out, y),
        })
    }

    /// Trains on `samples` rows of `x` (inputs) and `y` (targets), one forward pass, one
    /// backward pass and one optimizer update per batch of `batches`, and records each batch
    /// in `records` (whose buffers hold one entry per batch).
    ///
    /// Stops at the first batch whose loss is not finite and restores the parameters to their
    /// values when the call began; a call that ends with a non-finite parameter (an update can
    /// overflow while its own loss was finite) is rolled back the same way. So every call
    /// starts from finite parameters, and copying them once per call (not per batch) keeps
    /// that guarantee cheap; callers choose how many batches a call covers.
    pub fn train_batches(
        &mut self,
        x: &[f32],
        y: &[f32],
        samples: usize,
        batches: Batches<'_>,
        records: BatchRecords<'_>,
    ) -> Result<TrainOutcome, ModelError> {
        let mut training = self
            .training
            .ok_or_else(|| ModelError::new("training", "call configure_training before train_batches"))?;
        self.check_data(x, Some(y), samples)?;
        check_batch_ends(batches)?;
        check_len("losses", "one per batch", records.losses, batches.ends.len())?;
        check_len("correct", "one per batch", records.correct, batches.ends.len())?;
        let (inputs, outputs) = (self.inputs, self.outputs());
        let mut outcome = TrainOutcome {
            batches: 0,
            diverged: false,
        };
        let Model {
            layers,
            batch_x,
            batch_y,
            checkpoint,
            ..
        } = self;
        save_parameters(layers, checkpoint);
        let mut start = 0;
        for (b, &end) in batches.ends.iter().enumerate() {
            let batch = &batches.indices[start..end as usize];
            start = end as usize;
            let rows = batch.len();
            let (bx, by) = gather(x, y, samples, inputs, outputs, batch, batch_x, batch_y)?;
            forward(layers, bx, rows)?;

            let Some(output_layer) = layers.last_mut() else {
                return Err(ModelError::new("layers", "the model has no layers"));
            };
            let n = rows * outputs;
            let loss = training.loss.evaluate(
                rows,
                outputs,
                &output_layer.outputs[..n],
                by,
                &mut output_layer.delta[..n],
            )?;
            records.losses[b] = loss;
            if !loss.is_finite() {
                outcome.diverged = true;
                break;
            }
            let correct = count_correct(outputs, &output_layer.outputs[..n], by);
            records.correct[b] = u32::try_from(correct).unwrap_or(u32::MAX);
            if !training.loss.is_fused_with_activation() {
                let Layer {
                    activation,
                    outputs: out,
                    delta,
                    ..
                } = output_layer;
                activation.backward_in_place(outputs, &out[..n], &mut delta[..n]);
            }
            training.step = training.step.saturating_add(1);
            backward_and_update(layers, bx, rows, training.optimizer, training.step)?;
            outcome.batches += 1;
        }
        outcome.diverged |= !parameters_are_finite(layers);
        if outcome.diverged {
            restore_parameters(layers, checkpoint);
        }
        self.training = Some(training);
        Ok(outcome)
    }
}

/// Batch ends must rise strictly (no empty batch) and finish exactly at the last index.
fn check_batch_ends(batches: Batches<'_>) -> Result<(), ModelError> {
    let total = batches.indices.len();
    let mut previous = 0usize;
    for (b, &end) in batches.ends.iter().enumerate() {
        let end = end as usize;
        if end <= previous || end > total {
            return Err(ModelError::new(
                "batchEnds",
                format!("expected rising offsets within the {total} indices, got {end} for batch {b}"),
            ));
        }
        previous = end;
    }
    if previous != total {
        return Err(ModelError::new(
            "batchEnds",
            format!("expected the last batch to end at {total}, the number of indices, got {previous}"),
        ));
    }
    Ok(())
}

fn save_parameters(layers: &[Layer], checkpoint: &mut [f32]) {
    let mut rest = checkpoint;
    for layer in layers {
        for source in [&layer.weights, &layer.bias] {
            let (target, tail) = rest.split_at_mut(source.len());
            target.copy_from_slice(source);
            rest = tail;
        }
    }
}

fn parameters_are_finite(layers: &[Layer]) -> bool {
    layers
        .iter()
        .all(|layer| layer.weights.iter().chain(&layer.bias).all(|v| v.is_finite()))
}

fn restore_parameters(layers: &mut [Layer], checkpoint: &[f32]) {
    let mut rest = checkpoint;
    for layer in layers {
        for target in [&mut layer.weights, &mut layer.bias] {
            let (values, tail) = rest.split_at(target.len());
            target.copy_from_slice(values);
            rest = tail;
        }
    }
}

/// The rows of one batch: borrowed straight from `x` and `y` when the indices are one
/// contiguous run (no shuffling), else gathered into the model's batch buffers.
#[allow(clippy::too_many_arguments)] // the data set, its shape, the batch and two scratch buffers
fn gather<'a>(
    x: &'a [f32],
    y: &'a [f32],
    samples: usize,
    inputs: usize,
    outputs: usize,
    batch: &[u32],
    batch_x: &'a mut Vec<f32>,
    batch_y: &'a mut Vec<f32>,
) -> Result<(&'a [f32], &'a [f32]), ModelError> {
    let out_of_range = |index: u32| {
        ModelError::new(
            "indices",
            format!("expected sample indices below {samples}, got {index}"),
        )
    };
    let first = batch.first().copied().unwrap_or(0) as usize;
    let contiguous = batch.windows(2).all(|pair| pair[1] == pair[0].wrapping_add(1));
    if contiguous {
        let end = first + batch.len();
        if end > samples {
            return Err(out_of_range(batch[batch.len() - 1]));
        }
        return Ok((
            &x[first * inputs..end * inputs],
            &y[first * outputs..end * outputs],
        ));
    }
    batch_x.clear();
    batch_y.clear();
    for &index in batch {
        let i = index as usize;
        if i >= samples {
            return Err(out_of_range(index));
        }
        batch_x.extend_from_slice(&x[i * inputs..(i + 1) * inputs]);
        batch_y.extend_from_slice(&y[i * outputs..(i + 1) * outputs]);
    }
    Ok((batch_x, batch_y))
}

/// Forward pass of `rows` samples: each layer's `outputs` ends up holding its activations.
fn forward(layers: &mut [Layer], input: &[f32], rows: usize) -> Result<(), ModelError> {
    for l in 0..layers.len() {
        let (before, rest) = layers.split_at_mut(l);
        let layer = &mut rest[0];
        let x = before
            .last()
            .map_or(input, |prev| &prev.outputs[..rows * prev.units]);
        layer.ensure_rows(rows)?;
        let z = &mut layer.outputs[..rows * layer.units];
        gemm(
            false,
            true,
            rows,
            layer.units,
            layer.inputs,
            1.0,
            x,
            &layer.weights,
            0.0,
            z,
        )?;
        layer
            .activation
            .forward_with_bias_in_place(layer.units, &layer.bias, z);
    }
    Ok(())
}

/// Backpropagation from the output layer's `delta`, updating each layer's parameters once its
/// gradient (and the delta it passes down, which needs the old weights) has been computed.
fn backward_and_update(
    layers: &mut [Layer],
    input: &[f32],
    rows: usize,
    optimizer: Optimizer,
    step: u32,
) -> Result<(), ShapeError> {
    for l in (0..layers.len()).rev() {
        let (before, rest) = layers.split_at_mut(l);
        let layer = &mut rest[0];
        let n = rows * layer.units;
        let delta = &layer.delta[..n];
        let x = before
            .last()
            .map_or(input, |prev| &prev.outputs[..rows * prev.units]);
        // dW = delta^T x and db = column sums of delta (delta already carries the 1/rows).
        gemm(
            true,
            false,
            layer.units,
            layer.inputs,
            rows,
            1.0,
            delta,
            x,
            0.0,
            &mut layer.weight_gradient,
        )?;
        column_sums(rows, layer.units, delta, &mut layer.bias_gradient)?;
        if let Some(prev) = before.last_mut() {
            let m = rows * prev.units;
            let prev_delta = &mut prev.delta[..m];
            gemm(
                false,
                false,
                rows,
                prev.units,
                layer.units,
                1.0,
                delta,
                &layer.weights,
                0.0,
                prev_delta,
            )?;
            prev.activation
                .backward_in_place(prev.units, &prev.outputs[..m], prev_delta);
        }
        optimizer.update(
            step,
            &mut layer.weights,
            &layer.weight_gradient,
            &mut layer.weight_state,
        )?;
        optimizer.update(step, &mut layer.bias, &layer.bias_gradient, &mut layer.bias_state)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
