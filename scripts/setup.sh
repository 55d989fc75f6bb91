#!/usr/bin/env bash
# Takes a fresh machine to a full ferronet build, then runs the demo. Safe to run again: each
# step checks before it installs or builds, so a second run takes seconds.
#
#   npm packages  -> npm ci (when package-lock.json changed)
#   Rust          -> rustup's toolchain for the native addon; for wasm32, rustup's target where
#                    it can be fetched, else Debian's rustc-web + build-std (apt-get, as root)
#   wasm-bindgen  -> cargo install wasm-bindgen-cli, the exact version Cargo.lock pins
#   Chromium      -> Debian's chromium (apt-get), for the browser end-to-end test
#   build         -> scripts/build.sh (wasm module, native addon, TypeScript)
#   Python        -> .venv with interop/requirements.txt (numpy, onnx, onnxruntime, safetensors):
#                    the independent readers npm test checks exported models with
#   extras        -> Fashion-MNIST and rsvg-convert (PNG pictures) with apt-get, where there is apt
#   demo          -> ferronet train planar (npm run demo)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

command -v node >/dev/null || die "Node.js 20 or later is required (https://nodejs.org)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20 or later is required, found $(node --version)"

say "npm packages"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "up to date"
fi

say "Rust toolchain"
command -v cargo >/dev/null || die "Rust is required: install rustup from https://rustup.rs, then run this again"
cargo --version

apt_updated=""
apt_install() {
  command -v apt-get >/dev/null || return 1
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # One package-list refresh per setup run, however many installs follow.
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq || return 1
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

if route=$(wasm_route); then
  echo "wasm32: $route route"
else
  echo "wasm32: no standard library yet; trying rustup"
  if command -v rustup >/dev/null && timeout 120 rustup target add wasm32-unknown-unknown && rustup_has_wasm_std; then
    route=rustup
    echo "wasm32: rustup route"
  else
    echo "wasm32: rustup cannot fetch it here; installing Debian's rustc-web for the build-std route"
    apt_install rustc-web cargo-web rust-web-src libstd-rust-web-dev lld-16 ||
      die "cannot install a wasm32 toolchain: run 'rustup target add wasm32-unknown-unknown' (needs network) or install Debian's rustc-web, rust-web-src and lld-16"
    route=$(wasm_route) || die "Debian's rustc-web is installed but the build-std route is incomplete"
    echo "wasm32: $route route"
  fi
fi

# The threaded wasm module compiles std itself with atomics (-Z build-std), from std's source.
if [ "$route" = rustup ] && ! rustup_has_rust_src; then
  timeout 120 rustup component add rust-src ||
    die "cannot fetch std's source for the threaded wasm module: run 'rustup component add rust-src' (needs network)"
fi

# The aarch64 standard library lets npm test lint the NEON kernel; without it, the check
# falls back to Debian's build-std route.
if ! rustup_has_std aarch64-unknown-linux-gnu && command -v rustup >/dev/null; then
  timeout 120 rustup target add aarch64-unknown-linux-gnu || echo "aarch64: rustup cannot fetch it; npm test will use build-std"
fi

# wasm32-wasip1's standard library lets npm test run the kernels' tests inside WebAssembly
# (the simd128 microkernel included) under Node's WASI; without it they are reported as skipped.
if ! rustup_has_std wasm32-wasip1 && command -v rustup >/dev/null; then
  timeout 120 rustup target add wasm32-wasip1 || echo "wasm32-wasip1: rustup cannot fetch it; npm test will skip the kernels' tests in wasm"
fi

say "wasm-bindgen CLI"
want=$(wasm_bindgen_version)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "installing wasm-bindgen-cli $want (found '${have:-none}')"
  cargo install wasm-bindgen-cli --version "$want" --force
else
  echo "wasm-bindgen $have"
fi

say "Chromium (npm test drives the browser demo in it)"
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium || die "cannot install Chromium: install Debian's chromium package (the browser test runs /usr/bin/chromium)"
fi
# Debian's launcher script prints a harmless shell warning on stderr on some machines.
/usr/bin/chromium --version 2>/dev/null

bash scripts/build.sh

say "Python readers for the interop tests (.venv)"
command -v python3 >/dev/null || die "Python 3 is required for the interop tests (Debian: apt-get install python3 python3-venv)"
if [ ! -x .venv/bin/python3 ]; then
  python3 -m venv .venv || die "cannot create .venv: install Python's venv module (Debian: apt-get install python3-venv)"
fi
if [ ! -f .venv/.installed ] || [ interop/requirements.txt -nt .venv/.installed ]; then
  .venv/bin/python3 -m pip install --quiet --disable-pip-version-check -r interop/requirements.txt
  touch .venv/.installed
fi
.venv/bin/python3 -c 'import numpy, onnx, onnxruntime; print("numpy", numpy.__version__, "onnxruntime", onnxruntime.__version__)'

# Optional: without them ferronet train fashion-mnist needs --data, and pictures are SVG only.
say "extras: Fashion-MNIST data set, rsvg-convert"
extras=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || extras+=(dataset-fashion-mnist)
command -v rsvg-convert >/dev/null || extras+=(librsvg2-bin)
if [ ${#extras[@]} -eq 0 ]; then
  echo "present"
elif ! apt_install "${extras[@]}"; then
  echo "skipped: no apt-get here (or it failed) for ${extras[*]}; see docs/cli.md"
fi

say "demo: the planar flower (npm run demo)"
npm run --silent demo
