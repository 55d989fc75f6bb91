//! An activation on its own (Keras's `Activation` layer), for `conv2d -> batchNorm -> relu`.
//! Softmax normalizes over the last axis.

use super::{channels, Backward, Layer, Mode};
use crate::error::check_len;
use crate::model::ModelError;
use crate::Activation;

pub(crate) struct ActivationLayer {
    shape: Vec<usize>,
    activation: Activation,
}

impl ActivationLayer {
    pub fn new(input_shape: &[usize], activation: Activation) -> Result<ActivationLayer, ModelError> {
        channels("activation", input_shape)?;
        Ok(ActivationLayer {
            shape: input_shape.to_vec(),
            activation,
        })
    }

    /// Softmax's row: the last axis.
    fn cols(&self) -> usize {
        self.shape.last().copied().unwrap_or(1)
    }
}

impl Layer for ActivationLayer {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn activation(&self) -> Activation {
        self.activation
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
        self.activation.forward_in_place(self.cols(), output);
        Ok(())
    }

    fn trace(
        &mut self,
        input: &[f32],
        _rows: usize,
        pre_activation: &mut [f32],
        output: &mut [f32],
    ) -> Result<(), ModelError> {
        check_len("input", "rows*features", input, output.len())?;
        check_len("preActivation", "rows*features", pre_activation, output.len())?;
        pre_activation.copy_from_slice(input);
        output.copy_from_slice(input);
        self.activation.forward_in_place(self.cols(), output);
        Ok(())
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        let gradient = pass.output_gradient;
        if !pass.output_is_pre_activation {
            self.activation
                .backward_in_place(self.cols(), pass.output, gradient);
        }
        if let Some(dx) = pass.input_gradient {
            check_len("inputGradient", "rows*features", dx, gradient.len())?;
            dx.copy_from_slice(gradient);
        }
        Ok(())
    }
}
