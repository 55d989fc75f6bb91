//! Where convolution and pooling windows fall along one axis (docs/layers.md, "Windows").

use crate::model::ModelError;
use serde::Deserialize;

/// `Valid`: windows inside the input only. `Same` (TensorFlow's): `ceil(input / stride)`
/// outputs, the padding split with the smaller half before.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    Valid,
    Same,
}

/// One axis of a windowed layer: `out` positions, and `before` padding positions ahead of the
/// input. Output `o` reads input positions `o * stride - before + j` for `j` in `[0, kernel)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Axis {
    pub out: usize,
    pub before: usize,
    pub kernel: usize,
    pub stride: usize,
}

impl Axis {
    pub fn new(extent: usize, kernel: usize, stride: usize, padding: Padding) -> Result<Axis, ModelError> {
        if kernel == 0 || stride == 0 {
            return Err(ModelError::new(
                "layer",
                format!("expected a window and stride of at least 1, got {kernel} and {stride}"),
            ));
        }
        let (out, before) = match padding {
            Padding::Valid if extent < kernel => {
                return Err(ModelError::new(
                    "layer",
                    format!("a window of {kernel} does not fit an input of {extent} without padding"),
                ))
            }
            Padding::Valid => ((extent - kernel) / stride + 1, 0),
            Padding::Same => {
                let out = extent.div_ceil(stride);
                let total = ((out - 1) * stride + kernel).saturating_sub(extent);
                (out, total / 2)
            }
        };
        Ok(Axis {
            out,
            before,
            kernel,
            stride,
        })
    }

    /// The offsets `[first, end)` of window `o` that land inside an input of `extent`, and the
    /// input position of `first` (the offsets between read consecutive positions).
    pub fn span(&self, o: usize, extent: usize) -> (usize, usize, usize) {
        let start = (o * self.stride) as isize - self.before as isize;
        let first = (-start).clamp(0, self.kernel as isize) as usize;
        let end = (extent as isize - start).clamp(first as isize, self.kernel as isize) as usize;
        (first, end, (start + first as isize).max(0) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input positions window `o` covers, as `(window offset j, input position)` pairs,
    /// straight from the definition: the reference for `span`.
    fn taps(axis: &Axis, o: usize, extent: usize) -> Vec<(usize, usize)> {
        let start = (o * axis.stride) as isize - axis.before as isize;
        (0..axis.kernel)
            .filter_map(|j| {
                let position = start + j as isize;
                (position >= 0 && (position as usize) < extent).then_some((j, position as usize))
            })
            .collect()
    }

    #[test]
    fn same_padding_follows_tensorflow() {
        // in 5, k 3, s 2: out 3, total padding (3-1)*2+3-5 = 2, one before.
        assert_eq!(Axis::new(5, 3, 2, Padding::Same).unwrap().out, 3);
        assert_eq!(Axis::new(5, 3, 2, Padding::Same).unwrap().before, 1);
        // in 6, k 3, s 2: out 3, total 1, the smaller half (0) before.
        assert_eq!(Axis::new(6, 3, 2, Padding::Same).unwrap().before, 0);
        // in 4, k 4, s 1: out 4, total 3, 1 before and 2 after.
        assert_eq!(Axis::new(4, 4, 1, Padding::Same).unwrap().before, 1);
        assert_eq!(Axis::new(7, 2, 3, Padding::Valid).unwrap().out, 2);
        assert!(Axis::new(2, 3, 1, Padding::Valid).is_err());
    }

    #[test]
    fn spans_are_the_taps_in_one_range() {
        for (extent, kernel, stride, padding) in [
            (5, 3, 2, Padding::Same),
            (7, 5, 1, Padding::Same),
            (6, 2, 3, Padding::Valid),
            (1, 4, 1, Padding::Same),
        ] {
            let axis = Axis::new(extent, kernel, stride, padding).unwrap();
            for o in 0..axis.out {
                let taps = taps(&axis, o, extent);
                let (first, end, position) = axis.span(o, extent);
                let from_span: Vec<_> = (first..end).map(|j| (j, position + j - first)).collect();
                assert_eq!(
                    taps, from_span,
                    "extent {extent} kernel {kernel} stride {stride} {padding:?} window {o}"
                );
            }
        }
    }

    #[test]
    fn taps_skip_padding() {
        let axis = Axis::new(5, 3, 2, Padding::Same).unwrap();
        assert_eq!(taps(&axis, 0, 5), [(1, 0), (2, 1)]);
        assert_eq!(taps(&axis, 2, 5), [(0, 3), (1, 4)]);
    }
}
