//! Batch normalization over every axis but the last (per channel, or per feature after a
//! dense layer). Training normalizes with the batch's mean and biased variance and moves the
//! moving statistics as Keras does (`moving = momentum * moving + (1 - momentum) * batch`);
//! inference normalizes with the moving statistics. Sums run in f64 so that long columns agree
//! with the ts backend.

// Per-channel loops index five or six per-channel arrays at once; zipped iterators would hide
// which channel each value belongs to.
#![allow(clippy::needless_range_loop)]

use super::{channels, Backward, Layer, Mode, Param};
use crate::buffer::grow;
use crate::error::check_len;
use crate::model::ModelError;

const GAMMA: usize = 0;
const BETA: usize = 1;
const MOVING_MEAN: usize = 2;
const MOVING_VARIANCE: usize = 3;

pub(crate) struct BatchNorm {
    shape: Vec<usize>,
    channels: usize,
    momentum: f32,
    epsilon: f32,
    /// `gamma`, `beta` (trained), `movingMean`, `movingVariance` (moved by training batches).
    params: Vec<Param>,
    /// The last training batch's normalized inputs and per-channel `1 / sqrt(var + epsilon)`.
    normalized: Vec<f32>,
    inverse_std: Vec<f32>,
}

impl BatchNorm {
    pub fn new(input_shape: &[usize], momentum: f32, epsilon: f32) -> Result<BatchNorm, ModelError> {
        let channels = channels("batchNorm", input_shape)?;
        if !(0.0..=1.0).contains(&momentum) || epsilon.is_nan() || epsilon <= 0.0 {
            return Err(ModelError::new(
                "layer",
                format!("batchNorm expected momentum in [0, 1] and a positive epsilon, got {momentum} and {epsilon}"),
            ));
        }
        let params = vec![
            Param::trained("channels", channels)?,
            Param::trained("channels", channels)?,
            Param::untrained("channels", channels)?,
            Param::untrained("channels", channels)?,
        ];
        Ok(BatchNorm {
            shape: input_shape.to_vec(),
            channels,
            momentum,
            epsilon,
            params,
            normalized: Vec::new(),
            inverse_std: vec![0.0; channels],
        })
    }

    /// Per-channel mean and biased variance of `input`, in f64.
    fn statistics(&self, input: &[f32]) -> (Vec<f64>, Vec<f64>) {
        let c = self.channels;
        let count = (input.len() / c) as f64;
        let mut mean = vec![0.0f64; c];
        for row in input.chunks_exact(c) {
            mean.iter_mut().zip(row).for_each(|(m, &x)| *m += f64::from(x));
        }
        mean.iter_mut().for_each(|m| *m /= count);
        let mut variance = vec![0.0f64; c];
        for row in input.chunks_exact(c) {
            for ((v, &x), &m) in variance.iter_mut().zip(row).zip(&mean) {
                let d = f64::from(x) - m;
                *v += d * d;
            }
        }
        variance.iter_mut().for_each(|v| *v /= count);
        (mean, variance)
    }
}

impl Layer for BatchNorm {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn params(&self) -> &[Param] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [Param] {
        &mut self.params
    }

    fn forward(
        &mut self,
        input: &[f32],
        _rows: usize,
        output: &mut [f32],
        mode: &mut Mode<'_>,
    ) -> Result<(), ModelError> {
        check_len("input", "rows*features", input, output.len())?;
        let c = self.channels;
        if let Mode::Inference = mode {
            let p = &self.params;
            let scale: Vec<f32> = p[MOVING_VARIANCE]
                .values
                .iter()
                .zip(&p[GAMMA].values)
                .map(|(&v, &g)| g / (v + self.epsilon).sqrt())
                .collect();
            for (y_row, x_row) in output.chunks_exact_mut(c).zip(input.chunks_exact(c)) {
                for ch in 0..c {
                    y_row[ch] = (x_row[ch] - p[MOVING_MEAN].values[ch]) * scale[ch] + p[BETA].values[ch];
                }
            }
            return Ok(());
        }
        let (mean, variance) = self.statistics(input);
        for ch in 0..c {
            self.inverse_std[ch] = (1.0 / (variance[ch] + f64::from(self.epsilon)).sqrt()) as f32;
        }
        grow("rows", &mut self.normalized, input.len())?;
        let normalized = &mut self.normalized[..input.len()];
        let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let (gamma, beta) = (&self.params[GAMMA].values, &self.params[BETA].values);
        for ((y_row, n_row), x_row) in output
            .chunks_exact_mut(c)
            .zip(normalized.chunks_exact_mut(c))
            .zip(input.chunks_exact(c))
        {
            for ch in 0..c {
                n_row[ch] = (x_row[ch] - mean32[ch]) * self.inverse_std[ch];
                y_row[ch] = gamma[ch] * n_row[ch] + beta[ch];
            }
        }
        let momentum = self.momentum;
        let moves = [(MOVING_MEAN, &mean), (MOVING_VARIANCE, &variance)];
        for (index, batch) in moves {
            for (moving, &value) in self.params[index].values.iter_mut().zip(batch.iter()) {
                *moving = momentum * *moving + (1.0 - momentum) * value as f32;
            }
        }
        Ok(())
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        let c = self.channels;
        let dy = &*pass.output_gradient;
        let normalized = &self.normalized[..dy.len().min(self.normalized.len())];
        check_len("normalized", "rows*features", normalized, dy.len())?;
        let count = (dy.len() / c) as f64;
        let mut dbeta = vec![0.0f64; c];
        let mut dgamma = vec![0.0f64; c];
        for (g_row, n_row) in dy.chunks_exact(c).zip(normalized.chunks_exact(c)) {
            for ch in 0..c {
                dbeta[ch] += f64::from(g_row[ch]);
                dgamma[ch] += f64::from(g_row[ch]) * f64::from(n_row[ch]);
            }
        }
        for ch in 0..c {
            self.params[BETA].gradient[ch] = dbeta[ch] as f32;
            self.params[GAMMA].gradient[ch] = dgamma[ch] as f32;
        }
        if let Some(dx) = pass.input_gradient {
            // dx = gamma / sqrt(var + eps) * (dy - sum(dy) / N - xhat * sum(dy * xhat) / N)
            let gamma = &self.params[GAMMA].values;
            let scale: Vec<f32> = (0..c).map(|ch| gamma[ch] * self.inverse_std[ch]).collect();
            let mean_dy: Vec<f32> = dbeta.iter().map(|&s| (s / count) as f32).collect();
            let mean_dy_xhat: Vec<f32> = dgamma.iter().map(|&s| (s / count) as f32).collect();
            for ((d_row, g_row), n_row) in dx
                .chunks_exact_mut(c)
                .zip(dy.chunks_exact(c))
                .zip(normalized.chunks_exact(c))
            {
                for ch in 0..c {
                    d_row[ch] = scale[ch] * (g_row[ch] - mean_dy[ch] - n_row[ch] * mean_dy_xhat[ch]);
                }
            }
        }
        Ok(())
    }
}
