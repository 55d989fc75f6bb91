//! Max and average pooling over each channel's windows of NHWC data. Padding never takes part:
//! a max is over the window's real elements, and an average divides by their number.

use super::window::{Axis, Padding};
use super::{check_images, image_shape, Backward, Layer, Mode};
use crate::buffer::grow;
use crate::error::{check_len, checked_area};
use crate::gemm::threads::for_each_part;
use crate::isa::multiversion;
use crate::model::ModelError;
use crate::Activation;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reduction {
    Max,
    Average,
}

pub(crate) struct Pool2d {
    reduction: Reduction,
    input: [usize; 3],
    rows_axis: Axis,
    cols_axis: Axis,
    shape: [usize; 3],
    /// Max pooling's last batch: for each output, the batch-relative index of the input it
    /// took (the first maximum in window scan order), where backward sends its gradient.
    winners: Vec<u32>,
}

impl Pool2d {
    pub fn new(
        input_shape: &[usize],
        reduction: Reduction,
        pool: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    ) -> Result<Pool2d, ModelError> {
        let input = image_shape("pooling", input_shape)?;
        let rows_axis = Axis::new(input[0], pool[0], strides[0], padding)?;
        let cols_axis = Axis::new(input[1], pool[1], strides[1], padding)?;
        Ok(Pool2d {
            reduction,
            input,
            rows_axis,
            cols_axis,
            shape: [rows_axis.out, cols_axis.out, input[2]],
            winners: Vec::new(),
        })
    }

    /// Whether the windows tile the input: each element in exactly one window (2x2 windows
    /// with stride 2 on even extents).
    fn tiles(&self) -> bool {
        let [h, w, _] = self.input;
        [(self.rows_axis, h), (self.cols_axis, w)]
            .iter()
            .all(|(axis, extent)| {
                axis.kernel == axis.stride && axis.before == 0 && axis.out * axis.stride == *extent
            })
    }

    /// Samples per part of a batch (see `for_each_part`): enough input for a part to be
    /// worth a thread, few enough that a batch splits evenly. By shape alone, so results
    /// never depend on the thread count.
    fn samples_per_part(&self) -> usize {
        (PART_FLOATS / self.input.iter().product::<usize>().max(1)).max(1)
    }
}

/// Floats of input per part of a batch (256 KiB).
const PART_FLOATS: usize = 1 << 16;

/// Where one output position's window lies: input rows `rows`, columns `cols` (its real
/// elements; padding never takes part).
struct Window {
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
}

impl Window {
    fn count(&self) -> usize {
        self.rows.len() * self.cols.len()
    }
}

/// `(sample, output offset within the part, window)` for every output position of the
/// part's `samples`, in output order. An iterator, not a callback, so that the loops over
/// channels sit in the per-instruction-set bodies below and are compiled for each (a
/// callback's body is one function for all of them, inlined or not as LLVM decides).
#[inline(always)]
fn windows(pool: &Pool2d, samples: usize) -> impl Iterator<Item = (usize, usize, Window)> + '_ {
    let [h, w, c] = pool.input;
    let [out_h, out_w] = [pool.shape[0], pool.shape[1]];
    (0..samples * out_h * out_w).map(move |position| {
        let (n, oy, ox) = (
            position / (out_h * out_w),
            position / out_w % out_h,
            position % out_w,
        );
        let (ky0, ky1, iy0) = pool.rows_axis.span(oy, h);
        let (kx0, kx1, ix0) = pool.cols_axis.span(ox, w);
        let window = Window {
            rows: iy0..iy0 + (ky1 - ky0),
            cols: ix0..ix0 + (kx1 - kx0),
        };
        (n, position * c, window)
    })
}

multiversion! {
    /// Max pooling of one part: `x` its samples, `y` and `winners` their outputs, `base`
    /// the batch offset of `x` (winners are batch-relative). Channels are the inner loop,
    /// with the comparison as a select, so it vectorizes.
    fn max_part(pool: &Pool2d, x: &[f32], y: &mut [f32], winners: &mut [u32], base: usize) {
        let [h, w, c] = pool.input;
        let samples = x.len() / (h * w * c);
        for (n, out, window) in windows(pool, samples) {
            let tap_of = |iy: usize, ix: usize| ((n * h + iy) * w + ix) * c;
            let chunks = y[out..out + c].chunks_mut(MAX_CHUNK).zip(winners[out..out + c].chunks_mut(MAX_CHUNK));
            for ((best, won), start) in chunks.zip((0..c).step_by(MAX_CHUNK)) {
                let whole = <&mut [f32; MAX_CHUNK]>::try_from(&mut *best).ok().zip(<&mut [u32; MAX_CHUNK]>::try_from(&mut *won).ok());
                if let Some((best, won)) = whole {
                    max_over_window(x, &window, tap_of, start, base, best, won);
                } else {
                    // The last channels, fewer than a chunk: one at a time.
                    for (ch, (b, at)) in (start..).zip(best.iter_mut().zip(won)) {
                        max_over_window(x, &window, tap_of, ch, base, std::array::from_mut(b), std::array::from_mut(at));
                    }
                }
            }
        }
    }
}

/// Channels per call of [`max_over_window`]: two AVX2 registers, one AVX-512 register.
const MAX_CHUNK: usize = 16;

/// The maxima over one window of the `N` channels from `start`, and the batch-relative
/// indices of their winners: `tap_of(iy, ix)` is where the window's element at input row
/// `iy`, column `ix` starts. The running maxima stay in local arrays, which live in
/// registers across the taps; updating `y` in memory tap after tap instead compiled to masked
/// stores (`vmaskmovps`), which on AMD's Zen cores are slow and stall the next tap's load of
/// the same floats. Every window holds a real element ('same' pads less than a window); an
/// empty one would still name an element of its sample.
#[inline(always)]
fn max_over_window<const N: usize>(
    x: &[f32],
    window: &Window,
    tap_of: impl Fn(usize, usize) -> usize,
    start: usize,
    base: usize,
    best_out: &mut [f32; N],
    won_out: &mut [u32; N],
) {
    let first = tap_of(window.rows.start, window.cols.start) + start;
    let mut best = [f32::NEG_INFINITY; N];
    let mut won: [u32; N] = std::array::from_fn(|ch| (base + first + ch) as u32);
    for iy in window.rows.clone() {
        for ix in window.cols.clone() {
            let tap = tap_of(iy, ix) + start;
            let index = (base + tap) as u32;
            let values = &x[tap..tap + N];
            // Strictly greater: the first maximum in scan order wins.
            for ch in 0..N {
                let better = values[ch] > best[ch];
                best[ch] = if better { values[ch] } else { best[ch] };
                won[ch] = if better { index + ch as u32 } else { won[ch] };
            }
        }
    }
    *best_out = best;
    *won_out = won;
}

multiversion! {
    /// Max pooling's backward for one part whose windows tile the input (see
    /// [`Pool2d::tiles`]): every input element is written once, the output gradient where
    /// it won and 0 elsewhere, so `dx` needs no clearing first (a pass over memory saved).
    /// `0.0 + g` keeps the bits of adding onto a cleared buffer (a -0.0 gradient lands as 0.0).
    /// With `relu`, a winner whose value `y` is not positive gets 0 as well: relu's backward.
    fn max_backward_tiled(pool: &Pool2d, y: &[f32], dy: &[f32], winners: &[u32], base: usize, relu: bool, dx: &mut [f32]) {
        let [h, w, c] = pool.input;
        let samples = dx.len() / (h * w * c);
        for (n, out, window) in windows(pool, samples) {
            let (y, g, won) = (&y[out..out + c], &dy[out..out + c], &winners[out..out + c]);
            for iy in window.rows {
                for ix in window.cols.clone() {
                    let tap = ((n * h + iy) * w + ix) * c;
                    let index = (base + tap) as u32;
                    let taps = dx[tap..tap + c].iter_mut().zip(y).zip(g).zip(won).enumerate();
                    // Branch-free, the gradient masked by bits: written as `if passes { 0.0 + g }`,
                    // the loads of `y` and `g` would be conditional, and the vector loop would
                    // make them masked loads (`vmaskmovps`), slow on AMD's Zen cores.
                    for (ch, (((d, &y), &g), &at)) in taps {
                        let passes = (at == index + ch as u32) & ((y > 0.0) | !relu);
                        *d = f32::from_bits((0.0 + g).to_bits() & u32::from(passes).wrapping_neg());
                    }
                }
            }
        }
    }
}

multiversion! {
    /// Average pooling of one part: the sum of each window's real elements in scan order,
    /// over their number.
    fn average_part(pool: &Pool2d, x: &[f32], y: &mut [f32]) {
        let [h, w, c] = pool.input;
        let samples = x.len() / (h * w * c);
        for (n, out, window) in windows(pool, samples) {
            let sum = &mut y[out..out + c];
            let count = window.count().max(1) as f32;
            sum.fill(0.0);
            for iy in window.rows {
                for ix in window.cols.clone() {
                    let tap = ((n * h + iy) * w + ix) * c;
                    sum.iter_mut().zip(&x[tap..tap + c]).for_each(|(s, &v)| *s += v);
                }
            }
            sum.iter_mut().for_each(|s| *s /= count);
        }
    }
}

multiversion! {
    /// Average pooling's backward for one part: each output's gradient shared equally by
    /// its window's real elements.
    fn average_backward_part(pool: &Pool2d, dy: &[f32], dx: &mut [f32]) {
        let [h, w, c] = pool.input;
        let samples = dx.len() / (h * w * c);
        dx.fill(0.0);
        for (n, out, window) in windows(pool, samples) {
            let share = 1.0 / window.count().max(1) as f32;
            let g = &dy[out..out + c];
            for iy in window.rows {
                for ix in window.cols.clone() {
                    let tap = ((n * h + iy) * w + ix) * c;
                    dx[tap..tap + c].iter_mut().zip(g).for_each(|(d, &g)| *d += g * share);
                }
            }
        }
    }
}

impl Layer for Pool2d {
    fn output_shape(&self) -> &[usize] {
        &self.shape
    }

    fn absorbs_input_activation(&self, activation: Activation) -> bool {
        self.reduction == Reduction::Max && activation == Activation::Relu
    }

    fn forward(
        &mut self,
        input: &[f32],
        rows: usize,
        output: &mut [f32],
        _mode: &mut Mode<'_>,
    ) -> Result<(), ModelError> {
        check_images("input", input, rows, &self.input)?;
        check_len(
            "output",
            "rows*outputs",
            output,
            checked_area("rows", "rows*outputs", rows, self.shape.iter().product())?,
        )?;
        if u32::try_from(input.len()).is_err() {
            return Err(ModelError::new(
                "rows",
                "a pooling batch must hold fewer than 2^32 floats",
            ));
        }
        let mut winners = std::mem::take(&mut self.winners);
        if self.reduction == Reduction::Max {
            grow("rows", &mut winners, output.len())?;
        }
        let samples = self.samples_per_part();
        let (in_part, out_part) = (
            samples * self.input.iter().product::<usize>(),
            samples * self.output_len(),
        );
        let output_len = output.len();
        let parts = input.chunks(in_part).zip(output.chunks_mut(out_part)).enumerate();
        let this = &*self;
        let result = match self.reduction {
            Reduction::Max => for_each_part(
                parts.zip(winners[..output_len].chunks_mut(out_part)),
                |((p, (x, y)), won)| {
                    max_part(this, x, y, won, p * in_part);
                    Ok::<(), ModelError>(())
                },
            ),
            Reduction::Average => for_each_part(parts, |(_, (x, y))| {
                average_part(this, x, y);
                Ok(())
            }),
        };
        self.winners = winners;
        result
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        let Some(dx) = pass.input_gradient else {
            return Ok(());
        };
        check_images("inputGradient", dx, pass.rows, &self.input)?;
        let dy = &*pass.output_gradient;
        let samples = self.samples_per_part();
        let (in_part, out_part) = (
            samples * self.input.iter().product::<usize>(),
            samples * self.output_len(),
        );
        check_len(
            "outputGradient",
            "rows*outputs",
            dy,
            checked_area("rows", "rows*outputs", pass.rows, self.output_len())?,
        )?;
        let parts = dx.chunks_mut(in_part).zip(dy.chunks(out_part)).enumerate();
        match self.reduction {
            Reduction::Max => {
                let winners = &self.winners[..dy.len().min(self.winners.len())];
                check_len("winners", "rows*outputs", winners, dy.len())?;
                check_len("output", "rows*outputs", pass.output, dy.len())?;
                // Relu's backward, absorbed: a window's value is the input it took, so a
                // gradient passes relu exactly where that value is positive.
                let relu = pass.input_activation == Some(Activation::Relu);
                let tiles = self.tiles();
                let parts = parts
                    .zip(winners.chunks(out_part))
                    .zip(pass.output.chunks(out_part));
                for_each_part(parts, |(((p, (dx, dy)), won), y)| {
                    let base = p * in_part;
                    if tiles {
                        max_backward_tiled(self, y, dy, won, base, relu, dx);
                        return Ok::<(), ModelError>(());
                    }
                    dx.fill(0.0);
                    for ((&g, &at), &y) in dy.iter().zip(won).zip(y) {
                        // Winners lie in their own sample, so in this part; `get_mut` guards anyway.
                        let target = (at as usize).checked_sub(base).and_then(|at| dx.get_mut(at));
                        if let Some(d) = target.filter(|_| y > 0.0 || !relu) {
                            *d += g;
                        }
                    }
                    Ok(())
                })
            }
            Reduction::Average => for_each_part(parts, |(_, (dx, dy))| {
                average_backward_part(self, dy, dx);
                Ok(())
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Rng;

    /// Runs max pooling forward and backward on `rows` samples of `shape`, and checks the
    /// input gradient against the winners: each output's gradient on the element it took.
    fn check_max_backward(shape: [usize; 3], pool: [usize; 2], strides: [usize; 2], padding: Padding) {
        let mut layer = Pool2d::new(&shape, Reduction::Max, pool, strides, padding).unwrap();
        let rows = 3;
        let mut rng = Rng::new(5);
        // Few distinct values, so windows hold ties and the first maximum must win.
        let x: Vec<f32> = (0..rows * shape.iter().product::<usize>())
            .map(|_| (rng.next_u64() % 4) as f32)
            .collect();
        let mut y = vec![0.0; rows * layer.output_len()];
        layer.forward(&x, rows, &mut y, &mut Mode::Inference).unwrap();
        let mut dy = rng.uniform_vec(y.len(), -1.0, 1.0);
        let mut expected = vec![0.0; x.len()];
        for (&g, &at) in dy.iter().zip(&layer.winners) {
            expected[at as usize] += g;
        }
        let mut dx = vec![f32::NAN; x.len()];
        let pass = Backward {
            input: &x,
            output: &y,
            rows,
            output_gradient: &mut dy,
            input_gradient: Some(&mut dx),
            output_is_pre_activation: false,
            input_activation: None,
        };
        layer.backward(pass).unwrap();
        assert_eq!(dx, expected, "{shape:?} {pool:?} {strides:?} {padding:?}");
    }

    /// Max pooling's forward against a direct scan of each window ('valid' padding), with 20
    /// channels: one whole chunk of 16 kept in registers and 4 taken one at a time. Values
    /// repeat, so the first maximum in scan order must win, in the value and in its index.
    #[test]
    fn max_forward_takes_the_first_maximum_in_chunks_and_in_the_rest() {
        let (rows, [h, w, c]) = (2, [5, 6, 20]);
        for (pool, strides) in [([2, 2], [2, 2]), ([3, 2], [1, 2])] {
            let mut layer = Pool2d::new(&[h, w, c], Reduction::Max, pool, strides, Padding::Valid).unwrap();
            let mut rng = Rng::new(9);
            let x: Vec<f32> = (0..rows * h * w * c)
                .map(|_| (rng.next_u64() % 3) as f32)
                .collect();
            let mut y = vec![f32::NAN; rows * layer.output_len()];
            layer.forward(&x, rows, &mut y, &mut Mode::Inference).unwrap();
            let [out_h, out_w] = [(h - pool[0]) / strides[0] + 1, (w - pool[1]) / strides[1] + 1];
            let mut expected = (Vec::new(), Vec::new());
            for n in 0..rows {
                for (oy, ox) in (0..out_h).flat_map(|oy| (0..out_w).map(move |ox| (oy, ox))) {
                    for ch in 0..c {
                        let mut best = (f32::NEG_INFINITY, 0);
                        for iy in oy * strides[0]..oy * strides[0] + pool[0] {
                            for ix in ox * strides[1]..ox * strides[1] + pool[1] {
                                let at = ((n * h + iy) * w + ix) * c + ch;
                                if x[at] > best.0 {
                                    best = (x[at], at as u32);
                                }
                            }
                        }
                        expected.0.push(best.0);
                        expected.1.push(best.1);
                    }
                }
            }
            assert_eq!(y, expected.0, "{pool:?} {strides:?}");
            assert_eq!(layer.winners, expected.1, "{pool:?} {strides:?}");
        }
    }

    #[test]
    fn max_backward_sends_each_gradient_to_its_winner_whether_or_not_windows_tile() {
        // Tiling (written window by window) and not: overlapping, uncovered, padded.
        check_max_backward([4, 6, 3], [2, 2], [2, 2], Padding::Valid);
        check_max_backward([4, 6, 3], [2, 3], [2, 3], Padding::Same);
        check_max_backward([5, 5, 2], [2, 2], [2, 2], Padding::Valid);
        check_max_backward([5, 5, 2], [3, 3], [2, 2], Padding::Same);
    }
}
