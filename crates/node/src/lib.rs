//! ferronet's kernels exported to Node.js through napi-rs.
//!
//! Float32Array arguments are read and written in place (napi hands over the array's own
//! memory, subarrays included), so a kernel call copies nothing. Each export has the
//! kernel's name in camelCase (`relu_backward` is `reluBackward`). Every export is
//! `catch_unwind`, so even an unexpected panic reaches JavaScript as a thrown error.

use ferronet_kernels as kernels;
use ferronet_kernels::ShapeError;
use napi::bindgen_prelude::{
    Float32Array, Float32ArraySlice, Float64ArraySlice, Uint32Array, Uint32ArraySlice,
};
use napi::{Error, Result, Status};
use napi_derive::napi;

fn shape_error(error: ShapeError) -> Error {
    Error::new(Status::InvalidArg, error.to_string())
}

/// The bytes an argument's typed array occupies, named for error messages.
struct Span<'a> {
    name: &'a str,
    start: usize,
    len: usize,
}

fn span<'a, T>(name: &'a str, values: &[T]) -> Span<'a> {
    Span {
        name,
        start: values.as_ptr() as usize,
        len: std::mem::size_of_val(values),
    }
}

impl Span<'_> {
    fn overlaps(&self, other: &Span) -> bool {
        self.len > 0
            && other.len > 0
            && self.start < other.start + other.len
            && other.start < self.start + self.len
    }
}

/// JavaScript may pass one buffer (or two views of one buffer, of any element types) as both
/// an input and an output; Rust must never hold a `&mut` that aliases another reference, so
/// such calls are refused before any output is borrowed mutably.
fn ensure_disjoint(outputs: &[Span], inputs: &[Span]) -> Result<()> {
    for (i, out) in outputs.iter().enumerate() {
        let mut others = outputs[i + 1..].iter().chain(inputs);
        if let Some(other) = others.find(|other| out.overlaps(other)) {
            return Err(Error::new(
                Status::InvalidArg,
                format!("{}: must not share memory with {}", out.name, other.name),
            ));
        }
    }
    Ok(())
}

/// The mutable slice behind an output argument.
///
/// # Safety
/// Call only after `ensure_disjoint` has cleared `array` against every other argument of
/// the same call; the call is synchronous, so JavaScript cannot touch the array meanwhile.
unsafe fn writable<'a>(array: &'a mut Float32ArraySlice) -> &'a mut [f32] {
    unsafe { array.as_mut() }
}

#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)] // the BLAS contract
pub fn gemm(
    trans_a: bool,
    trans_b: bool,
    m: u32,
    n: u32,
    k: u32,
    alpha: f64,
    a: &[f32],
    b: &[f32],
    beta: f64,
    mut c: Float32ArraySlice,
) -> Result<()> {
    ensure_disjoint(&[span("c", &c)], &[span("a", a), span("b", b)])?;
    // SAFETY: c was checked against a and b above.
    let c = unsafe { writable(&mut c) };
    let (m, n, k) = (m as usize, n as usize, k as usize);
    kernels::gemm(trans_a, trans_b, m, n, k, alpha as f32, a, b, beta as f32, c).map_err(shape_error)
}

/// The instruction set the kernels chose for this CPU (`avx512`, `avx2`, `neon`, `scalar`).
#[napi]
pub fn instruction_set() -> &'static str {
    kernels::instruction_set()
}

/// Threads the kernels split large products over: rayon's global pool, as wide as the machine
/// unless `RAYON_NUM_THREADS` says otherwise.
#[napi]
pub fn threads() -> u32 {
    u32::try_from(rayon::current_num_threads()).unwrap_or(u32::MAX)
}

/// The index of a safetensors file as JSON ([`kernels::safetensors_index`]), read in place;
/// an error saying why when the file is not one.
#[napi(catch_unwind)]
pub fn safetensors_index(file: &[u8]) -> Result<String> {
    kernels::safetensors_index(file).map_err(|error| Error::new(Status::InvalidArg, error.to_string()))
}

#[napi(catch_unwind)]
pub fn bias_add(rows: u32, cols: u32, bias: &[f32], mut x: Float32ArraySlice) -> Result<()> {
    ensure_disjoint(&[span("x", &x)], &[span("bias", bias)])?;
    // SAFETY: x was checked against bias above.
    let x = unsafe { writable(&mut x) };
    kernels::bias_add(rows as usize, cols as usize, bias, x).map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn column_sums(rows: u32, cols: u32, x: &[f32], mut sums: Float32ArraySlice) -> Result<()> {
    ensure_disjoint(&[span("sums", &sums)], &[span("x", x)])?;
    // SAFETY: sums was checked against x above.
    let sums = unsafe { writable(&mut sums) };
    kernels::column_sums(rows as usize, cols as usize, x, sums).map_err(shape_error)
}

/// Exports an elementwise activation pair `name_forward(x, y)` / `name_backward(y, dy, dx)`.
macro_rules! elementwise_activation {
    ($forward:ident, $backward:ident) => {
        #[napi(catch_unwind)]
        pub fn $forward(x: &[f32], mut y: Float32ArraySlice) -> Result<()> {
            ensure_disjoint(&[span("y", &y)], &[span("x", x)])?;
            // SAFETY: y was checked against x above.
            kernels::$forward(x, unsafe { writable(&mut y) }).map_err(shape_error)
        }

        #[napi(catch_unwind)]
        pub fn $backward(y: &[f32], dy: &[f32], mut dx: Float32ArraySlice) -> Result<()> {
            ensure_disjoint(&[span("dx", &dx)], &[span("y", y), span("dy", dy)])?;
            // SAFETY: dx was checked against y and dy above.
            kernels::$backward(y, dy, unsafe { writable(&mut dx) }).map_err(shape_error)
        }
    };
}

elementwise_activation!(linear_forward, linear_backward);
elementwise_activation!(relu_forward, relu_backward);
elementwise_activation!(tanh_forward, tanh_backward);
elementwise_activation!(sigmoid_forward, sigmoid_backward);

#[napi(catch_unwind)]
pub fn leaky_relu_forward(alpha: f64, x: &[f32], mut y: Float32ArraySlice) -> Result<()> {
    ensure_disjoint(&[span("y", &y)], &[span("x", x)])?;
    // SAFETY: y was checked against x above.
    kernels::leaky_relu_forward(alpha as f32, x, unsafe { writable(&mut y) }).map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn leaky_relu_backward(alpha: f64, y: &[f32], dy: &[f32], mut dx: Float32ArraySlice) -> Result<()> {
    ensure_disjoint(&[span("dx", &dx)], &[span("y", y), span("dy", dy)])?;
    // SAFETY: dx was checked against y and dy above.
    kernels::leaky_relu_backward(alpha as f32, y, dy, unsafe { writable(&mut dx) }).map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn softmax_forward(rows: u32, cols: u32, x: &[f32], mut y: Float32ArraySlice) -> Result<()> {
    ensure_disjoint(&[span("y", &y)], &[span("x", x)])?;
    // SAFETY: y was checked against x above.
    let y = unsafe { writable(&mut y) };
    kernels::softmax_forward(rows as usize, cols as usize, x, y).map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn softmax_backward(
    rows: u32,
    cols: u32,
    y: &[f32],
    dy: &[f32],
    mut dx: Float32ArraySlice,
) -> Result<()> {
    ensure_disjoint(&[span("dx", &dx)], &[span("y", y), span("dy", dy)])?;
    // SAFETY: dx was checked against y and dy above.
    let dx = unsafe { writable(&mut dx) };
    kernels::softmax_backward(rows as usize, cols as usize, y, dy, dx).map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn mean_squared_error(
    predictions: &[f32],
    targets: &[f32],
    mut gradient: Float32ArraySlice,
) -> Result<f64> {
    ensure_disjoint(
        &[span("gradient", &gradient)],
        &[span("predictions", predictions), span("targets", targets)],
    )?;
    // SAFETY: gradient was checked against predictions and targets above.
    kernels::mean_squared_error(predictions, targets, unsafe { writable(&mut gradient) }).map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn binary_cross_entropy(
    predictions: &[f32],
    targets: &[f32],
    mut gradient: Float32ArraySlice,
) -> Result<f64> {
    ensure_disjoint(
        &[span("gradient", &gradient)],
        &[span("predictions", predictions), span("targets", targets)],
    )?;
    // SAFETY: gradient was checked against predictions and targets above.
    kernels::binary_cross_entropy(predictions, targets, unsafe { writable(&mut gradient) })
        .map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn softmax_cross_entropy(
    rows: u32,
    cols: u32,
    predictions: &[f32],
    targets: &[f32],
    mut gradient: Float32ArraySlice,
) -> Result<f64> {
    ensure_disjoint(
        &[span("gradient", &gradient)],
        &[span("predictions", predictions), span("targets", targets)],
    )?;
    // SAFETY: gradient was checked against predictions and targets above.
    let gradient = unsafe { writable(&mut gradient) };
    kernels::softmax_cross_entropy(rows as usize, cols as usize, predictions, targets, gradient)
        .map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn sgd_update(learning_rate: f64, mut params: Float32ArraySlice, gradients: &[f32]) -> Result<()> {
    ensure_disjoint(&[span("params", &params)], &[span("gradients", gradients)])?;
    // SAFETY: params was checked against gradients above.
    kernels::sgd_update(learning_rate as f32, unsafe { writable(&mut params) }, gradients)
        .map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn momentum_update(
    learning_rate: f64,
    momentum: f64,
    mut params: Float32ArraySlice,
    gradients: &[f32],
    mut velocity: Float32ArraySlice,
) -> Result<()> {
    ensure_disjoint(
        &[span("params", &params), span("velocity", &velocity)],
        &[span("gradients", gradients)],
    )?;
    // SAFETY: params and velocity were checked against each other and gradients above.
    let (params, velocity) = unsafe { (writable(&mut params), writable(&mut velocity)) };
    kernels::momentum_update(learning_rate as f32, momentum as f32, params, gradients, velocity)
        .map_err(shape_error)
}

#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)] // Adam's hyperparameters plus its two moment buffers
pub fn adam_update(
    learning_rate: f64,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    step: u32,
    mut params: Float32ArraySlice,
    gradients: &[f32],
    mut m: Float32ArraySlice,
    mut v: Float32ArraySlice,
) -> Result<()> {
    ensure_disjoint(
        &[span("params", &params), span("m", &m), span("v", &v)],
        &[span("gradients", gradients)],
    )?;
    // SAFETY: params, m and v were checked against each other and gradients above.
    let (params, m, v) = unsafe { (writable(&mut params), writable(&mut m), writable(&mut v)) };
    let (lr, b1, b2, eps) = (learning_rate as f32, beta1 as f32, beta2 as f32, epsilon as f32);
    kernels::adam_update(lr, b1, b2, eps, step, params, gradients, m, v).map_err(shape_error)
}

#[napi(catch_unwind)]
pub fn rmsprop_update(
    learning_rate: f64,
    rho: f64,
    epsilon: f64,
    mut params: Float32ArraySlice,
    gradients: &[f32],
    mut v: Float32ArraySlice,
) -> Result<()> {
    ensure_disjoint(
        &[span("params", &params), span("v", &v)],
        &[span("gradients", gradients)],
    )?;
    // SAFETY: params and v were checked against each other and gradients above.
    let (params, v) = unsafe { (writable(&mut params), writable(&mut v)) };
    kernels::rmsprop_update(
        learning_rate as f32,
        rho as f32,
        epsilon as f32,
        params,
        gradients,
        v,
    )
    .map_err(shape_error)
}

fn model_error(error: kernels::ModelError) -> Error {
    Error::new(Status::InvalidArg, error.to_string())
}

/// What a run of training batches did (see `ferronet_kernels::TrainOutcome`).
#[napi(object)]
pub struct TrainOutcome {
    pub batches: u32,
    pub diverged: bool,
}

/// A mean loss and how many samples were classified correctly.
#[napi(object)]
pub struct Evaluation {
    pub loss: f64,
    pub correct: u32,
}

fn count(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A training model (layers, parameters, optimizer state, scratch); each is independent,
/// so networks in different threads or in one thread never share state.
#[napi]
pub struct Model {
    /// `None` once disposed: the memory goes back at once, not when the GC collects the object.
    inner: Option<kernels::Model>,
}

impl Model {
    fn inner(&mut self) -> Result<&mut kernels::Model> {
        self.inner
            .as_mut()
            .ok_or_else(|| Error::new(Status::InvalidArg, "model: used after dispose()"))
    }
}

#[napi]
impl Model {
    /// An empty model taking samples of `input_shape` (`[features]` or `[h, w, c]`).
    #[napi(constructor, catch_unwind)]
    pub fn new(input_shape: &[u32]) -> Result<Self> {
        let shape: Vec<usize> = input_shape.iter().map(|&extent| extent as usize).collect();
        let inner = kernels::Model::new(&shape).map_err(model_error)?;
        Ok(Model { inner: Some(inner) })
    }

    /// Frees the model's buffers now; every later call throws.
    #[napi(catch_unwind)]
    pub fn dispose(&mut self) {
        self.inner = None;
    }

    /// Appends a layer given as the JSON of a resolved layer (ts/layers/types.ts).
    #[napi(catch_unwind)]
    pub fn add_layer(&mut self, config: String) -> Result<()> {
        let config = kernels::LayerConfig::from_json(&config).map_err(model_error)?;
        self.inner()?.add_layer(&config).map_err(model_error)
    }

    /// The dropout generator's state, four 32-bit words.
    #[napi(catch_unwind)]
    pub fn random_state(&mut self) -> Result<Uint32Array> {
        Ok(Uint32Array::new(self.inner()?.random_state().to_vec()))
    }

    /// Continues the dropout masks from `state` (four 32-bit words).
    #[napi(catch_unwind)]
    pub fn set_random_state(&mut self, state: &[u32]) -> Result<()> {
        let words: [u32; 4] = state.try_into().map_err(|_| {
            Error::new(
                Status::InvalidArg,
                format!("state: expected 4 words, got {}", state.len()),
            )
        })?;
        self.inner()?.set_random_state(words);
        Ok(())
    }

    /// A copy of parameter buffer `index`, counting every layer's buffers in order.
    #[napi(catch_unwind)]
    pub fn parameter(&mut self, index: u32) -> Result<Float32Array> {
        let values = self.inner()?.parameter(index as usize).map_err(model_error)?;
        Ok(Float32Array::new(values.to_vec()))
    }

    #[napi(catch_unwind)]
    pub fn set_parameter(&mut self, index: u32, values: &[f32]) -> Result<()> {
        self.inner()?
            .set_parameter(index as usize, values)
            .map_err(model_error)
    }

    /// Sets how the model trains from the JSON of its settings (`kernels::TrainingConfig`)
    /// and resets the optimizer state.
    #[napi(catch_unwind)]
    pub fn configure_training(&mut self, config: String) -> Result<()> {
        let config = kernels::TrainingConfig::from_json(&config).map_err(model_error)?;
        self.inner()?.configure_training(config).map_err(model_error)
    }

    /// Changes the learning rate and keeps the optimizer state.
    #[napi(catch_unwind)]
    pub fn set_learning_rate(&mut self, rate: f64) -> Result<()> {
        self.inner()?.set_learning_rate(rate as f32).map_err(model_error)
    }

    /// Updates applied since training was configured.
    #[napi(catch_unwind)]
    pub fn optimizer_step(&mut self) -> Result<u32> {
        Ok(self.inner()?.optimizer_step())
    }

    #[napi(catch_unwind)]
    pub fn set_optimizer_step(&mut self, step: u32) -> Result<()> {
        self.inner()?.set_optimizer_step(step).map_err(model_error)
    }

    /// Number of optimizer state buffers.
    #[napi(catch_unwind)]
    pub fn optimizer_state_count(&mut self) -> Result<u32> {
        Ok(count(self.inner()?.optimizer_state_count()))
    }

    /// A copy of optimizer state buffer `index`.
    #[napi(catch_unwind)]
    pub fn optimizer_state(&mut self, index: u32) -> Result<Float32Array> {
        let values = self
            .inner()?
            .optimizer_state(index as usize)
            .map_err(model_error)?;
        Ok(Float32Array::new(values.to_vec()))
    }

    #[napi(catch_unwind)]
    pub fn set_optimizer_state(&mut self, index: u32, values: &[f32]) -> Result<()> {
        self.inner()?
            .set_optimizer_state(index as usize, values)
            .map_err(model_error)
    }

    #[napi(catch_unwind)]
    pub fn predict(&mut self, x: &[f32], rows: u32, mut out: Float32ArraySlice) -> Result<()> {
        ensure_disjoint(&[span("out", &out)], &[span("x", x)])?;
        // SAFETY: out was checked against x above.
        let out = unsafe { writable(&mut out) };
        self.inner()?.predict(x, rows as usize, out).map_err(model_error)
    }

    /// The mean loss and correct count over `rows` samples; the predictions are written to `out`.
    #[napi(catch_unwind)]
    pub fn evaluate(
        &mut self,
        loss: String,
        x: &[f32],
        y: &[f32],
        rows: u32,
        mut out: Float32ArraySlice,
    ) -> Result<Evaluation> {
        let loss = kernels::Loss::from_name(&loss).map_err(model_error)?;
        ensure_disjoint(&[span("out", &out)], &[span("x", x), span("y", y)])?;
        // SAFETY: out was checked against x and y above.
        let out = unsafe { writable(&mut out) };
        let evaluation = self
            .inner()?
            .evaluate(loss, x, y, rows as usize, out)
            .map_err(model_error)?;
        Ok(Evaluation {
            loss: evaluation.loss,
            correct: count(evaluation.correct),
        })
    }

    /// Trains on the batches of `indices` that `batch_ends` delimits, reading `x` and `y` in
    /// place, and records each batch's mean loss and correct count in `losses` and `correct`.
    #[napi(catch_unwind)]
    #[allow(clippy::too_many_arguments)] // the data set, the batches and the two records
    pub fn train_batches(
        &mut self,
        x: &[f32],
        y: &[f32],
        samples: u32,
        indices: &[u32],
        batch_ends: &[u32],
        mut losses: Float64ArraySlice,
        mut correct: Uint32ArraySlice,
    ) -> Result<TrainOutcome> {
        let inputs = [
            span("x", x),
            span("y", y),
            span("indices", indices),
            span("batchEnds", batch_ends),
        ];
        ensure_disjoint(&[span("losses", &losses), span("correct", &correct)], &inputs)?;
        // SAFETY: losses and correct were checked against each other and every input above.
        let (losses, correct) = unsafe { (losses.as_mut(), correct.as_mut()) };
        let batches = kernels::Batches {
            indices,
            ends: batch_ends,
        };
        let records = kernels::BatchRecords { losses, correct };
        let outcome = self
            .inner()?
            .train_batches(x, y, samples as usize, batches, records)
            .map_err(model_error)?;
        Ok(TrainOutcome {
            batches: count(outcome.batches),
            diverged: outcome.diverged,
        })
    }

    /// Every layer's `[rows][outputs]` pre-activations then outputs for `rows` samples of `x`,
    /// in inference mode, written to `out` in place (see `kernels::Model::trace`).
    #[napi(catch_unwind)]
    pub fn trace(&mut self, x: &[f32], rows: u32, mut out: Float32ArraySlice) -> Result<()> {
        ensure_disjoint(&[span("out", &out)], &[span("x", x)])?;
        // SAFETY: out was checked against x above.
        let out = unsafe { writable(&mut out) };
        self.inner()?.trace(x, rows as usize, out).map_err(model_error)
    }

    /// One batch's loss gradients as a training step computes them, every trained buffer's in
    /// parameter order, written to `out` in place; the dropout masks come from `random_state`
    /// (four words) and nothing in the model changes. Returns the batch's mean loss (see
    /// `kernels::Model::gradients`).
    #[napi(catch_unwind)]
    pub fn gradients(
        &mut self,
        loss: String,
        x: &[f32],
        y: &[f32],
        rows: u32,
        random_state: &[u32],
        mut out: Float32ArraySlice,
    ) -> Result<f64> {
        let loss = kernels::Loss::from_name(&loss).map_err(model_error)?;
        let words: [u32; 4] = random_state.try_into().map_err(|_| {
            Error::new(
                Status::InvalidArg,
                format!("randomState: expected 4 words, got {}", random_state.len()),
            )
        })?;
        let inputs = [span("x", x), span("y", y), span("randomState", random_state)];
        ensure_disjoint(&[span("out", &out)], &inputs)?;
        // SAFETY: out was checked against every input above.
        let out = unsafe { writable(&mut out) };
        self.inner()?
            .gradients(loss, x, y, rows as usize, words, out)
            .map_err(model_error)
    }
}
