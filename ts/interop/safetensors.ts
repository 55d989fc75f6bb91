/**
 * Safetensors files in PyTorch's names and layouts, so that a PyTorch module whose layers are
 * `self.layers = nn.ModuleList(...)` loads them with `load_state_dict(strict=True)`
 * (interop/pytorch/ferronet_torch.py builds that module). The rules (docs/interop.md):
 *
 * - Every tensor is float32, named `layers.{i}.weight` and `layers.{i}.bias` (i is ferronet's
 *   layer index); batch norm's are `weight`, `bias`, `running_mean` and `running_var`
 *   (gamma, beta and the moving statistics). PyTorch's integer `num_batches_tracked` is not
 *   stored, and ignored when a file holds it.
 * - Dense weights are `[out][in]` as in ferronet; conv kernels become `[out][in][kh][kw]`.
 *   ferronet flattens images in (h, w, c) order and PyTorch in (c, h, w) order, so the
 *   per-feature parameters after a flatten (batch norm's, and the first dense layer's
 *   columns) are stored in PyTorch's order.
 * - `__metadata__` holds `format` ("ferronet"), the `ferronet` version, and as JSON the
 *   `inputShape`, the `layers` (as `Network.create` takes them) and the network's `metadata`.
 *
 * Writing is a few lines here (a JSON header and the floats). Reading parses untrusted bytes,
 * which the format's own Rust crate does in the compiled backends: {@link decodeSafetensors}
 * is handed that crate's index of the file.
 */

import { checkJsonObject, ModelFileError, type JsonObject, type ModelContents } from '../io/model-file.js';
import { formatShape, layerConfig, parameterShapes, type ParameterName, type ParameterShape, type ResolvedLayer } from '../layers/index.js';
import { clip, quote } from '../validation.js';
import { VERSION } from '../version.js';
import { importedContents } from './contents.js';
import { inverse, permute } from './layout.js';

/** `__metadata__.format` of the files ferronet writes. */
export const SAFETENSORS_FORMAT = 'ferronet';

/** PyTorch's name for each of ferronet's parameter buffers (nn.Linear, nn.Conv2d, nn.BatchNorm). */
const TORCH_NAMES: Record<ParameterName, string> = {
  weights: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  movingMean: 'running_mean',
  movingVariance: 'running_var',
};

/**
 * How one parameter buffer moves to PyTorch's layout: seen with extents `shape`, its axes go
 * to `order` (as {@link permute} takes it), and the file declares it with extents `fileShape`.
 */
interface TorchLayout {
  shape: number[];
  order: number[];
  fileShape: number[];
}

/** The PyTorch layout of every parameter buffer of `layers`, layer by layer. */
function torchLayouts(layers: readonly ResolvedLayer[]): TorchLayout[][] {
  // The [h, w, c] of the last flatten of an image, while its features keep ferronet's order.
  let flattened: number[] | null = null;
  return layers.map((layer) => {
    if (layer.type === 'flatten' && layer.inputShape.length === 3) flattened = layer.inputShape;
    const layouts = parameterShapes(layer).map((parameter) => layoutOf(layer, parameter, flattened));
    if (layer.type === 'dense') flattened = null;
    return layouts;
  });
}

function layoutOf(layer: ResolvedLayer, parameter: ParameterShape, flattened: number[] | null): TorchLayout {
  const same = { shape: parameter.shape, order: parameter.shape.map((_, axis) => axis), fileShape: parameter.shape };
  if (layer.type === 'conv2d' && parameter.name === 'weights') {
    const [filters, kh, kw, channels] = parameter.shape as [number, number, number, number];
    return { shape: parameter.shape, order: [0, 3, 1, 2], fileShape: [filters, channels, kh, kw] };
  }
  if (flattened === null) return same;
  const [h, w, c] = flattened as [number, number, number];
  if (layer.type === 'dense' && parameter.name === 'weights') return { shape: [layer.units, h, w, c], order: [0, 3, 1, 2], fileShape: parameter.shape };
  if (layer.type === 'batchNorm') return { shape: [h, w, c], order: [2, 0, 1], fileShape: parameter.shape };
  return same;
}

function tensorName(layer: number, parameter: ParameterName): string {
  return `layers.${layer}.${TORCH_NAMES[parameter]}`;
}

/** The model as a safetensors file (see the module's comment for names, layouts and metadata). */
export function encodeSafetensors({ header, parameters }: ModelContents): Uint8Array {
  checkJsonObject('metadata', header.metadata);
  const layouts = torchLayouts(header.layers);
  const tensors = header.layers.flatMap((layer, index) =>
    parameterShapes(layer).map((parameter, p) => ({ name: tensorName(index, parameter.name), layout: layouts[index]?.[p] as TorchLayout })),
  );
  const json: Record<string, unknown> = {
    __metadata__: {
      format: SAFETENSORS_FORMAT,
      ferronet: VERSION,
      inputShape: JSON.stringify(header.inputShape),
      layers: JSON.stringify(header.layers.map(layerConfig)),
      metadata: JSON.stringify(header.metadata),
    },
  };
  let offset = 0;
  for (const [i, { name, layout }] of tensors.entries()) {
    const length = 4 * (parameters[i] as Float32Array).length;
    json[name] = { dtype: 'F32', shape: layout.fileShape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  const jsonBytes = new TextEncoder().encode(JSON.stringify(json));
  // Spaces pad the header to a multiple of 8, as the format's own writer does, so the data is aligned.
  const headerLength = Math.ceil(jsonBytes.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  bytes.set(jsonBytes, 8);
  bytes.fill(0x20, 8 + jsonBytes.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [i, { layout }] of tensors.entries()) {
    for (const value of permute(parameters[i] as Float32Array, layout.shape, layout.order)) {
      view.setFloat32(at, value, true);
      at += 4;
    }
  }
  return bytes;
}

/** A tensor as the safetensors crate's index describes it: byte offsets from the start of the file. */
interface IndexedTensor {
  name: string;
  dtype: string;
  shape: number[];
  start: number;
  end: number;
}

/** What the crate's index holds (crates/kernels/src/safetensors.rs). */
interface SafetensorsIndex {
  metadata: Record<string, string> | null;
  tensors: IndexedTensor[];
}

/**
 * The model in `bytes`, a safetensors file that `index` (the crate's JSON index of it)
 * describes. Anything wrong (no ferronet metadata, a missing, extra or misshapen tensor, a
 * dtype other than F32) is one ModelFileError prefixed with `source`.
 */
export function decodeSafetensors(bytes: Uint8Array, index: string, source: string): ModelContents {
  const { metadata, tensors } = JSON.parse(index) as SafetensorsIndex;
  const strings = metadata ?? {};
  if (strings.format !== SAFETENSORS_FORMAT || strings.layers === undefined || strings.inputShape === undefined) {
    throw new ModelFileError(
      `${source}: no ferronet architecture in __metadata__ (expected format "${SAFETENSORS_FORMAT}" with inputShape and layers, as net.toSafetensors() and ferronet_torch.save_safetensors write)`,
    );
  }
  const byName = new Map(tensors.map((tensor) => [tensor.name, tensor]));
  const used = new Set<string>();
  let layouts: TorchLayout[][] | null = null;
  const contents = importedContents(
    source,
    parseJson(source, 'inputShape', strings.inputShape),
    parseJson(source, 'layers', strings.layers),
    (layer, layerIndex, shapes, layers) => {
      layouts ??= torchLayouts(layers);
      return shapes.map((shape, p) => {
        const name = tensorName(layerIndex, shape.name);
        const tensor = byName.get(name);
        if (tensor === undefined) throw new RangeError(`layers[${layerIndex}] (${layer.type}): no tensor "${name}" in the file`);
        if (tensor.dtype !== 'F32') throw new RangeError(`tensor "${name}": dtype ${tensor.dtype}, expected F32`);
        const layout = layouts?.[layerIndex]?.[p] as TorchLayout;
        if (formatShape(tensor.shape) !== formatShape(layout.fileShape)) {
          throw new RangeError(`tensor "${name}": shape ${clip(formatShape(tensor.shape))}, where layers[${layerIndex}] (${layer.type}) needs ${formatShape(layout.fileShape)}`);
        }
        used.add(name);
        const torchShape = layout.order.map((axis) => layout.shape[axis] as number);
        return permute(readFloats(bytes, tensor.start, tensor.end), torchShape, inverse(layout.order));
      });
    },
    parseJson(source, 'metadata', strings.metadata ?? '{}') as JsonObject,
  );
  const leftover = tensors.find(({ name }) => !used.has(name) && !/^layers\.\d+\.num_batches_tracked$/.test(name));
  if (leftover !== undefined) throw new ModelFileError(`${source}: tensor ${quote(leftover.name)} belongs to none of the layers' parameters`);
  return contents;
}

function parseJson(source: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(`${source}: __metadata__.${key} is not JSON (${(error as Error).message})`);
  }
}

/** The little-endian float32 values in `bytes[start, end)` (copied: a tensor's offset need not be 4-byte aligned). */
function readFloats(bytes: Uint8Array, start: number, end: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - start);
  const values = new Float32Array((end - start) / 4);
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(4 * i, true);
  return values;
}
