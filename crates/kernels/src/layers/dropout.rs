//! Inverted dropout: in training each element is kept, scaled by `1 / (1 - rate)`, when its
//! draw `u` from the model's generator is at least `rate`, else zeroed; in inference the layer
//! is the identity. One draw per element, in row-major order (docs/layers.md, "Dropout masks").

use super::{Backward, Layer, Mode};
use crate::buffer::grow;
use crate::error::check_len;
use crate::model::ModelError;

pub(crate) struct Dropout {
    shape: Vec<usize>,
    rate: f64,
    /// `float32(1 / (1 - rate))`, the factor kept elements are scaled by.
    scale: f32,
    /// The last training batch's factors: `scale` where kept, 0 where dropped.
    mask: Vec<f32>,
}

impl Dropout {
    pub fn new(input_shape: &[usize], rate: f64) -> Result<Dropout, ModelError> {
        if !(0.0..1.0).contains(&rate) {
            return Err(ModelError::new(
                "rate",
                format!("expected a rate in [0, 1), got {rate}"),
            ));
        }
        Ok(Dropout {
            shape: input_shape.to_vec(),
            rate,
            scale: (1.0 / (1.0 - rate)) as f32,
            mask: Vec::new(),
        })
    }
}

impl Layer for Dropout {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn forward(
        &mut self,
        input: &[f32],
        _rows: usize,
        output: &mut [f32],
        mode: &mut Mode<'_>,
    ) -> Result<(), ModelError> {
        check_len("input", "rows*features", input, output.len())?;
        let Mode::Training(random) = mode else {
            output.copy_from_slice(input);
            return Ok(());
        };
        grow("rows", &mut self.mask, input.len())?;
        let mask = &mut self.mask[..input.len()];
        for ((y, &x), m) in output.iter_mut().zip(input).zip(mask.iter_mut()) {
            *m = if random.uniform() >= self.rate {
                self.scale
            } else {
                0.0
            };
            *y = x * *m;
        }
        Ok(())
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        if let Some(dx) = pass.input_gradient {
            let n = dx.len();
            check_len("outputGradient", "rows*features", pass.output_gradient, n)?;
            check_len("mask", "rows*features", &self.mask[..n.min(self.mask.len())], n)?;
            for ((d, &g), &m) in dx.iter_mut().zip(pass.output_gradient.iter()).zip(&self.mask) {
                *d = g * m;
            }
        }
        Ok(())
    }
}
