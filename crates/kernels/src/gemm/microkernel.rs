/// The largest `MR * NR` tile any kernel may declare: the driver computes partial (edge) tiles
/// in a stack buffer of this size.
pub(crate) const MAX_TILE: usize = 512;

/// A register-blocked GEMM microkernel for one instruction set.
///
/// The blocked driver in `gemm/driver.rs` packs panels of A and B and calls `kernel` once per
/// `MR x NR` tile of C. Adding an instruction set means one zero-sized type implementing this
/// trait, in its own file, plus a variant in `detect.rs`, an arm in `gemm`'s dispatch and a
/// line in the test macro.
pub(crate) trait Microkernel {
    /// Rows of C per tile (height of a packed A panel).
    const MR: usize;
    /// Columns of C per tile (width of a packed B panel).
    const NR: usize;
    /// Rows of A packed per block: MC x KC floats of A should sit in L2. A multiple of MR.
    const MC: usize;
    /// Depth of a block: a KC x NR sliver of B should sit in L1.
    const KC: usize;
    /// Columns of B packed per block: KC x NC floats of B should sit in L3 (or a large L2).
    /// A multiple of NR.
    const NC: usize;

    /// Evaluated by the driver, so a kernel with impossible sizes does not compile.
    const SIZES_OK: () = assert!(
        Self::MR * Self::NR <= MAX_TILE
            && Self::MC % Self::MR == 0
            && Self::NC % Self::NR == 0
            && Self::KC > 0
            && Self::MC > 0
    );

    /// Computes `C = alpha * A_panel * B_panel + beta * C` for one `MR x NR` tile.
    ///
    /// # Safety
    /// - `a` points to `k * MR` floats: column `p` of the panel is `a[p*MR .. p*MR + MR]`.
    /// - `b` points to `k * NR` floats: row `p` of the panel is `b[p*NR .. p*NR + NR]`.
    /// - `c` points to an `MR x NR` tile with row stride `rsc` and column stride 1, valid for
    ///   reads and writes.
    /// - When `beta == 0`, C must be written without being read (it may hold NaN or garbage).
    /// - The CPU supports the instruction set the implementation is compiled for.
    unsafe fn kernel(k: usize, alpha: f32, a: *const f32, b: *const f32, beta: f32, c: *mut f32, rsc: usize);
}
