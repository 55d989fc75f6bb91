//! Which microkernel this process uses: the whole priority order, decided once.
//!
//! x86_64 detects at run time (one binary serves CPUs with and without AVX-512); aarch64
//! and wasm32 decide at compile time (NEON is baseline on aarch64, and a wasm module either
//! was built with simd128 or cannot contain it).

use std::sync::OnceLock;

/// Set to a kernel's name (`avx512`, `avx2`, `neon`, `wasm-simd`, `scalar`) to force it, e.g.
/// to test a slower kernel on a fast machine. An unsupported or unknown name is ignored by
/// `gemm` (which must not fail for it) and reported by the test guard in `tests.rs`.
pub(crate) const FORCE_ENV: &str = "FERRONET_GEMM_KERNEL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    Avx512,
    Avx2,
    Neon,
    WasmSimd,
    Scalar,
}

impl Kernel {
    /// Fastest first: `select` takes the first one this CPU supports.
    pub(crate) const PRIORITY: [Kernel; 5] = [
        Kernel::Avx512,
        Kernel::Avx2,
        Kernel::Neon,
        Kernel::WasmSimd,
        Kernel::Scalar,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kernel::Avx512 => "avx512",
            Kernel::Avx2 => "avx2",
            Kernel::Neon => "neon",
            Kernel::WasmSimd => "wasm-simd",
            Kernel::Scalar => "scalar",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Kernel> {
        Kernel::PRIORITY
            .into_iter()
            .find(|kernel| kernel.name() == name.trim())
    }

    /// Whether this build has the kernel and this CPU can run it.
    pub(crate) fn is_supported(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
            }
            Kernel::Neon => cfg!(all(target_arch = "aarch64", target_feature = "neon")),
            Kernel::WasmSimd => cfg!(all(target_arch = "wasm32", target_feature = "simd128")),
            Kernel::Scalar => true,
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Avx512 | Kernel::Avx2 => false,
        }
    }
}

/// The kernel named by `FERRONET_GEMM_KERNEL`, if set: `Err` holds a name that is not a kernel.
pub(crate) fn forced() -> Option<Result<Kernel, String>> {
    let name = std::env::var(FORCE_ENV).ok()?;
    Some(Kernel::from_name(&name).ok_or(name))
}

fn select() -> Kernel {
    match forced() {
        Some(Ok(kernel)) if kernel.is_supported() => kernel,
        _ => Kernel::PRIORITY
            .into_iter()
            .find(|kernel| kernel.is_supported())
            .unwrap_or(Kernel::Scalar),
    }
}

/// The kernel `gemm` uses, chosen on first use and cached for the life of the process.
pub(crate) fn selected() -> Kernel {
    static SELECTED: OnceLock<Kernel> = OnceLock::new();
    *SELECTED.get_or_init(select)
}
