use super::microkernel::Microkernel;
use super::*;
use crate::isa::{forced, selected, Isa, FORCE_ENV};
use crate::test_util::{small_integers, Rng};

/// The plain triple loop every microkernel is compared with.
#[allow(clippy::too_many_arguments)]
fn reference(
    trans_a: bool,
    trans_b: bool,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c: &mut [f32],
) {
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f64;
            for p in 0..k {
                let aip = if trans_a { a[p * m + i] } else { a[i * k + p] };
                let bpj = if trans_b { b[j * k + p] } else { b[p * n + j] };
                sum += f64::from(aip) * f64::from(bpj);
            }
            let old = if beta == 0.0 {
                0.0
            } else {
                f64::from(beta) * f64::from(c[i * n + j])
            };
            c[i * n + j] = (f64::from(alpha) * sum + old) as f32;
        }
    }
}

const SHAPES: [usize; 7] = [1, 3, 7, 16, 33, 129, 300];

/// Runs one microkernel through the blocked driver on every combination of awkward shapes
/// and transposes. Small integers and power-of-two scalars keep every sum exact, so the
/// comparison is equality.
fn exact_on_awkward_shapes<K: Microkernel>() {
    let mut rng = Rng::new(7);
    for &m in &SHAPES {
        for &n in &SHAPES {
            for &k in &[1, 3, 16, 129, 300] {
                for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
                    let a = small_integers(&mut rng, m * k);
                    let b = small_integers(&mut rng, k * n);
                    let c0 = small_integers(&mut rng, m * n);
                    let (alpha, beta) = (0.5, 2.0);
                    let mut expected = c0.clone();
                    reference(trans_a, trans_b, m, n, k, alpha, &a, &b, beta, &mut expected);
                    let mut got = c0.clone();
                    let a_op = Operand::new(&a, trans_a, m, k);
                    let b_op = Operand::new(&b, trans_b, k, n);
                    gemm_blocked::<K>(m, n, k, alpha, a_op, b_op, beta, &mut got);
                    assert_eq!(got, expected, "m={m} n={n} k={k} ta={trans_a} tb={trans_b}");
                }
            }
        }
    }
}

/// With beta = 0, C is never read: a C full of NaN must come out finite.
fn beta_zero_never_reads_c<K: Microkernel>() {
    let mut rng = Rng::new(11);
    for &(m, n, k) in &[(1, 1, 1), (7, 33, 5), (129, 16, 300), (16, 16, 16)] {
        let a = small_integers(&mut rng, m * k);
        let b = small_integers(&mut rng, k * n);
        let mut expected = vec![0.0; m * n];
        reference(false, false, m, n, k, 1.0, &a, &b, 0.0, &mut expected);
        let mut got = vec![f32::NAN; m * n];
        let a_op = Operand::new(&a, false, m, k);
        let b_op = Operand::new(&b, false, k, n);
        gemm_blocked::<K>(m, n, k, 1.0, a_op, b_op, 0.0, &mut got);
        assert_eq!(got, expected, "m={m} n={n} k={k}");
    }
}

/// The same result two ways: C = AB, then C += 2AB, equals 3AB.
fn accumulation_matches_scaling<K: Microkernel>() {
    let mut rng = Rng::new(13);
    let (m, n, k) = (37, 45, 530);
    let a = small_integers(&mut rng, m * k);
    let b = small_integers(&mut rng, k * n);
    let a_op = Operand::new(&a, false, m, k);
    let b_op = Operand::new(&b, true, k, n);
    let mut twice = vec![f32::NAN; m * n];
    gemm_blocked::<K>(m, n, k, 1.0, a_op, b_op, 0.0, &mut twice);
    gemm_blocked::<K>(m, n, k, 2.0, a_op, b_op, 1.0, &mut twice);
    let mut once = vec![f32::NAN; m * n];
    gemm_blocked::<K>(m, n, k, 3.0, a_op, b_op, 0.0, &mut once);
    assert_eq!(twice, once);
}

macro_rules! microkernel_tests {
    ($($(#[$attr:meta])* $name:ident: $kernel:ty $(, each test #[$test_attr:meta])?;)*) => {$(
        $(#[$attr])*
        mod $name {
            #[test]
            $(#[$test_attr])?
            fn exact_on_awkward_shapes() {
                super::exact_on_awkward_shapes::<$kernel>();
            }

            #[test]
            $(#[$test_attr])?
            fn beta_zero_never_reads_c() {
                super::beta_zero_never_reads_c::<$kernel>();
            }

            #[test]
            $(#[$test_attr])?
            fn a_row_has_the_same_bits_in_any_tile_height() {
                super::a_row_has_the_same_bits_in_any_tile_height::<$kernel>();
            }

            #[test]
            $(#[$test_attr])?
            fn accumulation_matches_scaling() {
                super::accumulation_matches_scaling::<$kernel>();
            }

            #[cfg(feature = "threads")]
            #[test]
            $(#[$test_attr])?
            fn threads_give_bit_identical_results() {
                super::threads_give_bit_identical_results::<$kernel>();
            }
        }
    )*};
}

// A kernel this CPU cannot run is compiled but ignored, with the reason (build.rs decides), so
// `cargo test` reports it as ignored rather than passed; `cargo test -- --ignored` on such a
// CPU would fault, which is the point of not running it.
microkernel_tests! {
    #[cfg(target_arch = "x86_64")]
    avx512: crate::gemm::avx512::Avx512, each test #[cfg_attr(not(ferronet_host_avx512), ignore = "this CPU has no AVX-512F (with AVX2 and FMA)")];
    #[cfg(target_arch = "x86_64")]
    avx2: crate::gemm::avx2::Avx2, each test #[cfg_attr(not(ferronet_host_avx2), ignore = "this CPU has no AVX2 and FMA")];
    #[cfg(target_arch = "aarch64")]
    neon: crate::gemm::neon::Neon;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    wasm_simd: crate::gemm::wasm_simd::WasmSimd;
    scalar: crate::gemm::scalar::Scalar;
}

/// The guard behind `FERRONET_ISA`: a forced kernel must exist, run here, and be
/// the one `gemm` uses, so CI that forces each ISA in turn cannot pass by skipping one.
#[test]
fn forced_kernel_is_known_supported_and_selected() {
    match forced() {
        None => {}
        Some(Err(name)) => panic!("{FORCE_ENV}={name:?} names no kernel"),
        Some(Ok(kernel)) => {
            assert!(
                kernel.is_supported(),
                "{FORCE_ENV}={} but this CPU or build cannot run it",
                kernel.name()
            );
            assert_eq!(selected(), kernel);
        }
    }
}

#[test]
fn selection_prefers_the_first_supported_kernel() {
    if forced().is_none() {
        let first = Isa::PRIORITY.into_iter().find(|kernel| kernel.is_supported());
        assert_eq!(Some(selected()), first);
    }
    for kernel in Isa::PRIORITY {
        assert_eq!(Isa::from_name(kernel.name()), Some(kernel));
    }
    assert!(Isa::Scalar.is_supported());
}

/// The direct loops for small products pass the same exact tests as the kernels.
#[test]
fn small_path_is_exact_on_awkward_shapes() {
    let mut rng = Rng::new(19);
    for &m in &[1, 3, 7, 16] {
        for &n in &[1, 2, 9, 33] {
            for &k in &[0, 1, 2, 17] {
                for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
                    let a = small_integers(&mut rng, m * k);
                    let b = small_integers(&mut rng, k * n);
                    for (alpha, beta, c0) in [
                        (0.5, 2.0, small_integers(&mut rng, m * n)),
                        (1.0, 0.0, vec![f32::NAN; m * n]),
                        (0.0, 1.0, small_integers(&mut rng, m * n)),
                    ] {
                        let mut expected = c0.clone();
                        reference(trans_a, trans_b, m, n, k, alpha, &a, &b, beta, &mut expected);
                        let mut got = c0;
                        let a_op = Operand::new(&a, trans_a, m, k);
                        let b_op = Operand::new(&b, trans_b, k, n);
                        small::gemm_small(m, n, k, alpha, a_op, b_op, beta, &mut got);
                        assert_eq!(
                            got, expected,
                            "m={m} n={n} k={k} ta={trans_a} tb={trans_b} beta={beta}"
                        );
                    }
                }
            }
        }
    }
}

/// A tile cut short by the bottom of C computes only its rows, with the same arithmetic as
/// a full tile: every row of a product of random floats, computed alone (a tile of one row),
/// has the bits it has among its neighbours, in a full tile or in the short last one.
fn a_row_has_the_same_bits_in_any_tile_height<K: Microkernel>() {
    let mut rng = Rng::new(29);
    let (m, n, k) = (2 * K::MR + K::MR / 2 + 1, K::NR + 3, 301);
    for (trans_a, trans_b) in [(false, false), (true, true)] {
        let a = rng.uniform_vec(m * k, -1.0, 1.0);
        let b = rng.uniform_vec(k * n, -1.0, 1.0);
        let c0 = rng.uniform_vec(m * n, -1.0, 1.0);
        let b_op = Operand::new(&b, trans_b, k, n);
        let mut all = c0.clone();
        gemm_blocked::<K>(
            m,
            n,
            k,
            0.75,
            Operand::new(&a, trans_a, m, k),
            b_op,
            0.5,
            &mut all,
        );
        for i in 0..m {
            // Row i of op(A) alone, stored as op(A) would store it.
            let row: Vec<f32> = (0..k)
                .map(|p| if trans_a { a[p * m + i] } else { a[i * k + p] })
                .collect();
            let mut alone = c0[i * n..(i + 1) * n].to_vec();
            gemm_blocked::<K>(
                1,
                n,
                k,
                0.75,
                Operand::new(&row, trans_a, 1, k),
                b_op,
                0.5,
                &mut alone,
            );
            let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert!(
                bits(&alone) == bits(&all[i * n..(i + 1) * n]),
                "row {i} of {m} differs alone: ta={trans_a} tb={trans_b}"
            );
        }
    }
}

/// Threads divide only the output, so any pool size gives the same bits. The shapes are
/// awkward on purpose: partial tiles on both edges, several KC blocks, more than one NC
/// block for every kernel, and a split by rows as well as one by columns (few rows).
#[cfg(feature = "threads")]
fn threads_give_bit_identical_results<K: Microkernel>() {
    let mut rng = Rng::new(23);
    for (m, n, k, trans_a, trans_b) in [(61, 2111, 300, false, false), (13, 2111, 300, true, true)] {
        let a = rng.uniform_vec(m * k, -1.0, 1.0);
        let b = rng.uniform_vec(k * n, -1.0, 1.0);
        let c0 = rng.uniform_vec(m * n, -1.0, 1.0);
        let a_op = Operand::new(&a, trans_a, m, k);
        let b_op = Operand::new(&b, trans_b, k, n);
        let bits_with = |threads: usize| {
            let mut c = c0.clone();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| gemm_blocked::<K>(m, n, k, 0.75, a_op, b_op, 0.5, &mut c));
            c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        };
        let one = bits_with(1);
        for threads in [2, 3, 4] {
            assert!(
                bits_with(threads) == one,
                "{threads} threads differ from one: m={m} n={n} k={k}"
            );
        }
    }
}

#[test]
fn zero_sized_products_scale_c() {
    let mut c = vec![f32::NAN; 6];
    gemm(false, false, 2, 3, 0, 1.0, &[], &[], 0.0, &mut c).unwrap();
    assert_eq!(c, vec![0.0; 6]);
    let mut c = vec![1.0; 6];
    gemm(false, false, 2, 3, 0, 1.0, &[], &[], 3.0, &mut c).unwrap();
    assert_eq!(c, vec![3.0; 6]);
    gemm(false, false, 0, 3, 4, 1.0, &[], &[0.0; 12], 0.0, &mut []).unwrap();
}

#[test]
fn wrong_lengths_name_the_argument() {
    let err = gemm(
        false,
        false,
        2,
        3,
        4,
        1.0,
        &[0.0; 7],
        &[0.0; 12],
        0.0,
        &mut [0.0; 6],
    );
    assert_eq!(err.unwrap_err().to_string(), "a: expected length 8 (m*k), got 7");
    let err = gemm(
        true,
        true,
        2,
        3,
        4,
        1.0,
        &[0.0; 8],
        &[0.0; 11],
        0.0,
        &mut [0.0; 6],
    );
    assert_eq!(err.unwrap_err().argument, "b");
    let err = gemm(
        false,
        false,
        2,
        3,
        4,
        1.0,
        &[0.0; 8],
        &[0.0; 12],
        0.0,
        &mut [0.0; 5],
    );
    assert_eq!(err.unwrap_err().argument, "c");
    let err = gemm(false, false, usize::MAX, 3, 4, 1.0, &[], &[0.0; 12], 0.0, &mut []);
    assert_eq!(err.unwrap_err().to_string(), "a: the shape m*k is too large");
}

#[test]
fn random_floats_agree_with_reference_for_deep_products() {
    let mut rng = Rng::new(17);
    for &(m, n, k) in &[(64, 64, 1024), (3, 200, 777), (128, 10, 784)] {
        let a = rng.uniform_vec(m * k, -1.0, 1.0);
        let b = rng.uniform_vec(k * n, -1.0, 1.0);
        let mut expected = vec![0.0; m * n];
        reference(true, false, m, n, k, 1.0, &a, &b, 0.0, &mut expected);
        let mut got = vec![0.0; m * n];
        gemm(true, false, m, n, k, 1.0, &a, &b, 0.0, &mut got).unwrap();
        let largest = expected.iter().fold(0.0f32, |acc, x| acc.max(x.abs()));
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() <= 1e-5 * largest.max(1.0), "{g} vs {e}");
        }
    }
}

/// The public entry point under the caller's pool: one thread and two give the same bits.
#[cfg(feature = "threads")]
#[test]
fn public_gemm_is_bit_identical_across_pool_sizes() {
    let mut rng = Rng::new(29);
    let (m, n, k) = (128, 256, 784);
    let a = rng.uniform_vec(m * k, -1.0, 1.0);
    let b = rng.uniform_vec(n * k, -1.0, 1.0);
    let run = |threads: usize| {
        let mut c = vec![f32::NAN; m * n];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| gemm(false, true, m, n, k, 1.0, &a, &b, 0.0, &mut c))
            .unwrap();
        c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    assert!(run(1) == run(2));
}
