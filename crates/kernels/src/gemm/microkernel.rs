/// The largest `MR * NR` tile any kernel may declare: the driver computes partial (edge) tiles
/// in a stack buffer of this size.
pub(crate) const MAX_TILE: usize = 512;

/// The tallest tile any kernel may declare: [`tile_rows`] has a copy for each height below it.
pub(crate) const MAX_MR: usize = 14;

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
            && Self::MR <= MAX_MR
            && Self::MC % Self::MR == 0
            && Self::NC % Self::NR == 0
            && Self::KC > 0
            && Self::MC > 0
    );

    /// Computes `C = alpha * A_panel * B_panel + beta * C` for the first `rows` rows
    /// (1 to MR) of one `MR x NR` tile: a tile cut short by the bottom of C costs its rows
    /// alone, and each element goes through the same multiply-adds in the same order
    /// whatever `rows` is (see [`tile_rows`]).
    ///
    /// # Safety
    /// - `a` points to `k * MR` floats: column `p` of the panel is `a[p*MR .. p*MR + MR]`.
    /// - `b` points to `k * NR` floats: row `p` of the panel is `b[p*NR .. p*NR + NR]`.
    /// - `c` points to a `rows x NR` tile with row stride `rsc` and column stride 1, valid for
    ///   reads and writes.
    /// - When `beta == 0`, C must be written without being read (it may hold NaN or garbage).
    /// - The CPU supports the instruction set the implementation is compiled for.
    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel(
        rows: usize,
        k: usize,
        alpha: f32,
        a: *const f32,
        b: *const f32,
        beta: f32,
        c: *mut f32,
        rsc: usize,
    );

    /// The step of packing an operand whose rows run along the depth (A as stored, B
    /// transposed), where each panel column gathers floats from different rows: reads `rows`
    /// (1 to 8) runs of 8 floats, run `r` at `src + r * src_stride`, and writes 8 runs of 8
    /// floats, run `c` at `dst + c * dst_stride`, with `dst[c * dst_stride + r]` =
    /// `src[r * src_stride + c]` for `r < rows` and zero beyond. The runs are written in
    /// order, `c = 0` first, so where `dst_stride < 8` each run overwrites the previous
    /// one's overlap. Plain loops here; an instruction set with wide shuffles transposes in
    /// registers instead.
    ///
    /// # Safety
    /// The reads and writes above are in bounds, and no run written overlaps a run read.
    #[inline(always)]
    unsafe fn transpose_8x8(
        src: *const f32,
        src_stride: usize,
        rows: usize,
        dst: *mut f32,
        dst_stride: usize,
    ) {
        for c in 0..8 {
            for r in 0..8 {
                // SAFETY: in bounds by the caller's contract.
                unsafe {
                    *dst.add(c * dst_stride + r) = if r < rows {
                        *src.add(r * src_stride + c)
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// One SIMD register of `LANES` floats: the operations a microkernel is made of. Each
/// instruction set implements it over its intrinsics (in its own file) and [`tile`] is
/// written once on top, so every ISA compiles the same loop.
///
/// # Safety (all methods)
/// The CPU supports the instruction set of the implementation; pointers are valid for
/// `LANES` floats.
pub(crate) trait Lanes: Copy {
    const LANES: usize;
    unsafe fn splat(value: f32) -> Self;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    /// `self * b + c`, fused into one rounding where the instruction set can.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    unsafe fn mul(self, b: Self) -> Self;
    /// Asks for the cache line at `p` ahead of use; a hint that never faults.
    #[inline(always)]
    unsafe fn prefetch(_p: *const f32) {}
}

/// [`tile`] for the first `rows` rows of the tile (1 to MR), one copy per height, each with
/// its accumulators in registers.
///
/// # Safety
/// As [`Microkernel::kernel`], with `NR = VECS * V::LANES`; call it only from a function
/// compiled for `V`'s instruction set, into which it is inlined.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) unsafe fn tile_rows<V: Lanes, const MR: usize, const VECS: usize, const UNROLL: usize>(
    rows: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    macro_rules! by_height {
        ($($height:literal)*) => {
            match rows {
                // SAFETY (every arm): forwarded; `height` rows of the tile are valid.
                $($height if $height < MR => unsafe {
                    tile::<V, MR, $height, VECS, UNROLL>(k, alpha, a, b, beta, c, rsc)
                },)*
                _ => unsafe { tile::<V, MR, MR, VECS, UNROLL>(k, alpha, a, b, beta, c, rsc) },
            }
        };
    }
    // Heights 1 to MAX_MR - 1; SIZES_OK keeps MR within MAX_MR.
    by_height!(1 2 3 4 5 6 7 8 9 10 11 12 13)
}

/// The microkernel body every instruction set shares: `C = alpha * A_panel * B_panel + beta * C`
/// for the first `ROWS` rows of an `MR x (VECS * LANES)` tile, accumulating in `ROWS * VECS`
/// registers, with the depth loop unrolled by `UNROLL` (fewer loop branches between the
/// multiply-adds). Each element's arithmetic is the same for any `ROWS`.
///
/// # Safety
/// As [`Microkernel::kernel`] with `rows = ROWS`, and `NR = VECS * V::LANES`; call it only
/// from a function compiled for `V`'s instruction set, into which it is inlined.
#[inline(always)]
unsafe fn tile<V: Lanes, const MR: usize, const ROWS: usize, const VECS: usize, const UNROLL: usize>(
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    let nr = VECS * V::LANES;
    if beta != 0.0 {
        // C is read only after the whole depth loop: start fetching it now, so the
        // epilogue does not stall on up to 2*MR cache misses.
        for i in 0..ROWS {
            // SAFETY: prefetching is a hint; the addresses are the ends of the tile's rows.
            unsafe {
                V::prefetch(c.add(i * rsc));
                V::prefetch(c.add(i * rsc + nr - 1));
            }
        }
    }
    // SAFETY (every block below): the CPU runs V's instruction set (caller's contract), and
    // the pointer arithmetic stays inside the panels and the tile, as commented.
    let zero = unsafe { V::splat(0.0) };
    let mut acc = [[zero; VECS]; ROWS];
    let (mut a, mut b) = (a, b);
    for _ in 0..k / UNROLL {
        for u in 0..UNROLL {
            // UNROLL steps of the panels remain (k*MR floats at `a`, k*NR at `b`).
            unsafe { step::<V, ROWS, VECS>(&mut acc, a.add(u * MR), b.add(u * nr)) };
        }
        (a, b) = unsafe { (a.add(UNROLL * MR), b.add(UNROLL * nr)) };
    }
    for _ in 0..k % UNROLL {
        unsafe { step::<V, ROWS, VECS>(&mut acc, a, b) };
        (a, b) = unsafe { (a.add(MR), b.add(nr)) };
    }
    let alpha = unsafe { V::splat(alpha) };
    for (i, acc_row) in acc.iter().enumerate() {
        for (v, &acc_v) in acc_row.iter().enumerate() {
            // Row i < ROWS, columns v*LANES .. +LANES <= NR: inside the C tile.
            unsafe {
                let c_v = c.add(i * rsc + v * V::LANES);
                let scaled = alpha.mul(acc_v);
                let result = if beta == 0.0 {
                    scaled
                } else {
                    V::splat(beta).mul_add(V::load(c_v), scaled)
                };
                result.store(c_v);
            }
        }
    }
}

/// One step of depth: `acc += a_col * b_row`, an outer product of ROWS and NR values.
///
/// # Safety
/// `a_col` points to ROWS floats and `b_row` to `VECS * LANES`; the CPU runs V's set.
#[inline(always)]
unsafe fn step<V: Lanes, const ROWS: usize, const VECS: usize>(
    acc: &mut [[V; VECS]; ROWS],
    a_col: *const f32,
    b_row: *const f32,
) {
    // SAFETY: as the function's contract says.
    unsafe {
        let mut b_vec = [V::splat(0.0); VECS];
        for (v, b_v) in b_vec.iter_mut().enumerate() {
            *b_v = V::load(b_row.add(v * V::LANES));
        }
        for (i, acc_row) in acc.iter_mut().enumerate() {
            let a_i = V::splat(*a_col.add(i));
            for (acc_v, &b_v) in acc_row.iter_mut().zip(&b_vec) {
                *acc_v = a_i.mul_add(b_v, *acc_v);
            }
        }
    }
}
