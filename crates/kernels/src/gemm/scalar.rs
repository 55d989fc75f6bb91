use super::microkernel::Microkernel;

/// Portable microkernel: plain Rust, used where no SIMD kernel applies.
pub(crate) struct Scalar;

const MR: usize = 4;
const NR: usize = 4;

impl Microkernel for Scalar {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 64;
    const KC: usize = 256;
    const NC: usize = 1024;

    unsafe fn kernel(k: usize, alpha: f32, a: *const f32, b: *const f32, beta: f32, c: *mut f32, rsc: usize) {
        let mut acc = [[0.0f32; NR]; MR];
        for p in 0..k {
            // SAFETY: the caller guarantees k*MR floats at `a` and k*NR at `b`.
            let (a_col, b_row) = unsafe {
                (
                    std::slice::from_raw_parts(a.add(p * MR), MR),
                    std::slice::from_raw_parts(b.add(p * NR), NR),
                )
            };
            for (acc_row, &a_ip) in acc.iter_mut().zip(a_col) {
                for (acc_ij, &b_pj) in acc_row.iter_mut().zip(b_row) {
                    *acc_ij += a_ip * b_pj;
                }
            }
        }
        for (i, acc_row) in acc.iter().enumerate() {
            for (j, &acc_ij) in acc_row.iter().enumerate() {
                // SAFETY: the caller guarantees an MR x NR tile at `c` with row stride `rsc`.
                let cij = unsafe { &mut *c.add(i * rsc + j) };
                *cij = if beta == 0.0 {
                    alpha * acc_ij
                } else {
                    alpha * acc_ij + beta * *cij
                };
            }
        }
    }
}
