//! ferronet's numerical kernels, shared by the WebAssembly module and the Node addon.
//!
//! Every public function takes row-major f32 slices with explicit shapes and returns a
//! [`ShapeError`] (never panics) when a length does not match. Values are not validated
//! here: the TypeScript layer checks them once at the public boundary.

mod activations;
mod bias;
mod buffer;
mod columns;
mod error;
mod gemm;
mod isa;
mod layers;
mod losses;
mod math;
mod model;
mod optimizers;
mod random;
mod safetensors;

#[cfg(test)]
mod test_util;

pub use activations::{
    leaky_relu_backward, leaky_relu_forward, linear_backward, linear_forward, relu_backward, relu_forward,
    sigmoid_backward, sigmoid_forward, softmax_backward, softmax_forward, tanh_backward, tanh_forward,
    Activation,
};
pub use bias::{bias_add, column_sums};
pub use error::ShapeError;
pub use gemm::gemm;
pub use isa::instruction_set;
pub use layers::{LayerConfig, Padding};
pub use losses::{binary_cross_entropy, mean_squared_error, softmax_cross_entropy, Loss};
pub use model::{
    count_correct, BatchRecords, Batches, Evaluation, Model, ModelError, TrainOutcome, TrainingConfig,
};
pub use optimizers::{adam_update, momentum_update, rmsprop_update, sgd_update, Optimizer};
pub use random::Xoshiro128;
pub use safetensors::{safetensors_index, SafetensorsError};
