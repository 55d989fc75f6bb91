//! A fully connected layer: `y = f(x W^T + b)`, weights `[units][inputs]` like a PyTorch
//! `Linear`, the bias added in the same pass as the activation.
//!
//! A layer whose inputs and units both fit [`columns::MAX_WIDTH`] computes with its samples
//! along the SIMD lanes instead (see `columns.rs`): the GEMM's rows of C would be a few floats
//! wide, and it would run one sample at a time. Two such layers in a row hand the activations
//! between them on as columns, untransposed (see [`Layer::link_columns`]).

use super::{finish_trace, Backward, ColumnLink, Layer, Mode, Param};
use crate::buffer::grow;
use crate::columns::{self, dot, from_columns, to_columns, weighted_sum};
use crate::error::{check_len, check_rows, checked_area};
use crate::model::ModelError;
use crate::{column_sums, gemm, Activation};

pub(crate) struct Dense {
    inputs: usize,
    shape: [usize; 1],
    activation: Activation,
    /// `weights`, then `bias` when the layer has one.
    params: Vec<Param>,
    /// A narrow layer's matrices as columns, `[width][rows]`: its input (then its input
    /// gradient), then its outputs' gradient. Grows with the batch size, never shrinks.
    columns: Vec<f32>,
    /// How the forward and backward passes exchange activations with the neighbours: rows,
    /// or columns with a narrow layer on that side. Traces always go by rows.
    links: Links,
}

/// Which sides of a narrow layer pass columns `[width][rows]` instead of rows: its input (and
/// so its input gradient) and its output (and so its output gradient).
#[derive(Clone, Copy, Default)]
struct Links {
    input: bool,
    output: bool,
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
            columns: Vec::new(),
            links: Links::default(),
        })
    }

    fn units(&self) -> usize {
        self.shape[0]
    }

    /// Whether the layer computes with its samples along the lanes (see the module comment).
    fn is_narrow(&self) -> bool {
        self.inputs <= columns::MAX_WIDTH && self.units() <= columns::MAX_WIDTH
    }

    /// A narrow layer's `out = input W^T + b`, laid out as `links` says (rows `[rows][units]`
    /// unless the output is linked): the product and the bias, before the activation, as the
    /// GEMM and the bias pass would compute them bit for bit (without a bias nothing is added,
    /// not even a zero, which would turn -0 into +0).
    fn narrow_pre_activate(
        &mut self,
        input: &[f32],
        rows: usize,
        out: &mut [f32],
        links: Links,
    ) -> Result<(), ModelError> {
        let (inputs, units) = (self.inputs, self.units());
        check_rows("input", "rows*inputs", input, rows, inputs)?;
        check_rows("output", "rows*units", out, rows, units)?;
        if rows == 0 {
            return Ok(());
        }
        let Dense { params, columns, .. } = self;
        let (input_columns, output_columns) = column_blocks(columns, rows, inputs, units)?;
        let input_columns: &[f32] = if links.input {
            input
        } else {
            to_columns(inputs, input, input_columns);
            input_columns
        };
        let bias = params.get(1).map(|bias| &bias.values[..]);
        let weights = params[0].values.chunks_exact(inputs);
        // One unit's outputs are already a column.
        let direct = links.output || units == 1;
        let target = if direct { &mut *out } else { &mut *output_columns };
        for (u, (column, weights)) in target.chunks_exact_mut(rows).zip(weights).enumerate() {
            weighted_sum(input_columns, weights, bias.map(|bias| bias[u]), column);
        }
        if !direct {
            from_columns(units, output_columns, out);
        }
        Ok(())
    }

    /// A narrow layer's parameter gradients and input gradient from `delta`, the gradient with
    /// respect to its pre-activation (laid out as its output): `dW = delta^T x`, `db` its
    /// column sums (in f64, as `column_sums`), `dx = delta W` (laid out as its input), each
    /// along the samples. An unlinked input's columns are those the forward pass of the same
    /// batch wrote (as [`Layer::backward`] follows it), so `input` is then only checked.
    fn narrow_backward(
        &mut self,
        rows: usize,
        input: &[f32],
        delta: &[f32],
        input_gradient: Option<&mut [f32]>,
    ) -> Result<(), ModelError> {
        let (inputs, units, links) = (self.inputs, self.units(), self.links);
        check_rows("input", "rows*inputs", input, rows, inputs)?;
        check_rows("outputGradient", "rows*units", delta, rows, units)?;
        let Dense { params, columns, .. } = self;
        if rows == 0 {
            params.iter_mut().for_each(|param| param.gradient.fill(0.0));
            return Ok(());
        }
        let (scratch_inputs, scratch_delta) = column_blocks(columns, rows, inputs, units)?;
        let input_columns: &[f32] = if links.input { input } else { scratch_inputs };
        // One unit's gradient is already a column.
        let delta_columns: &[f32] = if links.output || units == 1 {
            delta
        } else {
            to_columns(units, delta, scratch_delta);
            scratch_delta
        };
        let (weights, bias) = match params.split_first_mut() {
            Some((weights, rest)) => (weights, rest.first_mut()),
            None => return Ok(()),
        };
        let pairs = weights
            .gradient
            .chunks_exact_mut(inputs)
            .zip(delta_columns.chunks_exact(rows));
        for (gradient_row, delta_column) in pairs {
            for (g, input_column) in gradient_row.iter_mut().zip(input_columns.chunks_exact(rows)) {
                *g = dot(delta_column, input_column);
            }
        }
        if let Some(bias) = bias {
            for (g, delta_column) in bias.gradient.iter_mut().zip(delta_columns.chunks_exact(rows)) {
                *g = columns::sum(delta_column);
            }
        }
        if let Some(dx) = input_gradient {
            check_len("inputGradient", "rows*inputs", dx, input.len())?;
            // dx[.][i] = delta . W[.][i]: straight into a linked dx, else into the input's
            // columns, which are spent, and then into dx's rows.
            let dx_columns = if links.input {
                &mut *dx
            } else {
                &mut *scratch_inputs
            };
            let mut weight_column = [0.0f32; columns::MAX_WIDTH];
            for (i, dx_column) in dx_columns.chunks_exact_mut(rows).enumerate() {
                let column_weights = weights.values.iter().skip(i).step_by(inputs);
                for (w, &value) in weight_column.iter_mut().zip(column_weights) {
                    *w = value;
                }
                weighted_sum(delta_columns, &weight_column[..units], None, dx_column);
            }
            if !links.input {
                from_columns(inputs, scratch_inputs, dx);
            }
        }
        Ok(())
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

/// The two blocks of a narrow layer's scratch columns for `rows` samples (`inputs` columns,
/// then `units` columns), grown to fit.
fn column_blocks(
    columns: &mut Vec<f32>,
    rows: usize,
    inputs: usize,
    units: usize,
) -> Result<(&mut [f32], &mut [f32]), ModelError> {
    let len = checked_area("rows", "rows*(inputs+units)", rows, inputs + units)?;
    grow("rows", columns, len)?;
    let (input_columns, rest) = columns.split_at_mut(inputs * rows);
    Ok((input_columns, &mut rest[..units * rows]))
}

impl Layer for Dense {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn activation(&self) -> Activation {
        self.activation
    }

    fn computes_in_columns(&self) -> bool {
        self.is_narrow()
    }

    fn link_columns(&mut self, side: ColumnLink) {
        match side {
            ColumnLink::Input => self.links.input = true,
            ColumnLink::Output => self.links.output = true,
        }
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
        if self.is_narrow() {
            self.narrow_pre_activate(input, rows, output, self.links)?;
            self.activation.forward_in_place(units, output);
            return Ok(());
        }
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
        if self.is_narrow() {
            self.narrow_pre_activate(input, rows, pre_activation, Links::default())?;
            return finish_trace(self.activation, self.units(), None, pre_activation, output);
        }
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
        if self.is_narrow() {
            return self.narrow_backward(rows, pass.input, delta, pass.input_gradient);
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
