//! ferronet's kernels exported to JavaScript through wasm-bindgen.
//!
//! Data lives in this module's linear memory as [`Tensor`]s; JavaScript reads and writes
//! them through `Float32Array` views built from `pointer` and `length`, so a kernel call
//! copies nothing. Each export has the kernel's name in camelCase (`relu_backward` is
//! `reluBackward`). Length mismatches come back as a thrown `RangeError`; wasm-bindgen's
//! borrow flags turn a tensor passed both as input and output into a thrown `Error`.

use ferronet_kernels as kernels;
use ferronet_kernels::ShapeError;
use wasm_bindgen::prelude::*;

#[cfg(feature = "threads")]
mod threads;

/// A float32 buffer owned by the module.
#[wasm_bindgen]
pub struct Tensor {
    data: Vec<f32>,
}

#[wasm_bindgen]
impl Tensor {
    /// A zero-filled tensor of `length` floats; a `RangeError` when memory cannot hold it
    /// (an allocation failure would otherwise abort the module).
    #[wasm_bindgen(constructor)]
    pub fn new(length: usize) -> JsResult<Tensor> {
        let mut data = Vec::new();
        data.try_reserve_exact(length).map_err(|_| {
            JsValue::from(js_sys::RangeError::new(&format!(
                "length: cannot allocate {length} floats"
            )))
        })?;
        data.resize(length, 0.0);
        Ok(Tensor { data })
    }

    /// Number of floats.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.data.len()
    }

    /// Byte offset of the first float in the module's memory. It stays valid for the
    /// tensor's life (the buffer never moves), but a view built on it must be rebuilt when
    /// the memory grows.
    #[wasm_bindgen(getter)]
    pub fn pointer(&self) -> usize {
        self.data.as_ptr() as usize
    }
}

fn range_error(error: ShapeError) -> JsValue {
    js_sys::RangeError::new(&error.to_string()).into()
}

type JsResult<T> = Result<T, JsValue>;

#[wasm_bindgen]
#[allow(clippy::too_many_arguments)] // the BLAS contract
pub fn gemm(
    trans_a: bool,
    trans_b: bool,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &Tensor,
    b: &Tensor,
    beta: f32,
    c: &mut Tensor,
) -> JsResult<()> {
    kernels::gemm(
        trans_a,
        trans_b,
        m,
        n,
        k,
        alpha,
        &a.data,
        &b.data,
        beta,
        &mut c.data,
    )
    .map_err(range_error)
}

#[wasm_bindgen(js_name = biasAdd)]
pub fn bias_add(rows: usize, cols: usize, bias: &Tensor, x: &mut Tensor) -> JsResult<()> {
    kernels::bias_add(rows, cols, &bias.data, &mut x.data).map_err(range_error)
}

#[wasm_bindgen(js_name = columnSums)]
pub fn column_sums(rows: usize, cols: usize, x: &Tensor, sums: &mut Tensor) -> JsResult<()> {
    kernels::column_sums(rows, cols, &x.data, &mut sums.data).map_err(range_error)
}

/// Exports an elementwise activation pair `name_forward(x, y)` / `name_backward(y, dy, dx)`.
macro_rules! elementwise_activation {
    ($forward:ident, $forward_js:ident, $backward:ident, $backward_js:ident) => {
        #[wasm_bindgen(js_name = $forward_js)]
        pub fn $forward(x: &Tensor, y: &mut Tensor) -> JsResult<()> {
            kernels::$forward(&x.data, &mut y.data).map_err(range_error)
        }

        #[wasm_bindgen(js_name = $backward_js)]
        pub fn $backward(y: &Tensor, dy: &Tensor, dx: &mut Tensor) -> JsResult<()> {
            kernels::$backward(&y.data, &dy.data, &mut dx.data).map_err(range_error)
        }
    };
}

elementwise_activation!(linear_forward, linearForward, linear_backward, linearBackward);
elementwise_activation!(relu_forward, reluForward, relu_backward, reluBackward);
elementwise_activation!(tanh_forward, tanhForward, tanh_backward, tanhBackward);
elementwise_activation!(sigmoid_forward, sigmoidForward, sigmoid_backward, sigmoidBackward);

#[wasm_bindgen(js_name = leakyReluForward)]
pub fn leaky_relu_forward(alpha: f32, x: &Tensor, y: &mut Tensor) -> JsResult<()> {
    kernels::leaky_relu_forward(alpha, &x.data, &mut y.data).map_err(range_error)
}

#[wasm_bindgen(js_name = leakyReluBackward)]
pub fn leaky_relu_backward(alpha: f32, y: &Tensor, dy: &Tensor, dx: &mut Tensor) -> JsResult<()> {
    kernels::leaky_relu_backward(alpha, &y.data, &dy.data, &mut dx.data).map_err(range_error)
}

#[wasm_bindgen(js_name = softmaxForward)]
pub fn softmax_forward(rows: usize, cols: usize, x: &Tensor, y: &mut Tensor) -> JsResult<()> {
    kernels::softmax_forward(rows, cols, &x.data, &mut y.data).map_err(range_error)
}

#[wasm_bindgen(js_name = softmaxBackward)]
pub fn softmax_backward(rows: usize, cols: usize, y: &Tensor, dy: &Tensor, dx: &mut Tensor) -> JsResult<()> {
    kernels::softmax_backward(rows, cols, &y.data, &dy.data, &mut dx.data).map_err(range_error)
}

#[wasm_bindgen(js_name = meanSquaredError)]
pub fn mean_squared_error(predictions: &Tensor, targets: &Tensor, gradient: &mut Tensor) -> JsResult<f64> {
    kernels::mean_squared_error(&predictions.data, &targets.data, &mut gradient.data).map_err(range_error)
}

#[wasm_bindgen(js_name = binaryCrossEntropy)]
pub fn binary_cross_entropy(predictions: &Tensor, targets: &Tensor, gradient: &mut Tensor) -> JsResult<f64> {
    kernels::binary_cross_entropy(&predictions.data, &targets.data, &mut gradient.data).map_err(range_error)
}

#[wasm_bindgen(js_name = softmaxCrossEntropy)]
pub fn softmax_cross_entropy(
    rows: usize,
    cols: usize,
    predictions: &Tensor,
    targets: &Tensor,
    gradient: &mut Tensor,
) -> JsResult<f64> {
    kernels::softmax_cross_entropy(rows, cols, &predictions.data, &targets.data, &mut gradient.data)
        .map_err(range_error)
}

#[wasm_bindgen(js_name = sgdUpdate)]
pub fn sgd_update(learning_rate: f32, params: &mut Tensor, gradients: &Tensor) -> JsResult<()> {
    kernels::sgd_update(learning_rate, &mut params.data, &gradients.data).map_err(range_error)
}

#[wasm_bindgen(js_name = momentumUpdate)]
pub fn momentum_update(
    learning_rate: f32,
    momentum: f32,
    params: &mut Tensor,
    gradients: &Tensor,
    velocity: &mut Tensor,
) -> JsResult<()> {
    kernels::momentum_update(
        learning_rate,
        momentum,
        &mut params.data,
        &gradients.data,
        &mut velocity.data,
    )
    .map_err(range_error)
}

#[wasm_bindgen(js_name = adamUpdate)]
#[allow(clippy::too_many_arguments)] // Adam's hyperparameters plus its two moment buffers
pub fn adam_update(
    learning_rate: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    step: u32,
    params: &mut Tensor,
    gradients: &Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
) -> JsResult<()> {
    kernels::adam_update(
        learning_rate,
        beta1,
        beta2,
        epsilon,
        step,
        &mut params.data,
        &gradients.data,
        &mut m.data,
        &mut v.data,
    )
    .map_err(range_error)
}

#[wasm_bindgen(js_name = rmspropUpdate)]
pub fn rmsprop_update(
    learning_rate: f32,
    rho: f32,
    epsilon: f32,
    params: &mut Tensor,
    gradients: &Tensor,
    v: &mut Tensor,
) -> JsResult<()> {
    kernels::rmsprop_update(
        learning_rate,
        rho,
        epsilon,
        &mut params.data,
        &gradients.data,
        &mut v.data,
    )
    .map_err(range_error)
}

/// The index of a safetensors file as JSON ([`kernels::safetensors_index`]); a `RangeError`
/// saying why when the file is not one.
#[wasm_bindgen(js_name = safetensorsIndex)]
pub fn safetensors_index(file: &[u8]) -> JsResult<String> {
    kernels::safetensors_index(file).map_err(|error| js_sys::RangeError::new(&error.to_string()).into())
}

/// The instruction set the module was built for: `wasm-simd`, or `wasm-relaxed-simd` where
/// its multiply-adds are fused.
#[wasm_bindgen(js_name = instructionSet)]
pub fn instruction_set() -> String {
    kernels::instruction_set().to_owned()
}

fn model_error(error: kernels::ModelError) -> JsValue {
    js_sys::RangeError::new(&error.to_string()).into()
}

/// A training model (layers, parameters, optimizer state, scratch) owned by the module.
#[wasm_bindgen]
pub struct Model {
    inner: kernels::Model,
}

#[wasm_bindgen]
impl Model {
    /// An empty model taking samples of `input_shape` (`[features]` or `[h, w, c]`).
    #[wasm_bindgen(constructor)]
    pub fn new(input_shape: &[u32]) -> JsResult<Model> {
        let shape: Vec<usize> = input_shape.iter().map(|&extent| extent as usize).collect();
        let inner = kernels::Model::new(&shape).map_err(model_error)?;
        Ok(Model { inner })
    }

    /// Appends a layer given as the JSON of a resolved layer (ts/layers/types.ts).
    #[wasm_bindgen(js_name = addLayer)]
    pub fn add_layer(&mut self, config: &str) -> JsResult<()> {
        let config = kernels::LayerConfig::from_json(config).map_err(model_error)?;
        self.inner.add_layer(&config).map_err(model_error)
    }

    /// The dropout generator's state, four 32-bit words.
    #[wasm_bindgen(js_name = randomState)]
    pub fn random_state(&self) -> Vec<u32> {
        self.inner.random_state().to_vec()
    }

    /// Continues the dropout masks from `state` (four 32-bit words).
    #[wasm_bindgen(js_name = setRandomState)]
    pub fn set_random_state(&mut self, state: &[u32]) -> JsResult<()> {
        let words: [u32; 4] = state.try_into().map_err(|_| {
            JsValue::from(js_sys::RangeError::new(&format!(
                "state: expected 4 words, got {}",
                state.len()
            )))
        })?;
        self.inner.set_random_state(words);
        Ok(())
    }

    /// A copy of parameter buffer `index`, counting every layer's buffers in order.
    pub fn parameter(&self, index: usize) -> JsResult<Vec<f32>> {
        self.inner
            .parameter(index)
            .map(<[f32]>::to_vec)
            .map_err(model_error)
    }

    #[wasm_bindgen(js_name = setParameter)]
    pub fn set_parameter(&mut self, index: usize, values: &[f32]) -> JsResult<()> {
        self.inner.set_parameter(index, values).map_err(model_error)
    }

    /// Sets how the model trains from the JSON of its settings (`kernels::TrainingConfig`)
    /// and resets the optimizer state.
    #[wasm_bindgen(js_name = configureTraining)]
    pub fn configure_training(&mut self, config: &str) -> JsResult<()> {
        let config = kernels::TrainingConfig::from_json(config).map_err(model_error)?;
        self.inner.configure_training(config).map_err(model_error)
    }

    /// Changes the learning rate and keeps the optimizer state.
    #[wasm_bindgen(js_name = setLearningRate)]
    pub fn set_learning_rate(&mut self, rate: f32) -> JsResult<()> {
        self.inner.set_learning_rate(rate).map_err(model_error)
    }

    /// Updates applied since training was configured.
    #[wasm_bindgen(js_name = optimizerStep)]
    pub fn optimizer_step(&self) -> u32 {
        self.inner.optimizer_step()
    }

    #[wasm_bindgen(js_name = setOptimizerStep)]
    pub fn set_optimizer_step(&mut self, step: u32) -> JsResult<()> {
        self.inner.set_optimizer_step(step).map_err(model_error)
    }

    /// Number of optimizer state buffers.
    #[wasm_bindgen(js_name = optimizerStateCount)]
    pub fn optimizer_state_count(&self) -> usize {
        self.inner.optimizer_state_count()
    }

    /// A copy of optimizer state buffer `index`.
    #[wasm_bindgen(js_name = optimizerState)]
    pub fn optimizer_state(&self, index: usize) -> JsResult<Vec<f32>> {
        self.inner
            .optimizer_state(index)
            .map(<[f32]>::to_vec)
            .map_err(model_error)
    }

    #[wasm_bindgen(js_name = setOptimizerState)]
    pub fn set_optimizer_state(&mut self, index: usize, values: &[f32]) -> JsResult<()> {
        self.inner.set_optimizer_state(index, values).map_err(model_error)
    }

    pub fn predict(&mut self, x: &Tensor, rows: usize, out: &mut Tensor) -> JsResult<()> {
        self.inner
            .predict(&x.data, rows, &mut out.data)
            .map_err(model_error)
    }

    /// `[meanLoss, correct]` over `rows` samples; the predictions are written to `out`.
    pub fn evaluate(
        &mut self,
        loss: &str,
        x: &Tensor,
        y: &Tensor,
        rows: usize,
        out: &mut Tensor,
    ) -> JsResult<Vec<f64>> {
        let loss = kernels::Loss::from_name(loss).map_err(model_error)?;
        let evaluation = self
            .inner
            .evaluate(loss, &x.data, &y.data, rows, &mut out.data)
            .map_err(model_error)?;
        Ok(vec![evaluation.loss, evaluation.correct as f64])
    }

    /// Trains on the batches of `indices` that `batch_ends` delimits and records each batch's
    /// mean loss and correct count in `losses` and `correct`; returns
    /// `[batches applied, diverged (1 or 0)]`.
    #[wasm_bindgen(js_name = trainBatches)]
    #[allow(clippy::too_many_arguments)] // the data set, the batches and the two records
    pub fn train_batches(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        samples: usize,
        indices: &[u32],
        batch_ends: &[u32],
        losses: &mut [f64],
        correct: &mut [u32],
    ) -> JsResult<Vec<u32>> {
        let batches = kernels::Batches {
            indices,
            ends: batch_ends,
        };
        let records = kernels::BatchRecords { losses, correct };
        let outcome = self
            .inner
            .train_batches(&x.data, &y.data, samples, batches, records)
            .map_err(model_error)?;
        Ok(vec![
            u32::try_from(outcome.batches).unwrap_or(u32::MAX),
            u32::from(outcome.diverged),
        ])
    }

    /// Every layer's `[rows][outputs]` pre-activations then outputs for `rows` samples of `x`,
    /// in inference mode, written to `out` (see `kernels::Model::trace`).
    pub fn trace(&mut self, x: &Tensor, rows: usize, out: &mut Tensor) -> JsResult<()> {
        self.inner
            .trace(&x.data, rows, &mut out.data)
            .map_err(model_error)
    }

    /// One batch's loss gradients as a training step computes them, every trained buffer's in
    /// parameter order, written to `out` (copied in and back out); the dropout masks come from
    /// `random_state` (four words) and nothing in the model changes. Returns the batch's mean
    /// loss (see `kernels::Model::gradients`).
    pub fn gradients(
        &mut self,
        loss: &str,
        x: &Tensor,
        y: &Tensor,
        rows: usize,
        random_state: &[u32],
        out: &mut [f32],
    ) -> JsResult<f64> {
        let loss = kernels::Loss::from_name(loss).map_err(model_error)?;
        let words: [u32; 4] = random_state.try_into().map_err(|_| {
            JsValue::from(js_sys::RangeError::new(&format!(
                "randomState: expected 4 words, got {}",
                random_state.len()
            )))
        })?;
        self.inner
            .gradients(loss, &x.data, &y.data, rows, words, out)
            .map_err(model_error)
    }
}
