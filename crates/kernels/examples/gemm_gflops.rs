//! GEMM throughput on square and training shapes, one thread and the whole machine.
//!
//! A measurement, not a test:
//!   cargo run --release --example gemm_gflops -p ferronet-kernels --features threads
//! FERRONET_ISA=avx2 (or scalar, ...) forces a kernel; RAYON_NUM_THREADS sets the
//! second column's pool size; an argument keeps only the rows containing it (e.g. `1024x`).
//! Each figure is the best of several timed batches of calls. The first row is the
//! machine's ceiling: independent fused multiply-adds in registers, no memory traffic.

use std::time::{Duration, Instant};

use ferronet_kernels::gemm;

struct Shape {
    label: &'static str,
    trans_a: bool,
    trans_b: bool,
    m: usize,
    n: usize,
    k: usize,
}

const fn shape(label: &'static str, trans_a: bool, trans_b: bool, m: usize, n: usize, k: usize) -> Shape {
    Shape {
        label,
        trans_a,
        trans_b,
        m,
        n,
        k,
    }
}

const SHAPES: &[Shape] = &[
    shape("inference b1", false, true, 1, 256, 784),
    shape("inference b1", false, true, 1, 128, 256),
    shape("square", false, false, 64, 64, 64),
    shape("square", false, false, 128, 128, 128),
    shape("square", false, false, 256, 256, 256),
    shape("square", false, false, 512, 512, 512),
    shape("square", false, false, 1024, 1024, 1024),
    shape("planar fwd 2->4", false, true, 400, 4, 2),
    shape("planar dW 2->4", true, false, 4, 2, 400),
    shape("planar fwd 4->1", false, true, 400, 1, 4),
    shape("fwd 784->256 b32", false, true, 32, 256, 784),
    shape("fwd 784->256 b128", false, true, 128, 256, 784),
    shape("dW 784->256 b32", true, false, 256, 784, 32),
    shape("dW 784->256 b128", true, false, 256, 784, 128),
    shape("dX 256->784 b128", false, false, 128, 784, 256),
    shape("fwd 256->128 b32", false, true, 32, 128, 256),
    shape("fwd 256->128 b128", false, true, 128, 128, 256),
    shape("fwd 128->10 b32", false, true, 32, 10, 128),
    shape("fwd 128->10 b128", false, true, 128, 10, 128),
    shape("dW 128->10 b128", true, false, 10, 128, 128),
    shape("cnn conv1 fwd", false, true, 100352, 32, 9),
    shape("cnn conv1 dW", true, false, 32, 9, 100352),
    shape("cnn conv2 fwd", false, true, 25088, 64, 288),
    shape("cnn conv2 dW", true, false, 64, 288, 25088),
    shape("cnn conv2 dX", false, false, 25088, 288, 64),
    shape("cnn chunk conv2 fwd", false, true, 392, 64, 288),
    shape("cnn chunk conv2 fwd", true, true, 392, 64, 288),
    shape("cnn chunk conv2 fwd", false, false, 392, 64, 288),
    shape("cnn chunk conv2 fwd", true, false, 392, 64, 288),
    shape("cnn chunk conv2 dW", true, false, 288, 64, 392),
    shape("cnn chunk conv2 dW", true, false, 64, 288, 392),
    shape("cnn chunk conv2 dX", false, false, 392, 288, 64),
    shape("cnn chunk conv1 fwd", false, true, 14112, 32, 9),
    shape("cnn chunk conv1 dW", true, false, 9, 32, 14112),
    shape("cnn dense fwd", false, true, 128, 128, 3136),
    shape("cnn dense dW", true, false, 128, 3136, 128),
    shape("cnn dense dX", false, false, 128, 3136, 128),
];

/// Deterministic values in [-1, 1) without a random-number crate.
fn filled(len: usize, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

/// Best GFLOP/s over a few batches, each long enough (~50 ms) to swamp timer noise.
fn gflops(s: &Shape) -> Result<f64, ferronet_kernels::ShapeError> {
    let a = filled(s.m * s.k, 1);
    let b = filled(s.k * s.n, 2);
    let mut c = filled(s.m * s.n, 3);
    let flops = 2.0 * (s.m * s.n * s.k) as f64;
    let call = |c: &mut [f32]| gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.0, &a, &b, 0.0, c);
    call(&mut c)?;
    let mut reps = 1usize;
    let mut best = f64::MAX;
    let mut batches = 0;
    while batches < 5 {
        let start = Instant::now();
        for _ in 0..reps {
            call(&mut c)?;
        }
        let elapsed = start.elapsed();
        if elapsed < Duration::from_millis(50) {
            reps *= 2;
            continue;
        }
        best = best.min(elapsed.as_secs_f64() / reps as f64);
        batches += 1;
    }
    Ok(flops / best / 1e9)
}

/// The FMA ceiling of one core in GFLOP/s: 12 independent chains of 8-float fused
/// multiply-adds, enough to cover the FMA latency on every x86 core with AVX2, so the loop
/// runs at the FMA units' throughput. None where the CPU lacks AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
fn fma_peak() -> Option<f64> {
    use std::arch::x86_64::{__m256, _mm256_fmadd_ps, _mm256_set1_ps};

    const CHAINS: usize = 12;
    const STEPS: usize = 20_000_000;

    #[target_feature(enable = "avx2,fma")]
    fn chains() -> [__m256; CHAINS] {
        // Opaque inputs, so the compiler cannot evaluate the chains ahead of time.
        let (scale, shift) = std::hint::black_box((0.999_999_9, 1e-7));
        let (scale, shift) = (_mm256_set1_ps(scale), _mm256_set1_ps(shift));
        let mut acc = [_mm256_set1_ps(1.0); CHAINS];
        for _ in 0..std::hint::black_box(STEPS) {
            for a in &mut acc {
                *a = _mm256_fmadd_ps(*a, scale, shift);
            }
        }
        acc
    }

    if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
        return None;
    }
    let best = (0..3)
        .map(|_| {
            let start = Instant::now();
            // SAFETY: AVX2 and FMA were detected above.
            std::hint::black_box(unsafe { chains() });
            start.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min);
    Some((CHAINS * STEPS * 16) as f64 / best / 1e9)
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_peak() -> Option<f64> {
    None
}

/// The ceiling of `threads` cores: each runs [`fma_peak`]'s loop at once; their sum.
#[cfg(feature = "threads")]
fn fma_peak_of(threads: usize) -> Result<Option<f64>, Box<dyn std::error::Error>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let per_thread: Vec<Option<f64>> = pool.broadcast(|_| fma_peak());
    Ok(per_thread.into_iter().sum())
}

#[cfg(feature = "threads")]
fn in_pool(threads: usize, s: &Shape) -> Result<f64, Box<dyn std::error::Error>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    Ok(pool.install(|| gflops(s))?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kernel = std::env::var("FERRONET_ISA").unwrap_or_else(|_| "auto".into());
    #[cfg(feature = "threads")]
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    #[cfg(feature = "threads")]
    println!("kernel: {kernel}; GFLOP/s with 1 thread and with {threads}");
    #[cfg(not(feature = "threads"))]
    println!("kernel: {kernel}; GFLOP/s on the calling thread (build with --features threads for more)");
    let filter = std::env::args().nth(1).unwrap_or_default();
    let peak_label = "fma peak (registers)";
    #[cfg(feature = "threads")]
    match (fma_peak_of(1)?, fma_peak_of(threads)?) {
        (Some(one), Some(all)) => println!("{peak_label:<37} {one:>8.1} {all:>8.1}"),
        _ => println!("{peak_label}: skipped, this CPU has no AVX2 and FMA"),
    }
    #[cfg(not(feature = "threads"))]
    match fma_peak() {
        Some(one) => println!("{peak_label:<37} {one:>8.1}"),
        None => println!("{peak_label}: skipped, this CPU has no AVX2 and FMA"),
    }
    for s in SHAPES {
        let dims = format!(
            "{}x{}x{} {}{}",
            s.m,
            s.n,
            s.k,
            if s.trans_a { 'T' } else { 'N' },
            if s.trans_b { 'T' } else { 'N' }
        );
        if !format!("{} {dims}", s.label).contains(&filter) {
            continue;
        }
        #[cfg(feature = "threads")]
        println!(
            "{:<20} {dims:<16} {:>8.1} {:>8.1}",
            s.label,
            in_pool(1, s)?,
            in_pool(threads, s)?
        );
        #[cfg(not(feature = "threads"))]
        println!("{:<20} {dims:<16} {:>8.1}", s.label, gflops(s)?);
    }
    Ok(())
}
