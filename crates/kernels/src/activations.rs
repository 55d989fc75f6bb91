//! Activations and their derivatives.
//!
//! Every backward kernel takes the activation's *output* `y` (not its input): each of these
//! derivatives can be written in terms of `y`, so a training step keeps one buffer per layer.
//! `dx = dy * f'(x)`, elementwise except for softmax, whose Jacobian couples a row.

use crate::error::{check_len, checked_area, ShapeError};

fn map(x: &[f32], y: &mut [f32], f: impl Fn(f32) -> f32) -> Result<(), ShapeError> {
    check_len("y", "length of x", y, x.len())?;
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = f(xi);
    }
    Ok(())
}

fn map_backward(
    y: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    f: impl Fn(f32, f32) -> f32,
) -> Result<(), ShapeError> {
    check_len("dy", "length of y", dy, y.len())?;
    check_len("dx", "length of y", dx, y.len())?;
    for ((dxi, &yi), &dyi) in dx.iter_mut().zip(y).zip(dy) {
        *dxi = f(yi, dyi);
    }
    Ok(())
}

/// `y = x`.
pub fn linear_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    check_len("y", "length of x", y, x.len())?;
    y.copy_from_slice(x);
    Ok(())
}

/// `dx = dy`.
pub fn linear_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    map_backward(y, dy, dx, |_, g| g)
}

/// `y = max(x, 0)`.
pub fn relu_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    map(x, y, |v| if v > 0.0 { v } else { 0.0 })
}

/// `dx = dy` where `y > 0`, else 0.
pub fn relu_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    map_backward(y, dy, dx, |v, g| if v > 0.0 { g } else { 0.0 })
}

/// `y = x` where `x > 0`, else `alpha * x` (`alpha > 0`, so `y` has the sign of `x`).
pub fn leaky_relu_forward(alpha: f32, x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    map(x, y, |v| if v > 0.0 { v } else { alpha * v })
}

/// `dx = dy` where `y > 0`, else `alpha * dy`.
pub fn leaky_relu_backward(alpha: f32, y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    map_backward(y, dy, dx, |v, g| if v > 0.0 { g } else { alpha * g })
}

/// `y = tanh(x)`.
pub fn tanh_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    map(x, y, f32::tanh)
}

/// `dx = dy * (1 - y^2)`.
pub fn tanh_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    map_backward(y, dy, dx, |v, g| g * (1.0 - v * v))
}

/// `y = 1 / (1 + e^-x)`, evaluated so that `e^` never overflows.
pub fn sigmoid_forward(x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    map(x, y, sigmoid)
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `dx = dy * y * (1 - y)`.
pub fn sigmoid_backward(y: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), ShapeError> {
    map_backward(y, dy, dx, |v, g| g * v * (1.0 - v))
}

/// Row-wise softmax of a row-major `rows x cols` matrix, shifted by each row's maximum so
/// that `e^` never overflows.
pub fn softmax_forward(rows: usize, cols: usize, x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
    check_len("x", "rows*cols", x, checked_area("x", "rows*cols", rows, cols)?)?;
    check_len("y", "length of x", y, x.len())?;
    if cols == 0 {
        return Ok(());
    }
    for (x_row, y_row) in x.chunks_exact(cols).zip(y.chunks_exact_mut(cols)) {
        let max = x_row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0f32;
        for (yi, &xi) in y_row.iter_mut().zip(x_row) {
            *yi = (xi - max).exp();
            sum += *yi;
        }
        let inv = 1.0 / sum;
        y_row.iter_mut().for_each(|yi| *yi *= inv);
    }
    Ok(())
}

/// Row-wise softmax Jacobian-vector product: `dx_i = y_i * (dy_i - sum_j dy_j * y_j)`.
pub fn softmax_backward(
    rows: usize,
    cols: usize,
    y: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) -> Result<(), ShapeError> {
    check_len("y", "rows*cols", y, checked_area("y", "rows*cols", rows, cols)?)?;
    check_len("dy", "length of y", dy, y.len())?;
    check_len("dx", "length of y", dx, y.len())?;
    if cols == 0 {
        return Ok(());
    }
    for ((y_row, dy_row), dx_row) in y
        .chunks_exact(cols)
        .zip(dy.chunks_exact(cols))
        .zip(dx.chunks_exact_mut(cols))
    {
        let dot: f32 = y_row.iter().zip(dy_row).map(|(a, b)| a * b).sum();
        for ((dxi, &yi), &dyi) in dx_row.iter_mut().zip(y_row).zip(dy_row) {
            *dxi = yi * (dyi - dot);
        }
    }
    Ok(())
}

/// A layer's activation, as a training model stores it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Linear,
    Relu,
    LeakyRelu { alpha: f32 },
    Tanh,
    Sigmoid,
    Softmax,
}

impl Activation {
    /// `y = f(x)` over a row-major `rows x cols` matrix.
    pub fn forward(self, rows: usize, cols: usize, x: &[f32], y: &mut [f32]) -> Result<(), ShapeError> {
        match self {
            Activation::Linear => linear_forward(x, y),
            Activation::Relu => relu_forward(x, y),
            Activation::LeakyRelu { alpha } => leaky_relu_forward(alpha, x, y),
            Activation::Tanh => tanh_forward(x, y),
            Activation::Sigmoid => sigmoid_forward(x, y),
            Activation::Softmax => softmax_forward(rows, cols, x, y),
        }
    }

    /// `dx = dy * f'(x)`, from the forward output `y`.
    pub fn backward(
        self,
        rows: usize,
        cols: usize,
        y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) -> Result<(), ShapeError> {
        match self {
            Activation::Linear => linear_backward(y, dy, dx),
            Activation::Relu => relu_backward(y, dy, dx),
            Activation::LeakyRelu { alpha } => leaky_relu_backward(alpha, y, dy, dx),
            Activation::Tanh => tanh_backward(y, dy, dx),
            Activation::Sigmoid => sigmoid_backward(y, dy, dx),
            Activation::Softmax => softmax_backward(rows, cols, y, dy, dx),
        }
    }
}

#[cfg(test)]
mod tests;
