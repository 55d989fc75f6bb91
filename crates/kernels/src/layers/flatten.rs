//! `[h, w, c]` (or any shape) to `[h * w * c]`: the same floats, in NHWC order.

use super::{Backward, Layer, Mode};
use crate::buffer::product;
use crate::error::check_len;
use crate::model::ModelError;

pub(crate) struct Flatten {
    shape: [usize; 1],
}

impl Flatten {
    pub fn new(input_shape: &[usize]) -> Result<Flatten, ModelError> {
        Ok(Flatten {
            shape: [product("layer", input_shape)?],
        })
    }
}

impl Layer for Flatten {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn forward(
        &mut self,
        input: &[f32],
        _rows: usize,
        output: &mut [f32],
        _mode: &mut Mode<'_>,
    ) -> Result<(), ModelError> {
        check_len("input", "rows*features", input, output.len())?;
        output.copy_from_slice(input);
        Ok(())
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        if let Some(dx) = pass.input_gradient {
            check_len("inputGradient", "rows*features", dx, pass.output_gradient.len())?;
            dx.copy_from_slice(pass.output_gradient);
        }
        Ok(())
    }
}
