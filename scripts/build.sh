#!/usr/bin/env bash
# Builds ferronet's artifacts: `build.sh` builds all; `build.sh wasm native ts` builds some.
#   wasm   - crates/wasm -> ts/backends/wasm/generated (wasm-bindgen --target web, then wasm-opt)
#   native - crates/node -> ts/backends/native/generated (napi-rs, release, this machine's platform)
#   ts     - ts/ -> dist/ (tsc), with both generated folders copied beside their loaders
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

# The wasm modules' compiler flags. Each comes in two builds: simd128 everywhere, and
# relaxed-simd (fused multiply-adds), which the loader picks where the engine validates it. The
# threaded one shares its memory between workers:
# atomics (so std is rebuilt with them, -Z build-std, on either route), an imported shared
# memory whose maximum must be declared (4 GiB, wasm32's whole range), and the TLS exports that
# wasm-bindgen uses to give each worker its own thread-locals and stack.
SINGLE_FLAGS="-C target-feature=+simd128"
RELAXED_FLAGS="-C target-feature=+simd128,+relaxed-simd"
THREADED_FLAGS="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals \
  -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
  -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
  -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"

# cargo_wasm ROUTE TARGET_DIR RUSTFLAGS BUILD_STD [cargo args...]: BUILD_STD is "yes" when std
# must be compiled with RUSTFLAGS' target features (always on the debian route).
cargo_wasm() {
  local route=$1 target_dir=$2 flags=$3 build_std=$4
  shift 4
  case "$route" in
    rustup)
      if [ "$build_std" = yes ]; then
        RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" cargo build --release --target wasm32-unknown-unknown \
          -p ferronet-wasm --target-dir "$target_dir" -Z build-std=std,panic_abort "$@"
      else
        RUSTFLAGS="$flags" cargo build --release --target wasm32-unknown-unknown -p ferronet-wasm \
          --target-dir "$target_dir" "$@"
      fi ;;
    debian)
      # rustup's cargo and rustc come first on PATH; the build-std route needs Debian's 1.96
      # for both (Debian's cargo would otherwise run rustup's rustc).
      RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags -C linker=wasm-ld-16" \
        /usr/bin/cargo build --release --target wasm32-unknown-unknown -p ferronet-wasm \
        --target-dir "$target_dir" -Z build-std=std,panic_abort "$@" ;;
  esac
}

WASM_OPT_FEATURES=(--enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

# bindgen_wasm WASM OUT_NAME [wasm-opt features...]: wasm-bindgen's glue, then wasm-opt.
bindgen_wasm() {
  local wasm=$1 name=$2 out_dir=ts/backends/wasm/generated
  shift 2
  if [ "$out_dir/${name}_bg.wasm" -nt "$wasm" ] && [ "$out_dir/$name.js" -nt "$wasm" ]; then
    return 0
  fi
  wasm-bindgen --target web --out-dir "$out_dir" --out-name "$name" "$wasm"
  # npm's binaryen: Debian's wasm-opt 108 breaks wasm-bindgen's externref table.
  npx --no-install wasm-opt -O3 "${WASM_OPT_FEATURES[@]}" "$@" "$out_dir/${name}_bg.wasm" -o "$out_dir/${name}_bg.wasm"
}

# bindgen_relaxed WASM OUT_NAME [wasm-opt features...]: the relaxed-simd build of module
# OUT_NAME, as OUT_NAME_relaxed_bg.wasm. It shares OUT_NAME's glue: the same crate gives
# wasm-bindgen the same imports and exports whatever the target features, which is checked.
bindgen_relaxed() {
  local wasm=$1 name=$2 out_dir=ts/backends/wasm/generated scratch
  shift 2
  [ "$out_dir/${name}_relaxed_bg.wasm" -nt "$wasm" ] && return 0
  scratch=$(mktemp -d)
  wasm-bindgen --target web --out-dir "$scratch" --out-name "$name" "$wasm"
  cmp -s "$scratch/$name.js" "$out_dir/$name.js" ||
    die "the relaxed-simd build of $name needs glue of its own (wasm-bindgen's output differs from $out_dir/$name.js)"
  npx --no-install wasm-opt -O3 "${WASM_OPT_FEATURES[@]}" --enable-relaxed-simd "$@" "$scratch/${name}_bg.wasm" \
    -o "$out_dir/${name}_relaxed_bg.wasm"
  rm -rf "$scratch"
}

build_wasm() {
  local route target_dir
  route=$(wasm_route) || die "no way to build wasm32 here: run 'npm run setup' (it installs one), or 'rustup target add wasm32-unknown-unknown'"
  say "wasm modules (route: $route): one thread and threads, each with simd128 and with relaxed-simd"
  target_dir="target/wasm-$route"
  cargo_wasm "$route" "$target_dir" "$SINGLE_FLAGS" no
  bindgen_wasm "$target_dir/wasm32-unknown-unknown/release/ferronet_wasm.wasm" ferronet_wasm
  cargo_wasm "$route" "$target_dir-relaxed" "$RELAXED_FLAGS" no
  bindgen_relaxed "$target_dir-relaxed/wasm32-unknown-unknown/release/ferronet_wasm.wasm" ferronet_wasm
  [ "$route" = debian ] || rustup_has_rust_src ||
    die "the threaded wasm module rebuilds std: run 'npm run setup' (it adds it), or 'rustup component add rust-src'"
  cargo_wasm "$route" "$target_dir-threads" "$THREADED_FLAGS" yes --features threads
  bindgen_wasm "$target_dir-threads/wasm32-unknown-unknown/release/ferronet_wasm.wasm" ferronet_wasm_threads --enable-threads
  cargo_wasm "$route" "$target_dir-threads-relaxed" "${THREADED_FLAGS/+simd128,/+simd128,+relaxed-simd,}" yes --features threads
  bindgen_relaxed "$target_dir-threads-relaxed/wasm32-unknown-unknown/release/ferronet_wasm.wasm" ferronet_wasm_threads --enable-threads
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
  cp ts/backends/wasm/pool-thread.*.mjs dist/backends/wasm/
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
