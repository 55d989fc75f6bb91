//! A 2-D convolution over NHWC data, weights `[filters][kh][kw][in]`: each filter's row is one
//! NHWC patch, so im2col (one row per output position, columns in `(ky, kx, c)` order) times
//! `W^T` with the one GEMM gives the NHWC output directly, and the same GEMM serves backward.

use super::window::{Axis, Padding};
use super::{check_images, finish_trace, image_shape, Backward, Layer, Mode, Param};
use crate::buffer::{grow, product, MAX_BUFFER_FLOATS};
use crate::error::{check_len, checked_area};
use crate::model::ModelError;
use crate::{column_sums, gemm, Activation};

/// What a convolution is, besides its input shape.
pub(crate) struct Conv2dOptions {
    pub filters: usize,
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    pub activation: Activation,
    pub use_bias: bool,
}

pub(crate) struct Conv2d {
    input: [usize; 3],
    rows_axis: Axis,
    cols_axis: Axis,
    shape: [usize; 3],
    activation: Activation,
    /// `weights`, then `bias` when the layer has one.
    params: Vec<Param>,
    /// The last batch's im2col matrix, `[rows * outH * outW][kh * kw * in]`.
    patches: Vec<f32>,
    /// Its gradient in backward, scattered back onto the input gradient.
    patch_gradient: Vec<f32>,
}

impl Conv2d {
    pub fn new(input_shape: &[usize], options: Conv2dOptions) -> Result<Conv2d, ModelError> {
        let input = image_shape("conv2d", input_shape)?;
        let [kh, kw] = options.kernel;
        let rows_axis = Axis::new(input[0], kh, options.strides[0], options.padding)?;
        let cols_axis = Axis::new(input[1], kw, options.strides[1], options.padding)?;
        if options.filters == 0 {
            return Err(ModelError::new("filters", "expected at least 1 filter, got 0"));
        }
        let patch = product("kernelSize", &[kh, kw, input[2]])?;
        let scratch = product("kernelSize", &[rows_axis.out, cols_axis.out, patch])?;
        if scratch > MAX_BUFFER_FLOATS {
            return Err(ModelError::new(
                "kernelSize",
                format!(
                    "one sample's patches would take {scratch} floats, over the limit of {MAX_BUFFER_FLOATS}"
                ),
            ));
        }
        let mut params = vec![Param::kernel(
            "filters",
            product("filters", &[options.filters, patch])?,
        )?];
        if options.use_bias {
            params.push(Param::trained("filters", options.filters)?);
        }
        Ok(Conv2d {
            input,
            rows_axis,
            cols_axis,
            shape: [rows_axis.out, cols_axis.out, options.filters],
            activation: options.activation,
            params,
            patches: Vec::new(),
            patch_gradient: Vec::new(),
        })
    }

    /// Floats in one patch row: `kh * kw * in`.
    fn patch_len(&self) -> usize {
        self.rows_axis.kernel * self.cols_axis.kernel * self.input[2]
    }

    fn positions_per_sample(&self) -> usize {
        self.shape[0] * self.shape[1]
    }

    /// Fills `patches` with the im2col matrix of `rows` samples; padding reads as 0.
    fn im2col(&self, input: &[f32], patches: &mut [f32]) {
        let [h, w, c] = self.input;
        let (kh, kw, patch_len) = (self.rows_axis.kernel, self.cols_axis.kernel, self.patch_len());
        let sample_len = h * w * c;
        let mut rows = patches.chunks_exact_mut(patch_len);
        for sample in input.chunks_exact(sample_len) {
            for oy in 0..self.shape[0] {
                let (ky0, ky1, iy0) = self.rows_axis.span(oy, h);
                for ox in 0..self.shape[1] {
                    let Some(row) = rows.next() else { return };
                    // Each kernel row reads one contiguous run of the input row it lands on:
                    // copy that run whole, and zero only what falls in the padding.
                    let (kx0, kx1, ix0) = self.cols_axis.span(ox, w);
                    for (ky, segment) in row.chunks_exact_mut(kw * c).enumerate().take(kh) {
                        if ky < ky0 || ky >= ky1 {
                            segment.fill(0.0);
                            continue;
                        }
                        let from = ((iy0 + ky - ky0) * w + ix0) * c;
                        segment[..kx0 * c].fill(0.0);
                        segment[kx0 * c..kx1 * c].copy_from_slice(&sample[from..from + (kx1 - kx0) * c]);
                        segment[kx1 * c..].fill(0.0);
                    }
                }
            }
        }
    }

    /// Adds every patch row's gradient back onto the input positions it was read from (the
    /// adjoint of `im2col`, run for run).
    fn col2im(&self, patch_gradient: &[f32], dx: &mut [f32]) {
        let [h, w, c] = self.input;
        let (kw, patch_len) = (self.cols_axis.kernel, self.patch_len());
        dx.fill(0.0);
        let mut rows = patch_gradient.chunks_exact(patch_len);
        for sample in dx.chunks_exact_mut(h * w * c) {
            for oy in 0..self.shape[0] {
                let (ky0, ky1, iy0) = self.rows_axis.span(oy, h);
                for ox in 0..self.shape[1] {
                    let Some(row) = rows.next() else { return };
                    let (kx0, kx1, ix0) = self.cols_axis.span(ox, w);
                    for ky in ky0..ky1 {
                        let to = ((iy0 + ky - ky0) * w + ix0) * c;
                        let run = &row[(ky * kw + kx0) * c..(ky * kw + kx1) * c];
                        sample[to..to + run.len()]
                            .iter_mut()
                            .zip(run)
                            .for_each(|(d, &g)| *d += g);
                    }
                }
            }
        }
    }
    /// `output = im2col(input) W^T`, no bias or activation; keeps the patches for backward.
    fn convolve(&mut self, input: &[f32], rows: usize, output: &mut [f32]) -> Result<(), ModelError> {
        let (patch_len, filters) = (self.patch_len(), self.shape[2]);
        let positions = checked_area("rows", "rows*positions", rows, self.positions_per_sample())?;
        let patches_len = checked_area("rows", "rows*patches", positions, patch_len)?;
        check_images("input", input, rows, &self.input)?;
        let mut patches = std::mem::take(&mut self.patches);
        grow("rows", &mut patches, patches_len)?;
        self.im2col(input, &mut patches[..patches_len]);
        let result = gemm(
            false,
            true,
            positions,
            filters,
            patch_len,
            1.0,
            &patches[..patches_len],
            &self.params[0].values,
            0.0,
            output,
        );
        self.patches = patches;
        result?;
        Ok(())
    }
}

impl Layer for Conv2d {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn scratch_per_sample(&self) -> usize {
        self.positions_per_sample() * self.patch_len()
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
        let filters = self.shape[2];
        self.convolve(input, rows, output)?;
        match self.params.get(1) {
            Some(bias) => self
                .activation
                .forward_with_bias_in_place(filters, &bias.values, output),
            None => self.activation.forward_in_place(filters, output),
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
        self.convolve(input, rows, pre_activation)?;
        finish_trace(
            self.activation,
            self.shape[2],
            self.params.get(1),
            pre_activation,
            output,
        )
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        let (patch_len, filters) = (self.patch_len(), self.shape[2]);
        let positions = checked_area("rows", "rows*positions", pass.rows, self.positions_per_sample())?;
        let patches_len = checked_area("rows", "rows*patches", positions, patch_len)?;
        let delta = pass.output_gradient;
        if !pass.output_is_pre_activation {
            self.activation.backward_in_place(filters, pass.output, delta);
        }
        let patches = &self.patches[..patches_len.min(self.patches.len())];
        check_len("patches", "positions*patch", patches, patches_len)?;
        let weights = &mut self.params[0];
        gemm(
            true,
            false,
            filters,
            patch_len,
            positions,
            1.0,
            delta,
            patches,
            0.0,
            &mut weights.gradient,
        )?;
        if let Some(bias) = self.params.get_mut(1) {
            column_sums(positions, filters, delta, &mut bias.gradient)?;
        }
        if let Some(dx) = pass.input_gradient {
            check_images("inputGradient", dx, pass.rows, &self.input)?;
            let mut patch_gradient = std::mem::take(&mut self.patch_gradient);
            grow("rows", &mut patch_gradient, patches_len)?;
            let gradient = &mut patch_gradient[..patches_len];
            let result = gemm(
                false,
                false,
                positions,
                patch_len,
                filters,
                1.0,
                delta,
                &self.params[0].values,
                0.0,
                gradient,
            );
            if result.is_ok() {
                self.col2im(gradient, dx);
            }
            self.patch_gradient = patch_gradient;
            result?;
        }
        Ok(())
    }
}
