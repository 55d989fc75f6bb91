#!/usr/bin/env bash
# cargo test for the workspace, then the kernels' tests again under each other instruction set
# this CPU runs (FERRONET_ISA forces one), so the activation, loss, optimizer, bias and small-GEMM
# variants of every ISA run, not only the fastest one. An ISA the CPU lacks is reported as
# skipped with the reason; its microkernel tests show as ignored in cargo's own output. Last,
# the kernels' tests inside WebAssembly with simd128, as the shipped module is built.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

cargo test --workspace

# What the fastest-first selection picks by default already ran above.
has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }
case "$(uname -m)" in
  x86_64)
    if has avx512f && has avx2 && has fma; then others=(avx2 scalar)
    elif has avx2 && has fma; then others=(scalar); echo "FERRONET_ISA=avx512: skipped, this CPU has no AVX-512F"
    else others=(); echo "FERRONET_ISA=avx512, avx2: skipped, this CPU has no AVX2 and FMA (scalar ran above)"
    fi ;;
  aarch64) others=(scalar); echo "FERRONET_ISA=avx512, avx2: skipped, not an x86_64 CPU" ;;
  *) others=(); echo "FERRONET_ISA: only scalar exists on $(uname -m), and it ran above" ;;
esac
for isa in "${others[@]}"; do
  echo "==> kernels under FERRONET_ISA=$isa"
  FERRONET_ISA=$isa cargo test -p ferronet-kernels --features threads --lib -q
done

# wasm32-wasip1 rather than the module's wasm32-unknown-unknown: the test harness needs a
# system interface (output, exit status), which Node's WASI gives (scripts/wasi-run.mjs).
if rustup_has_std wasm32-wasip1; then
  echo "==> kernels inside wasm32-wasip1 with simd128, run by Node's WASI"
  CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $PWD/scripts/wasi-run.mjs" RUSTFLAGS="-C target-feature=+simd128" \
    cargo test -p ferronet-kernels --lib -q --target wasm32-wasip1 --target-dir target/wasi
else
  echo "kernels inside wasm: skipped, this toolchain has no wasm32-wasip1 standard library (rustup target add wasm32-wasip1)"
fi
