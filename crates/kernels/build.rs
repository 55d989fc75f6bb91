//! Tells the tests which instruction sets the machine building them can run, so that a
//! microkernel test this CPU cannot run is reported by `cargo test` as ignored, with the reason,
//! rather than passing without running. Only when the build is for the host: a cross build
//! (a wasm module, an aarch64 addon) runs its tests elsewhere, if at all.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(ferronet_host_avx512, ferronet_host_avx2)");
    println!("cargo::rerun-if-changed=build.rs");
    let host = std::env::var("HOST").unwrap_or_default();
    let target = std::env::var("TARGET").unwrap_or_default();
    if host != target {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        if avx2 {
            println!("cargo::rustc-cfg=ferronet_host_avx2");
        }
        if avx2 && std::arch::is_x86_feature_detected!("avx512f") {
            println!("cargo::rustc-cfg=ferronet_host_avx512");
        }
    }
}
