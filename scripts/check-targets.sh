#!/usr/bin/env bash
# Lints the kernels for the targets this machine does not run: aarch64 (the NEON
# microkernel) and wasm32 with simd128, with clippy -D warnings. Uses rustup's standard
# libraries where installed, else Debian's rustc-web with build-std (as for the wasm build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

check() {
  local target=$1 rustflags=$2
  if rustup_has_std "$target"; then
    RUSTFLAGS="$rustflags" cargo clippy -q -p ferronet-kernels --target "$target" --target-dir "target/check-$target" -- -D warnings
  elif debian_has_wasm_route; then
    # Debian's clippy is not packaged: a check with build-std at least proves the code compiles.
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="$rustflags" /usr/bin/cargo check -q -p ferronet-kernels \
      --target "$target" --target-dir "target/check-debian-$target" -Z build-std=core,alloc,std
  else
    die "cannot check $target: no standard library for it (run npm run setup)"
  fi
  echo "$target: ok"
}

check aarch64-unknown-linux-gnu ""
check wasm32-unknown-unknown "-C target-feature=+simd128"
