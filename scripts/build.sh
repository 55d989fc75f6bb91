#!/usr/bin/env bash
# Builds ferronet's artifacts: `build.sh` builds all; `build.sh wasm native ts` builds some.
#   wasm   - crates/wasm -> ts/backends/wasm/generated (wasm-bindgen --target web, then wasm-opt)
#   native - crates/node -> ts/backends/native/generated (napi-rs, release, this machine's platform)
#   ts     - ts/ -> dist/ (tsc), with both generated folders copied beside their loaders
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

build_wasm() {
  local route out_dir=ts/backends/wasm/generated target_dir wasm
  route=$(wasm_route) || die "no way to build wasm32 here: run 'npm run setup' (it installs one), or 'rustup target add wasm32-unknown-unknown'"
  say "wasm module (route: $route)"
  target_dir="target/wasm-$route"
  case "$route" in
    rustup)
      RUSTFLAGS="-C target-feature=+simd128" \
        cargo build --release --target wasm32-unknown-unknown -p ferronet-wasm --target-dir "$target_dir" ;;
    debian)
      # rustup's cargo and rustc come first on PATH; the build-std route needs Debian's 1.96
      # for both (Debian's cargo would otherwise run rustup's rustc).
      RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="-C target-feature=+simd128 -C linker=wasm-ld-16" \
        /usr/bin/cargo build --release --target wasm32-unknown-unknown -p ferronet-wasm \
        --target-dir "$target_dir" -Z build-std=std,panic_abort ;;
  esac
  wasm="$target_dir/wasm32-unknown-unknown/release/ferronet_wasm.wasm"
  if [ "$out_dir/ferronet_wasm_bg.wasm" -nt "$wasm" ] && [ "$out_dir/ferronet_wasm.js" -nt "$wasm" ]; then
    return 0
  fi
  wasm-bindgen --target web --out-dir "$out_dir" --out-name ferronet_wasm "$wasm"
  # npm's binaryen: Debian's wasm-opt 108 breaks wasm-bindgen's externref table.
  npx --no-install wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out_dir/ferronet_wasm_bg.wasm" -o "$out_dir/ferronet_wasm_bg.wasm"
}

# This machine's binary, named the napi-rs way (ferronet.linux-x64-gnu.node) beside napi-rs's
# generated loader, which picks the binary for the machine it runs on; scripts/pack.sh adds the
# other platforms of package.json's napi.targets. Cargo strips the symbols (a sixth of the
# file); napi's own --strip, a linker -s, left the symbol table in place here.
build_native() {
  say "native addon"
  CARGO_PROFILE_RELEASE_STRIP=symbols npx --no-install napi build --platform --release --esm \
    --manifest-path crates/node/Cargo.toml --package-json-path package.json \
    --output-dir ts/backends/native/generated
}

build_ts() {
  say "TypeScript -> dist/"
  rm -rf dist
  npx --no-install tsc -p tsconfig.build.json
  cp -R ts/backends/wasm/generated dist/backends/wasm/generated
  cp -R ts/backends/native/generated dist/backends/native/generated
  # tsc does not copy the ONNX schema's generated protobuf code (.js), nor its licence.
  mkdir -p dist/interop/onnx
  cp -R ts/interop/onnx/generated ts/interop/onnx/LICENSE dist/interop/onnx/
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wasm native ts)
for target in "${targets[@]}"; do
  case "$target" in
    wasm) build_wasm ;;
    native) build_native ;;
    ts) build_ts ;;
    *) die "unknown build target '$target' (wasm, native or ts)" ;;
  esac
done
