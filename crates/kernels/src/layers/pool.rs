//! Max and average pooling over each channel's windows of NHWC data. Padding never takes part:
//! a max is over the window's real elements, and an average divides by their number.

use super::window::{Axis, Padding};
use super::{check_images, image_shape, Backward, Layer, Mode};
use crate::buffer::grow;
use crate::error::{check_len, checked_area};
use crate::model::ModelError;

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

    /// Calls `visit(output offset, input offsets of the window's real elements, count)` for
    /// every output position of every sample, channel 0's offsets (channels follow).
    fn windows(&self, rows: usize, mut visit: impl FnMut(usize, &[usize])) {
        let [h, w, c] = self.input;
        let mut taps = Vec::with_capacity(self.rows_axis.kernel * self.cols_axis.kernel);
        let mut out = 0;
        for n in 0..rows {
            for oy in 0..self.shape[0] {
                for ox in 0..self.shape[1] {
                    taps.clear();
                    for (_, iy) in self.rows_axis.taps(oy, h) {
                        taps.extend(
                            self.cols_axis
                                .taps(ox, w)
                                .map(|(_, ix)| ((n * h + iy) * w + ix) * c),
                        );
                    }
                    visit(out, &taps);
                    out += c;
                }
            }
        }
    }
}

impl Layer for Pool2d {
    fn output_shape(&self) -> &[usize] {
        &self.shape
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
        let c = self.input[2];
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
        self.windows(rows, |out, taps| {
            let y = &mut output[out..out + c];
            match self.reduction {
                Reduction::Max => {
                    let won = &mut winners[out..out + c];
                    for ch in 0..c {
                        // Every window holds a real element ('same' pads less than a window); 0 guards anyway.
                        let (mut best, mut at) = (f32::NEG_INFINITY, taps.first().copied().unwrap_or(0) + ch);
                        for &tap in taps {
                            if input[tap + ch] > best {
                                (best, at) = (input[tap + ch], tap + ch);
                            }
                        }
                        y[ch] = best;
                        won[ch] = at as u32;
                    }
                }
                Reduction::Average => {
                    let count = taps.len().max(1) as f32;
                    for ch in 0..c {
                        y[ch] = taps.iter().map(|&tap| input[tap + ch]).sum::<f32>() / count;
                    }
                }
            }
        });
        self.winners = winners;
        Ok(())
    }

    fn backward(&mut self, pass: Backward<'_>) -> Result<(), ModelError> {
        let Some(dx) = pass.input_gradient else {
            return Ok(());
        };
        check_images("inputGradient", dx, pass.rows, &self.input)?;
        let dy = &*pass.output_gradient;
        dx.fill(0.0);
        let c = self.input[2];
        match self.reduction {
            Reduction::Max => {
                let winners = &self.winners[..dy.len().min(self.winners.len())];
                check_len("winners", "rows*outputs", winners, dy.len())?;
                for (&g, &at) in dy.iter().zip(winners) {
                    if let Some(d) = dx.get_mut(at as usize) {
                        *d += g;
                    }
                }
            }
            Reduction::Average => self.windows(pass.rows, |out, taps| {
                let share = 1.0 / taps.len().max(1) as f32;
                for ch in 0..c {
                    let g = dy[out + ch] * share;
                    taps.iter().for_each(|&tap| dx[tap + ch] += g);
                }
            }),
        }
        Ok(())
    }
}
