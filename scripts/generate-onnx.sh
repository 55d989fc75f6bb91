#!/usr/bin/env bash
# Regenerates ts/interop/onnx/generated/onnx.{js,d.ts}, the ONNX export's protobuf code, from
# ONNX's own schema ts/interop/onnx/onnx.proto (onnx/onnx.proto of onnx 1.23.2, verbatim) with
# the protobufjs-cli that package-lock.json pins. Both outputs are committed, so building needs
# no generator; run this after replacing the schema with a newer release's.
#
# Static code, so tsc checks field names against the .d.ts; encode only (ferronet writes ONNX and
# never reads it), int64 fields as plain numbers (dims and versions are far below 2^53).
set -euo pipefail
cd "$(dirname "$0")/.."
npx --no-install pbjs --target static-module --wrap esm --force-number \
  --no-create --no-decode --no-verify --no-convert --no-delimited --no-typeurl --no-service \
  --dts --out ts/interop/onnx/generated/onnx.js ts/interop/onnx/onnx.proto
