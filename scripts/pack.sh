#!/usr/bin/env bash
# Builds the npm package as it is published from here (`npm run package`): everything built
# afresh by scripts/build.sh (this machine's native binary among it), the native addon for each
# other platform in package.json's napi.targets cross-compiled with Debian's gcc cross
# toolchain, then `npm pack` with this script's arguments (--dry-run, --pack-destination DIR).
#
# Every binary is ferronet.<platform>.node in dist/backends/native/generated/, where napi-rs's
# generated loader picks the one for the machine it runs on. The cross-compiled ones go to
# target/package/ and into dist/ only here, so a development build never packs a stale copy.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

bash scripts/build.sh

host=$(rustc -vV | awk '/^host:/ { print $2 }')
for target in $(node -p 'require("./package.json").napi.targets.join(" ")'); do
  [ "$target" != "$host" ] || continue
  case "$target" in
    *-unknown-linux-gnu) ;;
    *) die "$target: only Linux (glibc) targets can be cross-compiled here" ;;
  esac
  arch=${target%%-*}
  linker="$arch-linux-gnu-gcc"
  command -v "$linker" >/dev/null || die "$target needs the cross linker $linker: apt-get install gcc-${arch//_/-}-linux-gnu"
  rustup_has_std "$target" || die "$target needs Rust's standard library for it: rustup target add $target"
  say "native addon for $target (cross-compiled)"
  out_dir="target/package/$target"
  env "CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_LINKER=$linker" CARGO_PROFILE_RELEASE_STRIP=symbols \
    npx --no-install napi build --platform --release --target "$target" --no-js \
    --manifest-path crates/node/Cargo.toml --package-json-path package.json --output-dir "$out_dir"
  cp "$out_dir"/ferronet.*.node dist/backends/native/generated/
done

say "npm pack"
npm pack "$@"
