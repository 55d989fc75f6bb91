#!/usr/bin/env bash
# The Fashion-MNIST quality bar: 784-256-128-10 relu, adam 1e-3, batch 128, 10 epochs, on each
# backend in turn; prints test accuracy and training throughput per backend. Not part of
# npm test: the ts backend alone takes tens of minutes.
#
#   bash scripts/fashion-mnist.sh                 # native, wasm and ts
#   bash scripts/fashion-mnist.sh native wasm     # some of them
#   FERRONET_FASHION_ARGS="--data DIR" bash scripts/fashion-mnist.sh   # extra train flags
#
# Models, pictures and each run's JSON lines go to runs/fashion-mnist/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

[ -f dist/cli/main.js ] || die "dist/cli/main.js is missing: run npm run build"
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(native wasm ts)
out=runs/fashion-mnist
mkdir -p "$out"

for backend in "${backends[@]}"; do
  say "Fashion-MNIST on the $backend backend"
  # shellcheck disable=SC2086 # the extra flags are meant to split into words
  node dist/cli/main.js train fashion-mnist --backend "$backend" --out "$out/$backend.fnet" --json ${FERRONET_FASHION_ARGS:-} |
    tee "$out/$backend.jsonl"
done

say "summary (test accuracy of the kept weights; samples/s: mean over the epochs)"
node --input-type=module - "$out" "${backends[@]}" <<'JS'
import { readFileSync } from 'node:fs';
const [out, ...backends] = process.argv.slice(2);
console.log('backend  test accuracy  samples/s');
for (const backend of backends) {
  const lines = readFileSync(`${out}/${backend}.jsonl`, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const epochs = lines.filter((line) => 'epoch' in line);
  const test = lines.find((line) => 'testAccuracy' in line);
  const rate = epochs.reduce((sum, line) => sum + line.samplesPerSec, 0) / epochs.length;
  console.log(`${backend.padEnd(8)} ${`${(100 * test.testAccuracy).toFixed(2)}%`.padStart(13)}  ${Math.round(rate).toLocaleString('en-US').padStart(9)}`);
}
JS
