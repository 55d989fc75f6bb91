use std::fmt;

/// A buffer whose length does not match the shape a kernel was given.
///
/// Kernels check lengths only to protect memory: shapes and values are validated once, at the
/// public TypeScript boundary. The bindings turn this into a thrown `RangeError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// The argument's name as the bindings spell it, e.g. `"a"` or `"gradient"`.
    pub argument: &'static str,
    /// How the expected length follows from the shape, e.g. `"m*k"`.
    pub rule: &'static str,
    pub expected: usize,
    pub actual: usize,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.expected == usize::MAX {
            return write!(f, "{}: the shape {} is too large", self.argument, self.rule);
        }
        write!(
            f,
            "{}: expected length {} ({}), got {}",
            self.argument, self.expected, self.rule, self.actual
        )
    }
}

impl std::error::Error for ShapeError {}

/// Checks that `slice` holds exactly `expected` elements.
pub(crate) fn check_len<T>(
    argument: &'static str,
    rule: &'static str,
    slice: &[T],
    expected: usize,
) -> Result<(), ShapeError> {
    if slice.len() == expected {
        Ok(())
    } else {
        Err(ShapeError {
            argument,
            rule,
            expected,
            actual: slice.len(),
        })
    }
}

/// Checks that `slice` holds `rows` rows of `width`, the product itself checked for overflow,
/// both errors naming `argument` with `rule`.
pub(crate) fn check_rows<T>(
    argument: &'static str,
    rule: &'static str,
    slice: &[T],
    rows: usize,
    width: usize,
) -> Result<(), ShapeError> {
    check_len(argument, rule, slice, checked_area(argument, rule, rows, width)?)
}

/// `a * b`, or an error naming `argument` when the product does not fit in `usize`
/// (a shape that large can never match a real buffer). Reported with `expected: usize::MAX`.
pub(crate) fn checked_area(
    argument: &'static str,
    rule: &'static str,
    a: usize,
    b: usize,
) -> Result<usize, ShapeError> {
    a.checked_mul(b).ok_or(ShapeError {
        argument,
        rule,
        expected: usize::MAX,
        actual: 0,
    })
}
