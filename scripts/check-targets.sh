#!/usr/bin/env bash
# Lints the kernels for the targets this machine does not run: aarch64 (the NEON
# microkernel) and wasm32 with simd128, and the wasm module with its threads, with clippy -D warnings. Uses rustup's standard
# libraries where installed, else Debian's rustc-web with build-std (as for the wasm build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

# check TARGET RUSTFLAGS [cargo args...]: the kernels unless the arguments name a package.
check() {
  local target=$1 rustflags=$2
  shift 2
  [ $# -gt 0 ] || set -- -p ferronet-kernels
  if rustup_has_std "$target"; then
    RUSTFLAGS="$rustflags" cargo clippy -q "$@" --target "$target" --target-dir "target/check-$target" -- -D warnings
  elif debian_has_wasm_route; then
    # Debian's clippy is not packaged: a check with build-std at least proves the code compiles.
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="$rustflags" /usr/bin/cargo check -q "$@" \
      --target "$target" --target-dir "target/check-debian-$target" -Z build-std=core,alloc,std
  else
    die "cannot check $target: no standard library for it (run npm run setup)"
  fi
  echo "$target $*: ok"
}

check aarch64-unknown-linux-gnu ""
check wasm32-unknown-unknown "-C target-feature=+simd128"
check wasm32-unknown-unknown "-C target-feature=+simd128,+relaxed-simd"
# Linted against the plain std: the code is the same, only the threaded build's std has atomics.
check wasm32-unknown-unknown "-C target-feature=+simd128" -p ferronet-wasm --features threads
