#!/usr/bin/env bash
# cargo test for the workspace, then the kernels' tests again under each other instruction set
# this CPU runs (FERRONET_ISA forces one), so the activation, loss, optimizer, bias and small-GEMM
# variants of every ISA run, not only the fastest one. An ISA the CPU lacks is reported as
# skipped with the reason; its microkernel tests show as ignored in cargo's own output.
set -euo pipefail
cd "$(dirname "$0")/.."

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
