//! Activations and their derivatives.
//!
//! Every backward kernel takes the activation's *output* `y` (not its input): each of these
//! derivatives can be written in terms of `y`, so a training step keeps one buffer per layer.
//! `dx = dy * f'(x)`, elementwise except for softmax, whose Jacobian couples a row.

use crate::bias::for_each_with_bias;
use crate::error::{check_len, checked_area, ShapeError};
use crate::isa::multiversion;
use crate::math::{self, MulAdd};
use crate::model::ModelError;

/// A layer's activation, as a training model stores it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Linear,
    Relu,
    /// `alpha > 0` is the slope for negative inputs.
    LeakyRelu {
        alpha: f32,
    },
    Tanh,
    Sigmoid,
    Softmax,
}

/// Row-wise softmax in place, shifted by the row's maximum so that `e^` never overflows.
#[inline(always)]
fn softmax_rows<M: MulAdd>(cols: usize, values: &mut [f32]) {
    for row in values.chunks_exact_mut(cols) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for v in row.iter_mut() {
            *v = math::exp::<M>(*v - max);
            sum += *v;
        }
        let inv = 1.0 / sum;
        row.iter_mut().for_each(|v| *v *= inv);
    }
}

/// `v = f(v)`, or `v = f(v + bias)` when a bias is given: the training model adds its bias in
/// the same pass over the layer's outputs as the activation.
#[inline(always)]
fn map(cols: usize, bias: Option<&[f32]>, values: &mut [f32], f: impl Fn(f32) -> f32) {
    match bias {
        None => values.iter_mut().for_each(|v| *v = f(*v)),
        Some(bias) => for_each_with_bias(cols, bias, values, |v, b| *v = f(*v + b)),
    }
}

/// [`map`] for an `f` that keeps some values as they are (relu's): without a bias, mapping in
/// place compiles to a masked store of the replaced lanes, as in [`select_through_block`],
/// so the values go through a block on the stack.
#[inline(always)]
fn map_keeping(cols: usize, bias: Option<&[f32]>, values: &mut [f32], f: impl Fn(f32) -> f32) {
    if bias.is_some() {
        return map(cols, bias, values, f);
    }
    let mut block = [0.0f32; BLOCK];
    for part in values.chunks_mut(BLOCK) {
        for (slot, &v) in block.iter_mut().zip(&*part) {
            *slot = f(v);
        }
        part.copy_from_slice(&block[..part.len()]);
    }
}

/// Floats per stack block of [`map_keeping`] and [`select_through_block`]: 1 KiB, in L1.
const BLOCK: usize = 256;

multiversion! {
    fn activate<M>(activation: Activation, cols: usize, bias: Option<&[f32]>, values: &mut [f32]) {
        match activation {
            Activation::Linear => map(cols, bias, values, |v| v),
            // A select, not `f32::max`: that is a call to libm's `fmaxf` in wasm, which would keep
            // the loop from vectorizing.
            Activation::Relu => map_keeping(cols, bias, values, |v| if v > 0.0 { v } else { 0.0 }),
            Activation::LeakyRelu { alpha } => map_keeping(cols, bias, values, |v| if v > 0.0 { v } else { alpha * v }),
            Activation::Tanh => map(cols, bias, values, math::tanh::<M>),
            Activation::Sigmoid => map(cols, bias, values, math::sigmoid::<M>),
            Activation::Softmax if cols > 0 => {
                if let Some(bias) = bias {
                    for_each_with_bias(cols, bias, values, |v, b| *v += b);
                }
                softmax_rows::<M>(cols, values);
            }
            Activation::Softmax => {}
        }
    }
}

/// `gradient[i] = f(gradient[i], y[i])` for an `f` that keeps the gradient or replaces it,
/// through a block on the stack. Written in place, such a select compiles to a masked store
/// (`vmaskmovps`) of the replaced lanes, which takes over ten cycles on AMD's Zen cores;
/// storing whole vectors into the block and copying it back is two plain passes over L1.
#[inline(always)]
fn select_through_block(y: &[f32], gradient: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    let mut block = [0.0f32; BLOCK];
    for (g_part, y_part) in gradient.chunks_mut(BLOCK).zip(y.chunks(BLOCK)) {
        for ((slot, &g), &v) in block.iter_mut().zip(&*g_part).zip(y_part) {
            *slot = f(g, v);
        }
        g_part.copy_from_slice(&block[..g_part.len()]);
    }
}

multiversion! {
    fn activate_backward(activation: Activation, cols: usize, y: &[f32], gradient: &mut [f32]) {
        let pairs = gradient.iter_mut().zip(y);
        match activation {
            Activation::Linear => {}
            Activation::Relu => select_through_block(y, gradient, |g, v| if v > 0.0 { g } else { 0.0 }),
            Activation::LeakyRelu { alpha } => select_through_block(y, gradient, |g, v| if v > 0.0 { g } else { alpha * g }),
            Activation::Tanh => pairs.for_each(|(g, &v)| *g *= 1.0 - v * v),
            Activation::Sigmoid => pairs.for_each(|(g, &v)| *g *= v * (1.0 - v)),
            Activation::Softmax if cols > 0 => {
                for (g_row, y_row) in gradient.chunks_exact_mut(cols).zip(y.chunks_exact(cols)) {
                    let dot: f32 = g_row.iter().zip(y_row).map(|(g, v)| g * v).sum();
                    g_row.iter_mut().zip(y_row).for_each(|(g, &v)| *g = v * (*g - dot));
                }
            }
            Activation::Softmax => {}
        }
    }
}

impl Activation {
    /// The activation called `name` in ferronet's TypeScript API (`'leakyRelu'` takes
    /// `alpha`; the others ignore it).
    pub fn from_name(name: &str, alpha: f32) -> Result<Activation, ModelError> {
        Ok(match name {
            "linear" => Activation::Linear,
            "relu" => Activation::Relu,
            "leakyRelu" => Activation::LeakyRelu { alpha },
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            "softmax" => Activation::Softmax,
            _ => {
                return Err(ModelError::unknown_name(
                    "activation",
                    "'linear', 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'softmax'",
                    name,
                ))
            }
        })
    }

    /// The activation's name in the TypeScript API and its leaky-ReLU slope (0 for the others).
    pub fn name_and_alpha(self) -> (&'static str, f32) {
        match self {
            Activation::Linear => ("linear", 0.0),
            Activation::Relu => ("relu", 0.0),
            Activation::LeakyRelu { alpha } => ("leakyRelu", alpha),
            Activation::Tanh => ("tanh", 0.0),
            Activation::Sigmoid => ("sigmoid", 0.0),
            Activation::Softmax => ("softmax", 0.0),
        }
    }

    /// `values = f(values)` over a row-major matrix of `cols` columns. The training model
    /// calls this on its own buffers; the public `*_forward` kernels copy, then call it.
    /// Whether each output depends on its own input alone (all but softmax), so that it can be
    /// computed on any layout of a layer's outputs.
    pub(crate) fn is_elementwise(self) -> bool {
        self != Activation::Softmax
    }

    pub(crate) fn forward_in_place(self, cols: usize, values: &mut [f32]) {
        activate(self, cols, None, values);
    }

    /// `values = f(values + bias)`, the bias broadcast over rows, in one pass: a dense layer's
    /// bias and activation, fused where they would otherwise each sweep the layer's outputs.
    pub(crate) fn forward_with_bias_in_place(self, cols: usize, bias: &[f32], values: &mut [f32]) {
        activate(self, cols, Some(bias), values);
    }

    /// `gradient = gradient * f'(x)`, computed from the forward output `y`: on entry
    /// `gradient` holds `dL/dy`, on exit `dL/dx`.
    pub(crate) fn backward_in_place(self, cols: usize, y: &[f32], gradient: &mut [f32]) {
        activate_backward(self, cols, y, gradient);
    }

    /// `y = f(x)` over a row-major `rows x cols` matrix.
    pub fn forward(self, rows: usize, cols: usize, x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
        if self == Activation::Softmax {
            check_len("x", "rows*cols", x, checked_area("x", "rows*cols", rows, cols)?)?;
        }
        check_len("y", "length of x", y, x.len())?;
        y.copy_from_slice(x);
        self.forward_in_place(cols, y);
        Ok(())
    }

    /// `dx = dy * f'(x)` over a row-major `rows x cols` matrix, from the forward output `y`.
    pub fn backward(
        self,
        rows: usize,
        cols: usize,
        y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) -> Result<(), ShapeError> {
        if self == Activation::Softmax {
            check_len("y", "rows*cols", y, checked_area("y", "rows*cols", rows, cols)?)?;
        }
        check_len("dy", "length of y", dy, y.len())?;
        check_len("dx", "length of y", dx, y.len())?;
        dx.copy_from_slice(dy);
        self.backward_in_place(cols, y, dx);
        Ok(())
    }
}

/// `y = x`.
pub fn linear_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Linear.forward(1, x.len(), x, y)
}

/// `dx = dy`.
pub fn linear_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Linear.backward(1, y.len(), y, dy, dx)
}

/// `y = max(x, 0)`.
pub fn relu_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Relu.forward(1, x.len(), x, y)
}

/// `dx = dy` where `y > 0`, else 0.
pub fn relu_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Relu.backward(1, y.len(), y, dy, dx)
}

/// `y = x` where `x > 0`, else `alpha * x` (`alpha > 0`, so `y` has the sign of `x`).
pub fn leaky_relu_forward(alpha: f32, x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    Activation::LeakyRelu { alpha }.forward(1, x.len(), x, y)
}

/// `dx = dy` where `y > 0`, else `alpha * dy`.
pub fn leaky_relu_backward(alpha: f32, y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    Activation::LeakyRelu { alpha }.backward(1, y.len(), y, dy, dx)
}

/// `y = tanh(x)`.
pub fn tanh_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Tanh.forward(1, x.len(), x, y)
}

/// `dx = dy * (1 - y^2)`.
pub fn tanh_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Tanh.backward(1, y.len(), y, dy, dx)
}

/// `y = 1 / (1 + e^-x)`.
pub fn sigmoid_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Sigmoid.forward(1, x.len(), x, y)
}

/// `dx = dy * y * (1 - y)`.
pub fn sigmoid_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Sigmoid.backward(1, y.len(), y, dy, dx)
}

/// Row-wise softmax of a row-major `rows x cols` matrix.
pub fn softmax_forward(rows: usize, cols: usize, x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    Activation::Softmax.forward(rows, cols, x, y)
}

/// Row-wise softmax Jacobian-vector product: `dx_i = y_i * (dy_i - sum_j dy_j * y_j)`.
pub fn softmax_backward(
    rows: usize,
    cols: usize,
    y: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) -> Result<(), ShapeError> {
    Activation::Softmax.backward(rows, cols, y, dy, dx)
}

#[cfg(test)]
mod tests;
