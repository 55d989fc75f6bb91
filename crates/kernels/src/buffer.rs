//! Model buffers whose sizes come from user input: allocated fallibly and capped, so an absurd
//! shape is an error instead of an aborted (or OOM-killed) host process.

use crate::model::ModelError;

/// The most floats one model buffer may hold (1 GiB). Sizes come from user input, and on an
/// overcommitting OS an allocation that "succeeds" can still get the process killed when it
/// is filled, so absurd sizes are refused before any allocation. ferronet is for small and
/// medium networks; the TypeScript layer enforces the same limit with a friendlier message.
pub(crate) const MAX_BUFFER_FLOATS: usize = 1 << 28;

/// A zero-filled buffer, or an error naming `argument` when it is over [`MAX_BUFFER_FLOATS`]
/// or the allocator cannot provide it (a failed allocation would abort the host process).
pub(crate) fn zeroed<T: Copy + Default>(argument: &'static str, len: usize) -> Result<Vec<T>, ModelError> {
    let mut buffer = Vec::new();
    grow(argument, &mut buffer, len)?;
    Ok(buffer)
}

/// Grows `buffer` with zeros to at least `len` elements, failing (not aborting) when memory
/// runs out. Buffers only grow, so a batch size seen once costs no allocation again.
pub(crate) fn grow<T: Copy + Default>(
    argument: &'static str,
    buffer: &mut Vec<T>,
    len: usize,
) -> Result<(), ModelError> {
    if len > MAX_BUFFER_FLOATS {
        return Err(ModelError::new(
            argument,
            format!("a buffer of {len} floats is over the limit of {MAX_BUFFER_FLOATS}"),
        ));
    }
    if buffer.len() < len {
        buffer
            .try_reserve_exact(len - buffer.len())
            .map_err(|_| ModelError::new(argument, format!("cannot allocate {len} floats")))?;
        buffer.resize(len, T::default());
    }
    Ok(())
}

/// `a * b * ...` for a shape, or an error naming `argument` when it overflows.
pub(crate) fn product(argument: &'static str, extents: &[usize]) -> Result<usize, ModelError> {
    extents.iter().try_fold(1usize, |total, &extent| {
        total
            .checked_mul(extent)
            .ok_or_else(|| ModelError::new(argument, format!("the shape {extents:?} is too large")))
    })
}

/// Asks the CPU to start loading `values` into its caches (a hint: x86_64 only).
#[inline(always)]
pub(crate) fn prefetch(values: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in values.chunks(16) {
        // SAFETY: a prefetch reads nothing architecturally, and SSE is baseline on x86_64.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}
