//! A fully connected layer: `y = f(x W^T + b)`, weights `[units][inputs]` like a PyTorch
//! `Linear`, the bias added in the same pass as the activation.

use super::{finish_trace, Backward, Layer, Mode, Param};
use crate::error::checked_area;
use crate::model::ModelError;
use crate::{column_sums, gemm, Activation};

pub(crate) struct Dense {
    inputs: usize,
    shape: [usize; 1],
    activation: Activation,
    /// `weights`, then `bias` when the layer has one.
    params: Vec<Param>,
}

impl Dense {
    pub fn new(
        input_shape: &[usize],
        units: usize,
        activation: Activation,
        use_bias: bool,
    ) -> Result<Dense, ModelError> {
        let &[inputs] = input_shape else {
            return Err(ModelError::new(
                "layer",
                format!("dense expected a flat input shape [features], got {input_shape:?}"),
            ));
        };
        if units == 0 || inputs == 0 {
            return Err(ModelError::new(
                "units",
                "expected at least 1 unit and 1 input, got 0",
            ));
        }
        let mut params = vec![Param::kernel(
            "units",
            checked_area("units", "units*inputs", units, inputs)?,
        )?];
        if use_bias {
            params.push(Param::trained("units", units)?);
        }
        Ok(Dense {
            inputs,
            shape: [units],
            activation,
            params,
        })
    }

    fn units(&self) -> usize {
        self.shape[0]
    }

    /// `out = input W^T`, `[rows][units]`: the product before the bias and the activation.
    fn multiply(&self, input: &[f32], rows: usize, out: &mut [f32]) -> Result<(), ModelError> {
        let weights = &self.params[0].values;
        Ok(gemm(
            false,
            true,
            rows,
            self.units(),
            self.inputs,
            1.0,
            input,
            weights,
            0.0,
            out,
        )?)
    }
}

impl Layer for Dense {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn activation(&self) -> Activation {
        self.activation
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
        rows: usize,
        output: &mut [f32],
        _mode: &mut Mode<'_>,
    ) -> Result<(), ModelError> {
        let units = self.units();
        self.multiply(input, rows, output)?;
        match self.params.get(1) {
            Some(bias) => self
                .activation
                .forward_with_bias_in_place(units, &bias.values, output),
            None => self.activation.forward_in_place(units, output),
        }
        Ok(())
    }

    fn trace(
        &mut self,
        input: &[f32],
        rows: usize,
        pre_activation: &mut [f32],
        output: &mut [f32],
    ) -> Result<(), ModelError> {
        self.multiply(input, rows, pre_activation)?;
        finish_trace(
            self.activation,
            self.units(),
            self.params.get(1),
            pre_activation,
            output,
        )
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        let (units, inputs, rows) = (self.units(), self.inputs, pass.rows);
        let delta = pass.output_gradient;
        if !pass.output_is_pre_activation {
            self.activation.backward_in_place(units, pass.output, delta);
        }
        // dW = delta^T x and db = column sums of delta (delta already carries the 1/rows).
        let weights = &mut self.params[0];
        gemm(
            true,
            false,
            units,
            inputs,
            rows,
            1.0,
            delta,
            pass.input,
            0.0,
            &mut weights.gradient,
        )?;
        if let Some(bias) = self.params.get_mut(1) {
            column_sums(rows, units, delta, &mut bias.gradient)?;
        }
        if let Some(dx) = pass.input_gradient {
            gemm(
                false,
                false,
                rows,
                inputs,
                units,
                1.0,
                delta,
                &self.params[0].values,
                0.0,
                dx,
            )?;
        }
        Ok(())
    }
}
