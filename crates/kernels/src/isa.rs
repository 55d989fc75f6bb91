//! Which instruction set this process computes with: the whole priority order, decided once,
//! for the GEMM microkernels and the elementwise kernels alike.
//!
//! x86_64 detects at run time (one binary serves CPUs with and without AVX-512); aarch64
//! and wasm32 decide at compile time (NEON is baseline on aarch64, and a wasm module either
//! was built with simd128 or cannot contain it).

use std::sync::OnceLock;

/// Set to an instruction set's name (`avx512`, `avx2`, `neon`, `wasm-simd`, `scalar`) to force
/// it, e.g. to test a slower kernel on a fast machine. An unsupported or unknown name is
/// ignored by the kernels (which must not fail for it) and reported by the test guard in
/// `gemm/tests.rs`.
pub(crate) const FORCE_ENV: &str = "FERRONET_ISA";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Avx512,
    Avx2,
    Neon,
    WasmSimd,
    Scalar,
}

impl Isa {
    /// Fastest first: `select` takes the first one this CPU supports.
    pub(crate) const PRIORITY: [Isa; 5] = [Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::WasmSimd, Isa::Scalar];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Neon => "neon",
            Isa::WasmSimd => "wasm-simd",
            Isa::Scalar => "scalar",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Isa> {
        Isa::PRIORITY.into_iter().find(|isa| isa.name() == name.trim())
    }

    /// Whether this build has the kernel and this CPU can run it.
    pub(crate) fn is_supported(self) -> bool {
        match self {
            // `multiversion!` compiles AVX-512 code with AVX2 and FMA enabled too.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
            }
            Isa::Neon => cfg!(all(target_arch = "aarch64", target_feature = "neon")),
            Isa::WasmSimd => cfg!(all(target_arch = "wasm32", target_feature = "simd128")),
            Isa::Scalar => true,
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx512 | Isa::Avx2 => false,
        }
    }
}

/// The instruction set named by `FERRONET_ISA`, if set: `Err` holds a name that is not one.
pub(crate) fn forced() -> Option<Result<Isa, String>> {
    let name = std::env::var(FORCE_ENV).ok()?;
    Some(Isa::from_name(&name).ok_or(name))
}

fn select() -> Isa {
    match forced() {
        Some(Ok(isa)) if isa.is_supported() => isa,
        _ => Isa::PRIORITY
            .into_iter()
            .find(|isa| isa.is_supported())
            .unwrap_or(Isa::Scalar),
    }
}

/// The instruction set the kernels use, chosen on first use and cached for the life of the
/// process.
pub(crate) fn selected() -> Isa {
    static SELECTED: OnceLock<Isa> = OnceLock::new();
    *SELECTED.get_or_init(select)
}

/// Defines a function whose body is compiled once per instruction set and dispatched on
/// [`selected`]. As in bluss/matrixmultiply, a thin `#[target_feature]` entry per x86 set
/// calls the one `#[inline(always)]` body, so AVX-512 and AVX2 recompile the same code and
/// LLVM vectorizes it for each; NEON and simd128 are compile-time baselines, so the plain
/// body already uses them.
///
/// A body that calls the elementary functions of `math` names a type parameter for them,
/// `fn name<M>(...)`, and passes it on (`math::tanh::<M>`): it is `math::Fused` where the
/// instruction set has fused multiply-add, else `math::Baseline`. The defined function itself
/// is not generic.
///
/// Two things to keep out of these bodies, both cheap on Intel and slow on AMD's Zen cores,
/// where a masked load or store (`vmaskmovps`) costs ten cycles or more: a slice updated in
/// place by a select that keeps some lanes (`*v = if c { *v } else { w }` becomes a masked
/// store), and loads behind a condition (`a && b[i] > 0.0` becomes a masked load). Keep
/// running values in local arrays or write through a stack block; combine conditions with `&`
/// and `|`. A closure passed to a helper is one function for every instruction set, compiled
/// for none of them unless LLVM inlines it: put heavy loops in the body, not in a callback.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$mul_add:ident>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body<$mul_add: $crate::math::MulAdd>($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx2,fma")]
            fn avx512($($arg: $ty),*) $(-> $ret)? {
                body::<$crate::math::Fused>($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                body::<$crate::math::Fused>($($arg),*)
            }

            match $crate::isa::selected() {
                // SAFETY: `selected` returns an instruction set only when this CPU runs it.
                #[cfg(target_arch = "x86_64")]
                $crate::isa::Isa::Avx512 => unsafe { avx512($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::isa::Isa::Avx2 => unsafe { avx2($($arg),*) },
                _ => body::<$crate::math::Baseline>($($arg),*),
            }
        }
    };
    // A body without elementary functions: its type parameter goes unused.
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $crate::isa::multiversion! {
            $(#[$meta])* $vis fn $name<Unused>($($arg: $ty),*) $(-> $ret)? $body
        }
    };
}

pub(crate) use multiversion;

/// The instruction set the kernels compute with, by name, for the bindings to report:
/// `wasm-relaxed-simd` for the simd128 kernels of a module built with relaxed-simd (whose
/// multiply-adds are fused), else [`Isa::name`].
pub fn instruction_set() -> &'static str {
    match selected() {
        Isa::WasmSimd if cfg!(target_feature = "relaxed-simd") => "wasm-relaxed-simd",
        isa => isa.name(),
    }
}
