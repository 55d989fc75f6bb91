"""Checks ONNX models with ONNX's own checker and runs them with onnxruntime, for
test/interop/onnx.test.ts: an independent reader of what ferronet's ONNX export writes.

Usage: run_onnx.py MANIFEST.json, the manifest being
  {"models": [{"name": ..., "path": "model.onnx", "inputs": [{"shape": [...], "values": [...]}]}]}
(values flat, row-major). Prints one JSON object to stdout, by model name:
  {"error": "..."} when the checker or onnxruntime refuses the model, else
  {"outputs": [[...] per input], "outputShapes": [...], "inputDims": [...], "outputDims": [...],
   "opset": ..., "irVersion": ..., "producer": [name, version], "opTypes": [...]}
so that one broken model is reported without hiding the others.
"""

import json
import sys

import numpy as np
import onnx
import onnxruntime


def dims(value_info):
    """A graph input's or output's shape: dim_param names as strings, dim_values as ints."""
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def run(entry):
    model = onnx.load(entry["path"])
    onnx.checker.check_model(model, full_check=True)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = []
    for given in entry["inputs"]:
        x = np.asarray(given["values"], dtype=np.float32).reshape(given["shape"])
        (y,) = session.run(["output"], {"input": x})
        outputs.append(y)
    return {
        "outputs": [y.astype(np.float64).ravel().tolist() for y in outputs],
        "outputShapes": [list(y.shape) for y in outputs],
        "inputDims": dims(model.graph.input[0]),
        "outputDims": dims(model.graph.output[0]),
        "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")],
        "irVersion": model.ir_version,
        "producer": [model.producer_name, model.producer_version],
        "opTypes": [node.op_type for node in model.graph.node],
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        manifest = json.load(file)
    results = {}
    for entry in manifest["models"]:
        try:
            results[entry["name"]] = run(entry)
        except Exception as error:  # reported to the test, which names the model
            results[entry["name"]] = {"error": f"{type(error).__name__}: {error}"}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
