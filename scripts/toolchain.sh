# Shared by setup.sh and build.sh: how this machine builds Rust for wasm32.
#
# Two routes are known to work (see README "Building"):
#   rustup  - a rustup toolchain with the wasm32-unknown-unknown target (a normal laptop).
#   debian  - Debian's rustc-web 1.96 with rust-web-src and lld-16, compiling std itself with
#             RUSTC_BOOTSTRAP=1 -Z build-std (machines where rustup cannot fetch wasm32's std).
# FERRONET_WASM_ROUTE=rustup|debian forces one.

# Whether rustup's toolchain has the standard library for target triple $1.
rustup_has_std() {
  command -v rustc >/dev/null 2>&1 || return 1
  local sysroot
  sysroot=$(rustc --print sysroot 2>/dev/null) || return 1
  [ -d "$sysroot/lib/rustlib/$1/lib" ]
}

# Whether rustup's toolchain has std's source, which -Z build-std compiles (the threaded wasm module).
rustup_has_rust_src() {
  command -v rustc >/dev/null 2>&1 || return 1
  [ -d "$(rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library/std" ]
}

rustup_has_wasm_std() {
  rustup_has_std wasm32-unknown-unknown
}

debian_has_wasm_route() {
  [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] && command -v wasm-ld-16 >/dev/null 2>&1 &&
    [ -d /usr/lib/rustlib/src/rust/library ]
}

# Prints the route to use, or fails with nothing printed.
wasm_route() {
  case "${FERRONET_WASM_ROUTE:-}" in
    rustup) rustup_has_wasm_std && echo rustup ;;
    debian) debian_has_wasm_route && echo debian ;;
    "") if rustup_has_wasm_std; then echo rustup; elif debian_has_wasm_route; then echo debian; else return 1; fi ;;
    *) echo "FERRONET_WASM_ROUTE must be rustup or debian, not '$FERRONET_WASM_ROUTE'" >&2; return 1 ;;
  esac
}

# The wasm-bindgen version that Cargo.lock pins; the CLI must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
