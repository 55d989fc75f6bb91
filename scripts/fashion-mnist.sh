#!/usr/bin/env bash
# The Fashion-MNIST quality bars, on each backend in turn; prints test accuracy, training
# throughput and seconds per epoch per backend. Not part of npm test: the ts backend alone
# takes tens of minutes.
#
#   mlp (npm run train:fashion): 784-256-128-10 relu, adam 1e-3, batch 128, 10 epochs.
#   cnn (npm run train:fashion-cnn): ferronet train fashion-mnist --model cnn (docs/cli.md),
#       adam 1e-3, batch 128, 10 epochs; the ts backend on a subset: FERRONET_FASHION_TS_SUBSET,
#       default "--limit 3000 --epochs 1" (the full run takes hours there; set it empty for it).
#
#   bash scripts/fashion-mnist.sh                      # the mlp on native, wasm and ts
#   bash scripts/fashion-mnist.sh native wasm          # some of them
#   bash scripts/fashion-mnist.sh --model cnn native   # the cnn
#   FERRONET_FASHION_ARGS="--data DIR" bash scripts/fashion-mnist.sh   # extra train flags
#
# Models, pictures and each run's JSON lines go to runs/fashion-mnist/ (the cnn's to
# runs/fashion-mnist-cnn/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

model=mlp
if [ "${1:-}" = --model ]; then
  model=${2:-}
  shift 2 || true
fi
case "$model" in
  mlp) out=runs/fashion-mnist ;;
  cnn) out=runs/fashion-mnist-cnn ;;
  *) die "--model: expected mlp or cnn, got '$model'" ;;
esac
[ -f dist/cli/main.js ] || die "dist/cli/main.js is missing: run npm run build"
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(native wasm ts)
mkdir -p "$out"
runs=() # backend, then the flags it ran with beyond the defaults (or "none"), for the summary

for backend in "${backends[@]}"; do
  subset=
  [ "$model" = cnn ] && [ "$backend" = ts ] && subset=${FERRONET_FASHION_TS_SUBSET-"--limit 3000 --epochs 1"}
  say "Fashion-MNIST, $model, on the $backend backend${subset:+ ($subset)}"
  # shellcheck disable=SC2086 # the extra flags are meant to split into words
  node dist/cli/main.js train fashion-mnist --model "$model" --backend "$backend" --out "$out/$backend.fnet" --json $subset ${FERRONET_FASHION_ARGS:-} |
    tee "$out/$backend.jsonl"
  extra="${subset:+$subset }${FERRONET_FASHION_ARGS:-}"
  runs+=("$backend" "${extra:-none}")
done

say "summary ($model; test accuracy of the kept weights; samples/s and seconds per epoch: means over the epochs, validation included in the seconds)"
node --input-type=module - "$out" "${runs[@]}" <<'JS'
import { readFileSync } from 'node:fs';
const [out, ...runs] = process.argv.slice(2);
const mean = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;
console.log('backend  test accuracy  samples/s  s/epoch  epochs  extra flags');
for (let i = 0; i < runs.length; i += 2) {
  const [backend, extra] = runs.slice(i, i + 2);
  const lines = readFileSync(`${out}/${backend}.jsonl`, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  const epochs = lines.filter((line) => 'epoch' in line);
  const test = lines.find((line) => 'testAccuracy' in line);
  const rate = Math.round(mean(epochs.map((line) => line.samplesPerSec))).toLocaleString('en-US');
  const seconds = mean(epochs.map((line) => line.seconds)).toFixed(1);
  console.log(
    `${backend.padEnd(8)} ${`${(100 * test.testAccuracy).toFixed(2)}%`.padStart(13)}  ${rate.padStart(9)}  ${seconds.padStart(7)}  ${String(epochs.length).padStart(6)}  ${extra}`,
  );
}
JS
