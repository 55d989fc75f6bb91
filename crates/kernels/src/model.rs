//! A network that trains itself: a sequence of layers (crate::layers) run forward, a loss,
//! backpropagation through every layer and an optimizer update of every trained buffer, for a
//! whole run of minibatches per call, so a training loop crosses the JavaScript boundary once
//! per group of batches. Parameters, gradients, optimizer state, the dropout generator and
//! scratch buffers live here between calls and are never reallocated once a batch size has
//! been seen.
//!
//! Layout: activations are `[rows][features...]` row-major (images NHWC), except that two
//! narrow dense layers in a row pass columns `[features][rows]` between them (see
//! `Layer::link_columns`); each layer's parameter buffers are in the order docs/layers.md gives.

use crate::buffer::{grow, product, zeroed, MAX_BUFFER_FLOATS};
use crate::error::{check_len, check_rows, checked_area, ShapeError};
use crate::gemm::threads::{for_each_part, with_team};
use crate::isa::multiversion;
use crate::layers::{self, Backward, ColumnLink, Layer, LayerConfig, Mode, Param};
use crate::random::Xoshiro128;
use crate::{Loss, Optimizer};
use serde::Deserialize;
use std::fmt;
use std::slice::ChunksMut;

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

    pub(crate) fn new(argument: &'static str, reason: impl Into<String>) -> Self {
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

/// How a model trains: the TypeScript Trainer's settings, sent as JSON
/// (`{ "loss": ..., "optimizer": { "name": ... }, "weightDecay": ..., "clipNorm": ... }`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrainingConfig {
    pub loss: Loss,
    pub optimizer: Optimizer,
    /// Decays dense and conv2d weights only, never biases or batch norm: added to the gradient
    /// (`g + weight_decay * p`, coupled) or, for AdamW, applied to the parameter first
    /// (`p * (1 - learning_rate * weight_decay)`), as PyTorch's optimizers do.
    #[serde(default)]
    pub weight_decay: f32,
    /// Scales every gradient of a batch by `min(1, clip_norm / (norm + 1e-6))`, `norm` the L2
    /// norm over all of them, as `torch.nn.utils.clip_grad_norm_`, before weight decay.
    #[serde(default)]
    pub clip_norm: Option<f32>,
}

impl TrainingConfig {
    /// `loss` and `optimizer` without weight decay or clipping.
    pub fn new(loss: Loss, optimizer: Optimizer) -> TrainingConfig {
        TrainingConfig {
            loss,
            optimizer,
            weight_decay: 0.0,
            clip_norm: None,
        }
    }

    /// Parses the JSON the bindings receive.
    pub fn from_json(json: &str) -> Result<TrainingConfig, ModelError> {
        serde_json::from_str(json)
            .map_err(|error| ModelError::new("training", format!("not a training configuration: {error}")))
    }
}

#[derive(Clone, Copy)]
struct Training {
    config: TrainingConfig,
    /// Updates applied since training was configured (Adam's bias correction counts them).
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
    match outputs {
        0 => 0,
        1 => count_same_side(predictions, targets),
        _ => {
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
                .filter(|(p, t)| argmax(p) == argmax(t))
                .count()
        }
    }
}

multiversion! {
    /// Pairs on the same side of 0.5: a sum of 0s and 1s rather than a filtered count, so that
    /// it vectorizes, in u32 lanes over blocks short enough that they cannot overflow.
    fn count_same_side(predictions: &[f32], targets: &[f32]) -> usize {
        let blocks = predictions.chunks(1 << 20).zip(targets.chunks(1 << 20));
        blocks
            .map(|(p, t)| {
                let agree = p.iter().zip(t).map(|(&p, &t)| u32::from((p >= 0.5) == (t >= 0.5)));
                agree.sum::<u32>() as usize
            })
            .sum()
    }
}

/// The most rows one inference pass holds, and the most floats (16 MiB) any one layer buffer
/// of a pass may take: `predict` and `evaluate` over a large data set go in chunks, so their
/// scratch memory is that of one chunk. Convolutions' patches set the bound for CNNs.
const INFERENCE_CHUNK_ROWS: usize = 1024;
const INFERENCE_CHUNK_FLOATS: usize = 1 << 22;

/// A sequence of layers with its training state.
pub struct Model {
    input_shape: Vec<usize>,
    inputs: usize,
    layers: Vec<Box<dyn Layer>>,
    /// Each layer's outputs for the current batch, `[rows][output_len]` (or its transpose, when
    /// the layer is linked to the next by columns).
    outputs: Vec<Vec<f32>>,
    /// The loss gradient with respect to each layer's outputs.
    gradients: Vec<Vec<f32>>,
    training: Option<Training>,
    /// Draws the dropout masks of training batches.
    random: Xoshiro128,
    batch_x: Vec<f32>,
    batch_y: Vec<f32>,
    /// One batch's class-index targets as one-hot rows (see [`Model::target_width`]).
    batch_classes: Vec<f32>,
    /// Every parameter as it was when `train_batches` began, restored if training diverges;
    /// sized by `configure_training`.
    checkpoint: Vec<f32>,
}

impl Model {
    /// An empty model taking samples of `input_shape` (`[features]` or `[h, w, c]`).
    pub fn new(input_shape: &[usize]) -> Result<Model, ModelError> {
        if input_shape.is_empty() || input_shape.contains(&0) {
            return Err(ModelError::new(
                "inputShape",
                format!("expected extents of at least 1, got {input_shape:?}"),
            ));
        }
        Ok(Model {
            input_shape: input_shape.to_vec(),
            inputs: product("inputShape", input_shape)?,
            layers: Vec::new(),
            outputs: Vec::new(),
            gradients: Vec::new(),
            training: None,
            random: Xoshiro128::default(),
            batch_x: Vec::new(),
            batch_y: Vec::new(),
            batch_classes: Vec::new(),
            checkpoint: Vec::new(),
        })
    }

    /// Appends a layer taking the previous layer's outputs; its parameters start at zero.
    pub fn add_layer(&mut self, config: &LayerConfig) -> Result<(), ModelError> {
        let input_shape = self
            .layers
            .last()
            .map_or(&self.input_shape[..], |layer| layer.output_shape());
        let mut layer = layers::build(config, input_shape)?;
        let per_sample = product("layer", layer.output_shape())?;
        if per_sample > MAX_BUFFER_FLOATS {
            return Err(ModelError::new(
                "layer",
                format!("one sample's outputs would take {per_sample} floats, over the limit of {MAX_BUFFER_FLOATS}"),
            ));
        }
        // Two narrow layers in a row pass their activations on as columns, untransposed (an
        // elementwise activation computes the same on them either way).
        if let Some(previous) = self.layers.last_mut() {
            let linked = previous.computes_in_columns() && layer.computes_in_columns();
            if linked && previous.activation().is_elementwise() {
                previous.link_columns(ColumnLink::Output);
                layer.link_columns(ColumnLink::Input);
            }
        }
        self.layers.push(layer);
        self.outputs.push(Vec::new());
        self.gradients.push(Vec::new());
        self.training = None;
        Ok(())
    }

    fn output_layer(&self) -> Result<&dyn Layer, ModelError> {
        self.layers
            .last()
            .map(|layer| layer.as_ref())
            .ok_or_else(|| ModelError::new("layers", "the model has no layers"))
    }

    /// Floats per input sample.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Floats per output sample (the last layer's).
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(self.inputs, |layer| layer.output_len())
    }

    pub(crate) fn params(&self) -> impl Iterator<Item = &Param> {
        self.layers.iter().flat_map(|layer| layer.params())
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut Param> {
        self.layers.iter_mut().flat_map(|layer| layer.params_mut())
    }

    /// Number of parameter buffers, every layer's in order.
    pub fn parameter_count(&self) -> usize {
        self.params().count()
    }

    /// Parameter buffer `index`, counting every layer's buffers in order (docs/layers.md).
    pub fn parameter(&self, index: usize) -> Result<&[f32], ModelError> {
        let count = self.parameter_count();
        self.params()
            .nth(index)
            .map(|param| &param.values[..])
            .ok_or_else(|| parameter_index_error(index, count))
    }

    /// Overwrites parameter buffer `index` (see [`Model::parameter`]).
    pub fn set_parameter(&mut self, index: usize, values: &[f32]) -> Result<(), ModelError> {
        let count = self.parameter_count();
        let param = self
            .params_mut()
            .nth(index)
            .ok_or_else(|| parameter_index_error(index, count))?;
        check_len("values", "the parameter's length", values, param.values.len())?;
        param.values.copy_from_slice(values);
        Ok(())
    }

    /// The dropout generator's state (xoshiro128**'s four words).
    pub fn random_state(&self) -> [u32; 4] {
        self.random.state()
    }

    /// Continues the dropout masks from `state` (what the TypeScript Trainer's generator holds).
    pub fn set_random_state(&mut self, state: [u32; 4]) {
        self.random = Xoshiro128::from_state(state);
    }

    /// Checks that `loss` fits the output layer: the cross-entropies are fused with their
    /// activation, so they need exactly that activation.
    fn check_loss(&self, loss: Loss) -> Result<(), ModelError> {
        let activation = self.output_layer()?.activation();
        let required = match loss {
            Loss::BinaryCrossEntropy => Some(("binaryCrossEntropy", crate::Activation::Sigmoid, "sigmoid")),
            Loss::CategoricalCrossEntropy => {
                Some(("categoricalCrossEntropy", crate::Activation::Softmax, "softmax"))
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

    /// Sets how the model trains and resets the optimizer's state and step count.
    pub fn configure_training(&mut self, config: TrainingConfig) -> Result<(), ModelError> {
        let TrainingConfig { loss, optimizer, .. } = config;
        self.check_loss(loss)?;
        let mut floats = 0;
        for param in self.params_mut() {
            let buffers = if param.trained {
                optimizer.state_buffers()
            } else {
                0
            };
            param.state = (0..buffers)
                .map(|_| zeroed("optimizer", param.values.len()))
                .collect::<Result<_, _>>()?;
            floats += param.values.len();
        }
        self.checkpoint = zeroed("optimizer", floats)?;
        self.training = Some(Training { config, step: 0 });
        Ok(())
    }

    fn training_mut(&mut self) -> Result<&mut Training, ModelError> {
        self.training
            .as_mut()
            .ok_or_else(|| ModelError::new("training", "call configure_training first"))
    }

    /// Changes the learning rate (a schedule's next epoch) and keeps the optimizer's state.
    pub fn set_learning_rate(&mut self, rate: f32) -> Result<(), ModelError> {
        let training = self.training_mut()?;
        training.config.optimizer = training.config.optimizer.with_learning_rate(rate);
        Ok(())
    }

    /// Updates applied since training was configured.
    pub fn optimizer_step(&self) -> u32 {
        self.training.map_or(0, |training| training.step)
    }

    /// Continues counting updates from `step` (a resumed checkpoint).
    pub fn set_optimizer_step(&mut self, step: u32) -> Result<(), ModelError> {
        self.training_mut()?.step = step;
        Ok(())
    }

    fn optimizer_buffers(&self) -> impl Iterator<Item = &Vec<f32>> {
        self.params().flat_map(|param| &param.state)
    }

    /// Number of optimizer state buffers: each trained parameter buffer's, in order.
    pub fn optimizer_state_count(&self) -> usize {
        self.optimizer_buffers().count()
    }

    /// Optimizer state buffer `index` (a trained buffer's velocity, or Adam's m then v).
    pub fn optimizer_state(&self, index: usize) -> Result<&[f32], ModelError> {
        let count = self.optimizer_state_count();
        self.optimizer_buffers()
            .nth(index)
            .map(|buffer| &buffer[..])
            .ok_or_else(|| parameter_index_error(index, count))
    }

    /// Overwrites optimizer state buffer `index` (see [`Model::optimizer_state`]).
    pub fn set_optimizer_state(&mut self, index: usize, values: &[f32]) -> Result<(), ModelError> {
        let count = self.optimizer_state_count();
        let buffer = self
            .params_mut()
            .flat_map(|param| &mut param.state)
            .nth(index)
            .ok_or_else(|| parameter_index_error(index, count))?;
        check_len("values", "the state buffer's length", values, buffer.len())?;
        buffer.copy_from_slice(values);
        Ok(())
    }

    fn check_inputs(&self, x: &[f32], rows: usize) -> Result<(), ModelError> {
        self.output_layer()?;
        check_rows("x", "rows*inputs", x, rows, self.inputs)?;
        Ok(())
    }

    /// Floats per sample of the targets `y` for `rows` samples: the outputs, or 1 where `y`
    /// holds class indices (one per sample, for categorical cross-entropy over two or more
    /// classes), which each batch expands into one-hot rows of its own ([`one_hot`]), so a data
    /// set of many classes never exists as one-hot rows.
    fn target_width(&self, loss: Loss, y: &[f32], rows: usize) -> Result<usize, ModelError> {
        let outputs = self.output_layer()?.output_len();
        if loss == Loss::CategoricalCrossEntropy && outputs > 1 && y.len() == rows {
            return Ok(1);
        }
        check_len(
            "y",
            "rows*outputs, or rows class indices",
            y,
            checked_area("y", "rows*outputs", rows, outputs)?,
        )?;
        Ok(outputs)
    }

    /// Rows per inference chunk: up to [`INFERENCE_CHUNK_ROWS`], fewer when a layer's
    /// buffers would pass [`INFERENCE_CHUNK_FLOATS`].
    fn inference_chunk_rows(&self) -> usize {
        let widest = self
            .layers
            .iter()
            .map(|layer| layer.output_len().max(layer.scratch_per_sample()))
            .max()
            .unwrap_or(1)
            .max(1);
        (INFERENCE_CHUNK_FLOATS / widest).clamp(1, INFERENCE_CHUNK_ROWS)
    }

    /// Runs the network forward in inference mode on `rows` samples of `x`, writing
    /// `[rows][outputs]` to `out`.
    pub fn predict(&mut self, x: &[f32], rows: usize, out: &mut [f32]) -> Result<(), ModelError> {
        self.check_inputs(x, rows)?;
        let (inputs, outputs) = (self.inputs, self.outputs());
        check_len("out", "rows*outputs", out, rows * outputs)?;
        let chunk = self.inference_chunk_rows();
        for (chunk_x, chunk_out) in x.chunks(chunk * inputs).zip(out.chunks_mut(chunk * outputs)) {
            let chunk_rows = chunk_x.len() / inputs;
            let Model {
                layers,
                outputs: buffers,
                ..
            } = self;
            forward(layers, buffers, chunk_x, chunk_rows, &mut Mode::Inference)?;
            chunk_out.copy_from_slice(&buffers[buffers.len() - 1][..chunk_out.len()]);
        }
        Ok(())
    }

    /// The mean `loss` over `rows` samples and the number classified correctly, with the
    /// predictions (inference mode) written to `out`.
    pub fn evaluate(
        &mut self,
        loss: Loss,
        x: &[f32],
        y: &[f32],
        rows: usize,
        out: &mut [f32],
    ) -> Result<Evaluation, ModelError> {
        self.check_loss(loss)?;
        self.check_inputs(x, rows)?;
        let width = self.target_width(loss, y, rows)?;
        self.predict(x, rows, out)?;
        if rows == 0 {
            return Ok(Evaluation {
                loss: 0.0,
                correct: 0,
            });
        }
        // The loss kernels write a gradient too; a chunk-sized scratch block takes it.
        let outputs = self.outputs();
        let chunk = self.inference_chunk_rows();
        let mut total = 0.0;
        let mut gradient = zeroed("rows", chunk.min(rows) * outputs)?;
        let mut classes = Vec::new();
        let mut correct = 0;
        for (chunk_out, chunk_y) in out.chunks(chunk * outputs).zip(y.chunks(chunk * width)) {
            let chunk_rows = chunk_out.len() / outputs;
            let chunk_y = if width < outputs {
                one_hot(chunk_y, outputs, &mut classes)?
            } else {
                chunk_y
            };
            let scratch = &mut gradient[..chunk_out.len()];
            total += loss.evaluate(chunk_rows, outputs, chunk_out, chunk_y, scratch)? * chunk_rows as f64;
            correct += count_correct(outputs, chunk_out, chunk_y);
        }
        Ok(Evaluation {
            loss: total / rows as f64,
            correct,
        })
    }

    /// Trains on `samples` rows of `x` (inputs) and `y` (targets): per batch of `batches`,
    /// one forward pass in training mode, the loss, one backward pass through every layer and
    /// one optimizer update of every trained buffer; records each batch in `records` (whose
    /// buffers hold one entry per batch).
    ///
    /// Stops at the first batch whose loss is not finite and restores the parameters (moving
    /// statistics included) to their values when the call began; a call that ends with a
    /// non-finite parameter (an update can overflow while its own loss was finite) is rolled
    /// back the same way. So every call starts from finite parameters, and copying them once
    /// per call (not per batch) keeps that guarantee cheap; callers choose how many batches a
    /// call covers.
    pub fn train_batches(
        &mut self,
        x: &[f32],
        y: &[f32],
        samples: usize,
        batches: Batches<'_>,
        records: BatchRecords<'_>,
    ) -> Result<TrainOutcome, ModelError> {
        // Batch after batch of products: keep the pool's threads spinning between them,
        // unless the batches are too small for any product to be split (a team would only
        // cost its start on every call and a core spinning for nothing).
        let largest_batch = batches
            .ends
            .iter()
            .scan(0, |start, &end| {
                Some(end.saturating_sub(std::mem::replace(start, end)))
            })
            .max()
            .unwrap_or(0);
        if (largest_batch as usize).saturating_mul(self.gradient_len()) < TEAM_MIN_WORK {
            return self.run_batches(x, y, samples, batches, records);
        }
        with_team(|| self.run_batches(x, y, samples, batches, records))
    }

    fn run_batches(
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
        self.check_inputs(x, samples)?;
        let width = self.target_width(training.config.loss, y, samples)?;
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
            outputs: buffers,
            gradients,
            random,
            batch_x,
            batch_y,
            batch_classes,
            checkpoint,
            ..
        } = self;
        save_parameters(layers, checkpoint);
        let mut start = 0;
        for (b, &end) in batches.ends.iter().enumerate() {
            let batch = &batches.indices[start..end as usize];
            start = end as usize;
            let rows = batch.len();
            let (bx, by) = gather(x, y, samples, inputs, width, batch, batch_x, batch_y)?;
            let by = if width < outputs {
                one_hot(by, outputs, batch_classes)?
            } else {
                by
            };
            forward(layers, buffers, bx, rows, &mut Mode::Training(random))?;

            let last = layers.len() - 1;
            let n = rows * outputs;
            grow("rows", &mut gradients[last], n)?;
            let predictions = &buffers[last][..n];
            let loss =
                training
                    .config
                    .loss
                    .evaluate(rows, outputs, predictions, by, &mut gradients[last][..n])?;
            records.losses[b] = loss;
            if !loss.is_finite() {
                outcome.diverged = true;
                break;
            }
            records.correct[b] = u32::try_from(count_correct(outputs, predictions, by)).unwrap_or(u32::MAX);
            backward(
                layers,
                buffers,
                gradients,
                bx,
                rows,
                training.config.loss.is_fused_with_activation(),
            )?;
            training.step = training.step.saturating_add(1);
            update(layers, training.config, training.step)?;
            outcome.batches += 1;
        }
        outcome.diverged |= !parameters_are_finite(layers);
        if outcome.diverged {
            restore_parameters(layers, checkpoint);
        }
        self.training = Some(training);
        Ok(outcome)
    }

    /// Floats [`Model::trace`] writes for `rows` samples: twice every layer's outputs.
    pub fn trace_len(&self, rows: usize) -> Result<usize, ModelError> {
        let per_sample = self
            .layers
            .iter()
            .try_fold(0usize, |sum, layer| sum.checked_add(layer.output_len()))
            .and_then(|sum| sum.checked_mul(2))
            .ok_or_else(|| ModelError::new("layers", "the layers' outputs overflow a length"))?;
        Ok(checked_area("rows", "rows*trace", rows, per_sample)?)
    }

    /// Runs the network forward in inference mode on `rows` samples of `x` and writes, layer
    /// by layer, its `[rows][output_len]` pre-activations then its `[rows][output_len]`
    /// outputs to `out` (of [`Model::trace_len`] floats). A pre-activation is what the layer
    /// computes before its activation (dense and conv2d `x W^T + b`, an activation layer its
    /// input); kinds without an activation write their output twice. The outputs are those of
    /// [`Model::predict`], bit for bit.
    pub fn trace(&mut self, x: &[f32], rows: usize, out: &mut [f32]) -> Result<(), ModelError> {
        self.check_inputs(x, rows)?;
        check_len("out", "rows*trace", out, self.trace_len(rows)?)?;
        let inputs = self.inputs;
        let chunk = self.inference_chunk_rows();
        let lens: Vec<usize> = self.layers.iter().map(|layer| layer.output_len()).collect();
        let Model {
            layers,
            outputs,
            gradients: pre_activations,
            ..
        } = self;
        for (c, chunk_x) in x.chunks(chunk * inputs).enumerate() {
            let chunk_rows = chunk_x.len() / inputs;
            trace_forward(layers, outputs, pre_activations, chunk_x, chunk_rows)?;
            let mut base = 0;
            for (l, &len) in lens.iter().enumerate() {
                let (start, n) = (c * chunk * len, chunk_rows * len);
                out[base + start..base + start + n].copy_from_slice(&pre_activations[l][..n]);
                let outputs_base = base + rows * len;
                out[outputs_base + start..outputs_base + start + n].copy_from_slice(&outputs[l][..n]);
                base += 2 * rows * len;
            }
        }
        Ok(())
    }

    /// Floats [`Model::gradients`] writes: every trained parameter buffer's length.
    pub fn gradient_len(&self) -> usize {
        self.params()
            .filter(|param| param.trained)
            .map(|param| param.values.len())
            .sum()
    }

    /// One batch's loss gradients as a training step computes them before its update: a
    /// training-mode forward pass of `rows` samples of `x` (dropout masks drawn from a
    /// generator in `random_state`, batch norm normalizing with the batch's statistics), the
    /// mean `loss` against `y`, and backpropagation. Writes every trained buffer's gradient of
    /// that mean loss, in parameter order, to `out` (of [`Model::gradient_len`] floats):
    /// neither clipped nor with weight decay, which belong to the update. Returns the loss.
    ///
    /// Nothing observable changes: the parameters (the moving statistics the forward pass
    /// moved are put back), the model's own dropout generator and the optimizer state are as
    /// they were, on success and on error.
    #[allow(clippy::too_many_arguments)] // the batch, the loss, the generator and the output
    pub fn gradients(
        &mut self,
        loss: Loss,
        x: &[f32],
        y: &[f32],
        rows: usize,
        random_state: [u32; 4],
        out: &mut [f32],
    ) -> Result<f64, ModelError> {
        self.check_loss(loss)?;
        self.check_inputs(x, rows)?;
        let width = self.target_width(loss, y, rows)?;
        if rows == 0 {
            return Err(ModelError::new("rows", "expected at least 1 sample, got 0"));
        }
        check_len("out", "the trained parameters' length", out, self.gradient_len())?;
        let moving: Vec<f32> = self
            .params()
            .filter(|param| !param.trained)
            .flat_map(|param| param.values.iter().copied())
            .collect();
        let own_random = self.random;
        self.random = Xoshiro128::from_state(random_state);
        let (outputs, mut classes) = (self.outputs(), Vec::new());
        let result = if width < outputs {
            one_hot(y, outputs, &mut classes).and_then(|y| self.gradient_pass(loss, x, y, rows))
        } else {
            self.gradient_pass(loss, x, y, rows)
        };
        self.random = own_random;
        let mut rest = &moving[..];
        for param in self.params_mut().filter(|param| !param.trained) {
            let (values, tail) = rest.split_at(param.values.len());
            param.values.copy_from_slice(values);
            rest = tail;
        }
        let value = result?;
        let mut rest = out;
        for param in self.params().filter(|param| param.trained) {
            let (target, tail) = rest.split_at_mut(param.gradient.len());
            target.copy_from_slice(&param.gradient);
            rest = tail;
        }
        Ok(value)
    }

    /// A training step's forward pass, loss and backward pass on one batch, without the update.
    fn gradient_pass(&mut self, loss: Loss, x: &[f32], y: &[f32], rows: usize) -> Result<f64, ModelError> {
        let outputs = self.outputs();
        let Model {
            layers,
            outputs: buffers,
            gradients,
            random,
            ..
        } = self;
        forward(layers, buffers, x, rows, &mut Mode::Training(random))?;
        let last = layers.len() - 1;
        let n = rows * outputs;
        grow("rows", &mut gradients[last], n)?;
        let value = loss.evaluate(rows, outputs, &buffers[last][..n], y, &mut gradients[last][..n])?;
        backward(
            layers,
            buffers,
            gradients,
            x,
            rows,
            loss.is_fused_with_activation(),
        )?;
        Ok(value)
    }
}

/// One optimizer step over every trained buffer, once all the batch's gradients are known:
/// clipping (over all of them), then weight decay (kernels only), then the update.
fn update(layers: &mut [Box<dyn Layer>], config: TrainingConfig, step: u32) -> Result<(), ModelError> {
    let trained = || {
        layers
            .iter()
            .flat_map(|layer| layer.params())
            .filter(|param| param.trained)
    };
    if let Some(clip_norm) = config.clip_norm {
        let squares: f64 = trained()
            .flat_map(|param| &param.gradient)
            .map(|&g| f64::from(g) * f64::from(g))
            .sum();
        let scale = f64::from(clip_norm) / (squares.sqrt() + 1e-6);
        if scale < 1.0 {
            let scale = scale as f32;
            for param in layers.iter_mut().flat_map(|layer| layer.params_mut()) {
                param.gradient.iter_mut().for_each(|g| *g *= scale);
            }
        }
    }
    let decay = config.weight_decay;
    let decoupled = matches!(config.optimizer, Optimizer::AdamW { .. });
    let shrink = 1.0 - config.optimizer.learning_rate() * decay;
    for param in layers.iter_mut().flat_map(|layer| layer.params_mut()) {
        let Param {
            values,
            gradient,
            state,
            trained: true,
            decays,
        } = param
        else {
            continue;
        };
        let decays = *decays && decay != 0.0;
        // Every element on its own, so parts of a buffer may go to different threads (a
        // lone thread's serial stretch in each step otherwise) and give the same bits. The
        // parts' state slices live in arrays: a step allocates nothing.
        let state_count = state.len();
        if state_count > Optimizer::MAX_STATE_BUFFERS {
            return Err(ModelError::new(
                "state",
                format!(
                    "expected at most {} optimizer state buffers, got {state_count}",
                    Optimizer::MAX_STATE_BUFFERS
                ),
            ));
        }
        let mut state_parts: [Option<ChunksMut<'_, f32>>; Optimizer::MAX_STATE_BUFFERS] =
            std::array::from_fn(|_| None);
        for (slot, buffer) in state_parts.iter_mut().zip(state.iter_mut()) {
            *slot = Some(buffer.chunks_mut(UPDATE_PART));
        }
        let parts = values
            .chunks_mut(UPDATE_PART)
            .zip(gradient.chunks_mut(UPDATE_PART))
            .map(|(values, gradient)| {
                let mut state: [&mut [f32]; Optimizer::MAX_STATE_BUFFERS] = Default::default();
                for (slot, chunks) in state.iter_mut().zip(&mut state_parts) {
                    if let Some(part) = chunks.as_mut().and_then(Iterator::next) {
                        *slot = part;
                    }
                }
                (values, gradient, state)
            });
        for_each_part(parts, |(values, gradient, mut state)| {
            if decays {
                if decoupled {
                    values.iter_mut().for_each(|p| *p *= shrink);
                } else {
                    let pairs = gradient.iter_mut().zip(&*values);
                    pairs.for_each(|(g, &p)| *g += decay * p);
                }
            }
            let state = &mut state[..state_count];
            Ok::<(), ModelError>(config.optimizer.update(step, values, gradient, state)?)
        })?;
    }
    Ok(())
}

/// Below this many multiply-adds per batch in the forward pass (about rows x trained parameters),
/// training runs without a team: 2^20 is a quarter of the smallest product that is split
/// (`gemm/threads.rs`), and the planar network's 400 x 17 is far below.
const TEAM_MIN_WORK: usize = 1 << 20;

/// Floats of a parameter buffer per part of an update: 128 KiB of each of its buffers.
const UPDATE_PART: usize = 1 << 15;

fn parameter_index_error(index: usize, count: usize) -> ModelError {
    ModelError::new(
        "index",
        format!("expected a parameter index below {count}, got {index}"),
    )
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

/// Class indices (one per row) as one-hot rows of `classes` floats, written to `out`. An index
/// that is not a whole number below `classes` is an error: it would address past its row.
fn one_hot<'a>(indices: &[f32], classes: usize, out: &'a mut Vec<f32>) -> Result<&'a [f32], ModelError> {
    let length = checked_area("y", "rows*outputs", indices.len(), classes)?;
    out.clear();
    out.resize(length, 0.0);
    for (row, &index) in indices.iter().enumerate() {
        if !(index >= 0.0 && index.fract() == 0.0 && (index as usize) < classes) {
            return Err(ModelError::new(
                "y",
                format!(
                    "expected class indices, whole numbers in [0, {}], got {index} at y[{row}]",
                    classes - 1
                ),
            ));
        }
        out[row * classes + index as usize] = 1.0;
    }
    Ok(out)
}

/// The rows of one batch: borrowed straight from `x` and `y` when the indices are one
/// contiguous run (no shuffling), else gathered into the model's batch buffers.
#[allow(clippy::too_many_arguments)] // the data set, its shape, the batch and two scratch buffers
fn gather<'a>(
    x: &'a [f32],
    y: &'a [f32],
    samples: usize,
    inputs: usize,
    target_width: usize,
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
    let first = batch.first().copied().unwrap_or(0);
    // Every index checked without stopping early, so that the comparisons vectorize.
    let contiguous = (0u32..)
        .zip(batch)
        .fold(true, |all, (i, &index)| all & (index == first.wrapping_add(i)));
    let first = first as usize;
    if contiguous {
        let end = first + batch.len();
        if end > samples {
            return Err(out_of_range(batch[batch.len() - 1]));
        }
        return Ok((
            &x[first * inputs..end * inputs],
            &y[first * target_width..end * target_width],
        ));
    }
    if let Some(&index) = batch.iter().find(|&&index| index as usize >= samples) {
        return Err(out_of_range(index));
    }
    let rows = batch.len();
    grow(
        "rows",
        batch_x,
        checked_area("rows", "rows*inputs", rows, inputs)?,
    )?;
    grow(
        "rows",
        batch_y,
        checked_area("rows", "rows*targets", rows, target_width)?,
    )?;
    let (batch_x, batch_y) = (&mut batch_x[..rows * inputs], &mut batch_y[..rows * target_width]);
    // Rows picked from all over the data set wait on memory: parts of the batch, gathered
    // by the team's threads at once, wait together.
    let parts = batch
        .chunks(GATHER_PART_ROWS)
        .zip(batch_x.chunks_mut(GATHER_PART_ROWS * inputs))
        .zip(batch_y.chunks_mut(GATHER_PART_ROWS * target_width));
    for_each_part(parts, |((indices, x_rows), y_rows)| {
        let rows = x_rows
            .chunks_exact_mut(inputs)
            .zip(y_rows.chunks_exact_mut(target_width));
        for (k, (&index, (x_row, y_row))) in indices.iter().zip(rows).enumerate() {
            if let Some(&ahead) = indices.get(k + 4) {
                let ahead = ahead as usize;
                crate::buffer::prefetch(&x[ahead * inputs..(ahead + 1) * inputs]);
            }
            let i = index as usize;
            x_row.copy_from_slice(&x[i * inputs..(i + 1) * inputs]);
            y_row.copy_from_slice(&y[i * target_width..(i + 1) * target_width]);
        }
        Ok::<(), ModelError>(())
    })?;
    Ok((batch_x, batch_y))
}

/// Rows per part of a gathered batch: 32 rows of 784 floats are 100 KB.
const GATHER_PART_ROWS: usize = 32;

fn save_parameters(layers: &[Box<dyn Layer>], checkpoint: &mut [f32]) {
    let mut rest = checkpoint;
    for param in layers.iter().flat_map(|layer| layer.params()) {
        let (target, tail) = rest.split_at_mut(param.values.len());
        target.copy_from_slice(&param.values);
        rest = tail;
    }
}

fn parameters_are_finite(layers: &[Box<dyn Layer>]) -> bool {
    layers
        .iter()
        .flat_map(|layer| layer.params())
        .all(|param| param.values.iter().all(|v| v.is_finite()))
}

fn restore_parameters(layers: &mut [Box<dyn Layer>], checkpoint: &[f32]) {
    let mut rest = checkpoint;
    for param in layers.iter_mut().flat_map(|layer| layer.params_mut()) {
        let (values, tail) = rest.split_at(param.values.len());
        param.values.copy_from_slice(values);
        rest = tail;
    }
}

/// Forward pass of `rows` samples: each layer's buffer in `outputs` ends up holding its
/// outputs, `[rows][output_len]`.
fn forward(
    layers: &mut [Box<dyn Layer>],
    outputs: &mut [Vec<f32>],
    input: &[f32],
    rows: usize,
    mode: &mut Mode<'_>,
) -> Result<(), ModelError> {
    through_layers(layers, outputs, input, rows, |_, layer, x, out| {
        layer.forward(x, rows, out, mode)
    })
}

/// [`forward`] in inference mode through each layer's [`Layer::trace`], which also writes
/// its pre-activation to its buffer in `pre_activations`.
fn trace_forward(
    layers: &mut [Box<dyn Layer>],
    outputs: &mut [Vec<f32>],
    pre_activations: &mut [Vec<f32>],
    input: &[f32],
    rows: usize,
) -> Result<(), ModelError> {
    through_layers(layers, outputs, input, rows, |l, layer, x, out| {
        grow("rows", &mut pre_activations[l], out.len())?;
        layer.trace(x, rows, &mut pre_activations[l][..out.len()], out)
    })
}

/// Runs the layers in order on `rows` samples: `pass(l, layer, x, out)` computes layer `l`'s
/// outputs `out` (its buffer in `outputs`, grown to `[rows][output_len]`) from `x`, the
/// previous layer's outputs (`input` for the first).
fn through_layers(
    layers: &mut [Box<dyn Layer>],
    outputs: &mut [Vec<f32>],
    input: &[f32],
    rows: usize,
    mut pass: impl FnMut(usize, &mut dyn Layer, &[f32], &mut [f32]) -> Result<(), ModelError>,
) -> Result<(), ModelError> {
    let mut input_len = input.len();
    for (l, layer) in layers.iter_mut().enumerate() {
        let (before, rest) = outputs.split_at_mut(l);
        let n = checked_area("rows", "rows*outputs", rows, layer.output_len())?;
        grow("rows", &mut rest[0], n)?;
        let x = before.last().map_or(input, |previous| &previous[..input_len]);
        pass(l, layer.as_mut(), x, &mut rest[0][..n])?;
        input_len = n;
    }
    Ok(())
}

/// Backpropagation from the loss gradient in the last layer's `gradients` buffer: each layer,
/// last to first, writes its parameters' gradients and the gradient with respect to its input
/// (the previous layer's output), except the first layer, whose input is the data.
fn backward(
    layers: &mut [Box<dyn Layer>],
    outputs: &[Vec<f32>],
    gradients: &mut [Vec<f32>],
    input: &[f32],
    rows: usize,
    loss_is_fused: bool,
) -> Result<(), ModelError> {
    let last = layers.len() - 1;
    for l in (0..layers.len()).rev() {
        let n = rows * layers[l].output_len();
        let input_len = if l == 0 {
            input.len()
        } else {
            rows * layers[l - 1].output_len()
        };
        let (gradients_before, gradients_rest) = gradients.split_at_mut(l);
        let input_gradient = match gradients_before.last_mut() {
            Some(gradient) => {
                grow("rows", gradient, input_len)?;
                Some(&mut gradient[..input_len])
            }
            None => None,
        };
        let x = if l == 0 {
            input
        } else {
            &outputs[l - 1][..input_len]
        };
        let absorbs = |layer: usize| {
            layer > 0 && layers[layer].absorbs_input_activation(layers[layer - 1].activation())
        };
        let input_activation = absorbs(l).then(|| layers[l - 1].activation());
        layers[l].backward(Backward {
            input: x,
            output: &outputs[l][..n],
            rows,
            output_gradient: &mut gradients_rest[0][..n],
            input_gradient,
            output_is_pre_activation: (loss_is_fused && l == last) || (l < last && absorbs(l + 1)),
            input_activation,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
