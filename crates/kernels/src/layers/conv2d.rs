//! A 2-D convolution over NHWC data, weights `[filters][kh][kw][in]`: each filter's row is one
//! NHWC patch, so im2col (one row per output position, columns in `(ky, kx, c)` order) times
//! `W^T` with the one GEMM gives the NHWC output directly, and the same GEMM serves backward.

use std::cell::Cell;

use super::window::{Axis, Padding};
use super::{check_images, finish_trace, image_shape, Backward, Layer, Mode, Param};
use crate::buffer::{grow, product, MAX_BUFFER_FLOATS};
use crate::error::{check_len, checked_area};
use crate::gemm::threads::for_each_part;
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
    /// The weights transposed, `[patch][filters]`, refreshed by every forward pass: B of the
    /// forward product stored row by row, which packing copies instead of gathering it
    /// column by column.
    weights_t: Vec<f32>,
    /// The patches of the last training forward pass, kept for backward when they take no
    /// more room than the layer's outputs (see [`Conv2d::keeps_patches`]).
    kept: Vec<f32>,
    /// How many samples `kept` holds patches of; `None` once another pass has run.
    kept_rows: Option<usize>,
    /// Backward's per-part gradients: each part's weight gradient (`[filters][patch]`, or
    /// `[patch][filters]` when [`Conv2d::gradient_is_transposed`]), then its bias gradient.
    partials: Vec<f32>,
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
            weights_t: Vec::new(),
            kept: Vec::new(),
            kept_rows: None,
            partials: Vec::new(),
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

    /// Samples per part of a batch: as many as keep one part's patches (and its inputs and
    /// outputs) within [`PART_FLOATS`] each, so they stay in this core's cache from im2col
    /// to the last product that reads them. By shape alone, so results never depend on
    /// the thread count.
    fn samples_per_part(&self) -> usize {
        let input = self.input.iter().product::<usize>();
        let widest = self.scratch_per_sample().max(self.output_len()).max(input);
        (PART_FLOATS / widest.max(1)).max(1)
    }

    /// Whether a training pass keeps its patches for backward: when a position's patch is no
    /// longer than its output (a first layer on one channel: 9 floats against 32), keeping
    /// them costs less memory than the outputs do, and reading them back is cheaper than
    /// building them again run by run.
    fn keeps_patches(&self) -> bool {
        self.patch_len() <= self.shape[2]
    }

    /// Refreshes [`Conv2d::weights_t`] from the weights.
    fn transpose_weights(&mut self) -> Result<(), ModelError> {
        let (patch_len, filters) = (self.patch_len(), self.shape[2]);
        grow("filters", &mut self.weights_t, patch_len * filters)?;
        for (f, row) in self.params[0].values.chunks_exact(patch_len).enumerate() {
            for (p, &value) in row.iter().enumerate() {
                self.weights_t[p * filters + f] = value;
            }
        }
        Ok(())
    }

    /// `output = im2col(input) W^T`, then `finish` on each part's rows while they are in
    /// cache; the parts (see [`Conv2d::samples_per_part`]) may run on several threads.
    /// Expects [`Conv2d::weights_t`] fresh. With `keep`, the patches are written there (a
    /// whole batch's) instead of to a part's scratch buffer.
    fn convolve(
        &self,
        input: &[f32],
        rows: usize,
        output: &mut [f32],
        keep: Option<&mut [f32]>,
        finish: impl Fn(&mut [f32]) + Send + Sync,
    ) -> Result<(), ModelError> {
        let (patch_len, filters) = (self.patch_len(), self.shape[2]);
        let (in_len, out_len) = (self.input.iter().product::<usize>(), self.output_len());
        check_images("input", input, rows, &self.input)?;
        check_len(
            "output",
            "rows*outputs",
            output,
            checked_area("rows", "rows*outputs", rows, out_len)?,
        )?;
        let weights_t = &self.weights_t[..patch_len * filters];
        let samples = self.samples_per_part();
        let part_patches = samples * self.positions_per_sample() * patch_len;
        let mut kept = keep.into_iter().flat_map(|kept| kept.chunks_mut(part_patches));
        let parts = input
            .chunks(samples * in_len)
            .zip(output.chunks_mut(samples * out_len))
            .map(|(x, y)| (x, y, kept.next()));
        for_each_part(parts, |(x, y, kept)| {
            let positions = y.len() / filters;
            let mut product = |patches: &mut [f32]| -> Result<(), ModelError> {
                self.im2col(x, patches);
                gemm(
                    false, false, positions, filters, patch_len, 1.0, patches, weights_t, 0.0, y,
                )?;
                finish(y);
                Ok(())
            };
            match kept {
                Some(patches) => product(patches),
                None => with_patches(positions * patch_len, product),
            }
        })
    }

    /// Whether a part's weight gradient is computed transposed, `[patch][filters]`: the
    /// larger of the two extents goes along the microkernel tile's wider side (its columns),
    /// where a partial tile wastes the least (a 3x3 filter of one channel is 9 floats wide).
    fn gradient_is_transposed(&self) -> bool {
        self.patch_len() < self.shape[2]
    }

    /// Sums the parts' weight and bias gradients into the parameters' gradients, in part
    /// order (a fixed order, whatever thread computed each part).
    fn reduce_gradients(&mut self, parts: usize) {
        let (patch_len, filters) = (self.patch_len(), self.shape[2]);
        let weights_len = patch_len * filters;
        let part_len = weights_len + filters;
        let transposed = self.gradient_is_transposed();
        let partials = &mut self.partials[..parts * part_len];
        let Some((first, rest)) = partials.split_at_mut_checked(part_len) else {
            // No samples: nothing to sum.
            self.params.iter_mut().for_each(|param| param.gradient.fill(0.0));
            return;
        };
        for part in rest.chunks_exact(part_len) {
            first[..weights_len]
                .iter_mut()
                .zip(&part[..weights_len])
                .for_each(|(sum, &g)| *sum += g);
        }
        let weights = &mut self.params[0].gradient;
        if transposed {
            for (p, row) in first[..weights_len].chunks_exact(filters).enumerate() {
                for (f, &g) in row.iter().enumerate() {
                    weights[f * patch_len + p] = g;
                }
            }
        } else {
            weights.copy_from_slice(&first[..weights_len]);
        }
        if let Some(bias) = self.params.get_mut(1) {
            // Each part's sums were accumulated in f64; so is their total.
            for (f, sum) in bias.gradient.iter_mut().enumerate() {
                let total: f64 = partials
                    .chunks_exact(part_len)
                    .map(|part| f64::from(part[weights_len + f]))
                    .sum();
                *sum = total as f32;
            }
        }
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
        mode: &mut Mode<'_>,
    ) -> Result<(), ModelError> {
        self.transpose_weights()?;
        let (filters, activation) = (self.shape[2], self.activation);
        let keep = matches!(mode, Mode::Training(_)) && self.keeps_patches();
        self.kept_rows = None;
        let len = checked_area("rows", "rows*patches", rows, self.scratch_per_sample())?;
        if keep {
            grow("rows", &mut self.kept, len)?;
        }
        let mut kept = std::mem::take(&mut self.kept);
        let keep_in = kept.get_mut(..len).filter(|_| keep);
        let result = match self.params.get(1) {
            Some(bias) => self.convolve(input, rows, output, keep_in, |y| {
                activation.forward_with_bias_in_place(filters, &bias.values, y)
            }),
            None => self.convolve(input, rows, output, keep_in, |y| {
                activation.forward_in_place(filters, y)
            }),
        };
        self.kept = kept;
        if keep && result.is_ok() {
            self.kept_rows = Some(rows);
        }
        result
    }

    fn trace(
        &mut self,
        input: &[f32],
        rows: usize,
        pre_activation: &mut [f32],
        output: &mut [f32],
    ) -> Result<(), ModelError> {
        self.transpose_weights()?;
        self.kept_rows = None;
        self.convolve(input, rows, pre_activation, None, |_| {})?;
        finish_trace(
            self.activation,
            self.shape[2],
            self.params.get(1),
            pre_activation,
            output,
        )
    }

    /// Part by part (see [`Conv2d::samples_per_part`]): the activation's backward, the
    /// patches again (cheaper than keeping a whole batch's, which leave the cache, unless
    /// they are small: see [`Conv2d::keeps_patches`]), the part's weight and bias gradients
    /// into its own partial sums, and its input gradient.
    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        let (patch_len, filters, rows) = (self.patch_len(), self.shape[2], pass.rows);
        let (in_len, out_len) = (self.input.iter().product::<usize>(), self.output_len());
        let outputs = checked_area("rows", "rows*outputs", rows, out_len)?;
        check_images("input", pass.input, rows, &self.input)?;
        check_len("output", "rows*outputs", pass.output, outputs)?;
        check_len("outputGradient", "rows*outputs", pass.output_gradient, outputs)?;
        if let Some(dx) = &pass.input_gradient {
            check_images("inputGradient", dx, rows, &self.input)?;
        }
        let samples = self.samples_per_part();
        let parts = rows.div_ceil(samples);
        let weights_len = patch_len * filters;
        let part_len = weights_len + filters;
        let mut partials = std::mem::take(&mut self.partials);
        grow(
            "rows",
            &mut partials,
            checked_area("rows", "parts*weights", parts, part_len)?,
        )?;
        let transposed = self.gradient_is_transposed();
        let (activation, fused) = (self.activation, pass.output_is_pre_activation);
        let has_bias = self.params.len() > 1;
        let mut input_gradients = pass
            .input_gradient
            .into_iter()
            .flat_map(|dx| dx.chunks_mut(samples * in_len));
        let part_patches = samples * self.positions_per_sample() * patch_len;
        let kept_len = checked_area("rows", "rows*patches", rows, self.scratch_per_sample())?;
        let kept = self.kept.get(..kept_len).filter(|_| self.kept_rows == Some(rows));
        let mut kept = kept.into_iter().flat_map(|kept| kept.chunks(part_patches));
        let items = pass
            .input
            .chunks(samples * in_len)
            .zip(pass.output.chunks(samples * out_len))
            .zip(pass.output_gradient.chunks_mut(samples * out_len))
            .zip(partials.chunks_exact_mut(part_len))
            .map(|(((x, y), delta), partial)| (x, y, delta, partial, input_gradients.next(), kept.next()));
        let this = &*self;
        let result = for_each_part(items, |(x, y, delta, partial, dx, kept)| {
            let positions = delta.len() / filters;
            if !fused {
                activation.backward_in_place(filters, y, delta);
            }
            let (weights, bias) = partial.split_at_mut(weights_len);
            if has_bias {
                column_sums(positions, filters, delta, bias)?;
            }
            let mut weight_gradient = |patches: &[f32]| -> Result<(), ModelError> {
                if transposed {
                    gemm(
                        true, false, patch_len, filters, positions, 1.0, patches, delta, 0.0, weights,
                    )?;
                } else {
                    gemm(
                        true, false, filters, patch_len, positions, 1.0, delta, patches, 0.0, weights,
                    )?;
                }
                Ok(())
            };
            match kept {
                Some(patches) => weight_gradient(patches)?,
                None => with_patches(positions * patch_len, |patches| {
                    this.im2col(x, patches);
                    weight_gradient(patches)
                })?,
            }
            let Some(dx) = dx else { return Ok(()) };
            with_patches(positions * patch_len, |gradient| {
                let values = &this.params[0].values;
                gemm(
                    false, false, positions, patch_len, filters, 1.0, delta, values, 0.0, gradient,
                )?;
                this.col2im(gradient, dx);
                Ok(())
            })
        });
        self.partials = partials;
        result?;
        self.reduce_gradients(parts);
        Ok(())
    }
}

/// Floats of patches one part of a batch may hold (512 KiB): written by im2col, read by the
/// products and overwritten by their gradient while they stay in a core's L2.
const PART_FLOATS: usize = 1 << 17;

thread_local! {
    /// This thread's patches buffer, reused by every part it computes. A cache, not state:
    /// a part takes it out, overwrites what it reads, and puts it back.
    static PATCHES: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on `len` floats of this thread's patches buffer (contents unspecified).
fn with_patches(len: usize, f: impl FnOnce(&mut [f32]) -> Result<(), ModelError>) -> Result<(), ModelError> {
    // During thread teardown the key may be gone: a private buffer does as well.
    let mut buffer = PATCHES.try_with(Cell::take).unwrap_or_default();
    let result = grow("rows", &mut buffer, len).and_then(|()| f(&mut buffer[..len]));
    // Ignoring the teardown case again: the buffer is then simply dropped.
    let _ = PATCHES.try_with(|cell| cell.set(buffer));
    result
}

#[cfg(test)]
mod tests {
    use crate::test_util::Rng;
    use crate::{LayerConfig, Loss, Model, Padding};

    /// Two 3x3 convolutions of 16 filters on images of `shape`, both cut into parts for 13
    /// samples: on 12x12x16, 20,736 floats of patches per sample make parts of 6 samples
    /// (three parts, the last of one); on 40x40x1 the first layer keeps its patches (9
    /// floats a position against 16 outputs) and its 25,600 outputs a sample make parts of 5.
    const SHAPES: [[usize; 3]; 2] = [[12, 12, 16], [40, 40, 1]];

    fn two_convolutions(rng: &mut Rng, shape: [usize; 3]) -> Model {
        let mut model = Model::new(&shape).unwrap();
        for activation in ["relu", "linear"] {
            let layer = LayerConfig::Conv2d {
                filters: 16,
                kernel_size: [3, 3],
                strides: [1, 1],
                padding: Padding::Same,
                activation: activation.to_owned(),
                alpha: 0.0,
                use_bias: true,
            };
            model.add_layer(&layer).unwrap();
        }
        for index in 0..model.parameter_count() {
            let len = model.parameter(index).unwrap().len();
            model
                .set_parameter(index, &rng.uniform_vec(len, -0.2, 0.2))
                .unwrap();
        }
        model
    }

    fn gradients(model: &mut Model, x: &[f32], y: &[f32], rows: usize) -> Vec<f32> {
        let mut out = vec![0.0; model.gradient_len()];
        model
            .gradients(Loss::MeanSquaredError, x, y, rows, [1, 2, 3, 4], &mut out)
            .unwrap();
        out
    }

    #[test]
    fn a_batch_in_parts_has_the_mean_gradient_of_its_samples() {
        SHAPES.into_iter().for_each(mean_gradient_of_samples);
    }

    fn mean_gradient_of_samples(shape: [usize; 3]) {
        let mut rng = Rng::new(41);
        let mut model = two_convolutions(&mut rng, shape);
        let rows = 13;
        let (inputs, outputs) = (model.inputs(), model.outputs());
        let x = rng.uniform_vec(rows * inputs, -1.0, 1.0);
        let y = rng.uniform_vec(rows * outputs, -1.0, 1.0);
        let whole = gradients(&mut model, &x, &y, rows);
        let mut mean = vec![0.0f64; whole.len()];
        for s in 0..rows {
            let one = gradients(
                &mut model,
                &x[s * inputs..][..inputs],
                &y[s * outputs..][..outputs],
                1,
            );
            mean.iter_mut()
                .zip(&one)
                .for_each(|(m, &g)| *m += f64::from(g) / rows as f64);
        }
        let largest = mean.iter().fold(0.0f64, |acc, m| acc.max(m.abs()));
        for (i, (&got, &expected)) in whole.iter().zip(&mean).enumerate() {
            assert!(
                (f64::from(got) - expected).abs() <= 1e-5 * largest,
                "{shape:?} gradient {i}: {got} vs {expected}"
            );
        }
    }

    /// Parts are cut by shape, never by the pool: any pool size gives the same bits.
    #[cfg(feature = "threads")]
    #[test]
    fn outputs_and_gradients_are_bit_identical_across_pool_sizes() {
        SHAPES.into_iter().for_each(bit_identical_across_pool_sizes);
    }

    #[cfg(feature = "threads")]
    fn bit_identical_across_pool_sizes(shape: [usize; 3]) {
        let mut rng = Rng::new(43);
        let mut model = two_convolutions(&mut rng, shape);
        let rows = 13;
        let x = rng.uniform_vec(rows * model.inputs(), -1.0, 1.0);
        let y = rng.uniform_vec(rows * model.outputs(), -1.0, 1.0);
        let mut run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut predictions = vec![0.0; rows * model.outputs()];
                model.predict(&x, rows, &mut predictions).unwrap();
                let mut bits: Vec<u32> = predictions.iter().map(|v| v.to_bits()).collect();
                bits.extend(gradients(&mut model, &x, &y, rows).iter().map(|v| v.to_bits()));
                bits
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            assert!(
                run(threads) == one,
                "{shape:?}: {threads} threads differ from one"
            );
        }
    }
}
