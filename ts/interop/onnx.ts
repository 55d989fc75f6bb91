/**
 * ONNX export: a network as an ONNX model that onnxruntime (Python, onnxruntime-node,
 * onnxruntime-web) runs, written with the protobufjs code generated from ONNX's own schema
 * (ts/interop/onnx/onnx.proto; scripts/generate-onnx.sh). docs/interop.md describes the graph:
 *
 * - Input `input` is `[N, ...inputShape]` in ferronet's layout (NHWC for images), output
 *   `output` is `[N, ...outputShape]`, what `predict` returns; `N` is any batch size.
 * - ONNX's Conv, pooling and BatchNormalization want channels first, so an image is transposed
 *   to NCHW before the first layer that needs it, and back to NHWC before a flatten (ferronet
 *   flattens channels last) and before the output. Weights keep ferronet's layout (dense
 *   `[units][inputs]` through Gemm's `transB`), except conv kernels, which ONNX wants
 *   `[filters][inChannels][kh][kw]`.
 * - Batch norm is in its inference form (the moving statistics); dropout, the identity in
 *   inference, is left out.
 *
 * The generated code is loaded on the first export, so bundles of apps that never export stay
 * without it. Nothing here imports from Node.
 */

import type { ModelContents } from '../io/model-file.js';
import { parameterShapes, windowGeometry, type ActivationName, type Padding, type ParameterShape, type ResolvedLayer } from '../layers/index.js';
import { VERSION } from '../version.js';
import { permute } from './layout.js';
import type { onnx } from './onnx/generated/onnx.js';

/** The generated ONNX messages and enums. */
type Onnx = typeof onnx;
type Node = onnx.NodeProto.$Properties;
type Attribute = onnx.AttributeProto.$Properties;
type Tensor = onnx.TensorProto.$Properties;
type ValueInfo = onnx.ValueInfoProto.$Properties;

/**
 * The operator set the graph uses: 13 is the first whose Softmax normalizes over one axis (so
 * channels-first data normalizes over axis 1, ferronet's channels), and every onnxruntime since
 * 1.6 runs it.
 */
const OPSET = 13;
/** The IR version of ONNX 1.8, the release that brought opset 13. */
const IR_VERSION = 7;
const INPUT = 'input';
const OUTPUT = 'output';
/** The batch dimension's name: any number of samples. */
const BATCH = 'N';
/** NHWC to NCHW; also ferronet's conv kernels `[f][kh][kw][c]` to ONNX's `[f][c][kh][kw]`. */
const TO_NCHW = [0, 3, 1, 2];
/** NCHW to NHWC. */
const TO_NHWC = [0, 2, 3, 1];

/** How the tensor between two layers is laid out: flat `[N, features]`, or an image channels last (ferronet's) or first (ONNX's). */
type Layout = 'flat' | 'nhwc' | 'nchw';

/** One of a layer's parameter buffers with its values. */
type Parameter = ParameterShape & { values: Float32Array };

/**
 * The ONNX model (a serialized `ModelProto`, opset 13) computing what `predict` computes for
 * the network in `contents`; the module comment describes the graph.
 */
export async function encodeOnnx({ header, parameters }: ModelContents): Promise<Uint8Array> {
  const { onnx } = await import('./onnx/generated/onnx.js');
  const graph = new GraphBuilder(onnx, header.inputShape.length === 3 ? 'nhwc' : 'flat');
  let offset = 0;
  header.layers.forEach((layer, index) => {
    const buffers = parameterShapes(layer).map((shape, p): Parameter => ({ ...shape, values: parameters[offset + p] as Float32Array }));
    offset += buffers.length;
    addLayer(graph, layer, `layers.${index}`, buffers);
  });
  const outputShape = (header.layers.at(-1) as ResolvedLayer).outputShape;
  const model: onnx.ModelProto.$Properties = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'ferronet',
    producerVersion: VERSION,
    graph: graph.finish(header.inputShape, outputShape),
  };
  // Copied out of protobufjs's writer, whose small results share a pooled ArrayBuffer.
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

/** Appends the nodes computing `layer` (named `name`, `layers.3`) in inference mode. */
function addLayer(graph: GraphBuilder, layer: ResolvedLayer, name: string, buffers: readonly Parameter[]): void {
  switch (layer.type) {
    case 'dense':
      // Gemm's transB takes ferronet's [units][inputs] weights as they are: y = x W^T + b.
      graph.apply(`${name}.gemm`, 'Gemm', [graph.int('transB', 1)], buffers.map((buffer) => graph.constant(name, buffer)));
      graph.activate(name, layer.activation, layer.alpha);
      return;
    case 'conv2d': {
      graph.toLayout('nchw', name);
      const [weights, ...bias] = buffers as [Parameter, ...Parameter[]];
      const kernel = { ...weights, shape: TO_NCHW.map((axis) => weights.shape[axis] as number), values: permute(weights.values, weights.shape, TO_NCHW) };
      const window = windowAttributes(graph, layer.inputShape, layer.kernelSize, layer.strides, layer.padding);
      graph.apply(`${name}.conv`, 'Conv', window, [kernel, ...bias].map((buffer) => graph.constant(name, buffer)));
      graph.activate(name, layer.activation, layer.alpha);
      return;
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      graph.toLayout('nchw', name);
      // Padding never takes part: ONNX's MaxPool skips it, and AveragePool divides by the real elements without count_include_pad.
      const window = windowAttributes(graph, layer.inputShape, layer.poolSize, layer.strides, layer.padding);
      if (layer.type === 'maxPool2d') graph.apply(`${name}.maxpool`, 'MaxPool', window);
      else graph.apply(`${name}.averagepool`, 'AveragePool', [...window, graph.int('count_include_pad', 0)]);
      return;
    }
    case 'batchNorm':
      // ONNX normalizes per axis 1: an image's channels once channels first, a flat input's features.
      if (graph.layout === 'nhwc') graph.toLayout('nchw', name);
      // gamma, beta, movingMean, movingVariance: the order of BatchNormalization's scale, B, mean and var.
      graph.apply(`${name}.batchnorm`, 'BatchNormalization', [graph.float('epsilon', layer.epsilon)], buffers.map((buffer) => graph.constant(name, buffer)));
      return;
    case 'dropout':
      return;
    case 'flatten':
      // Flattening flat data changes nothing.
      if (graph.layout === 'flat') return;
      graph.toLayout('nhwc', name);
      graph.apply(`${name}.flatten`, 'Flatten', [graph.int('axis', 1)]);
      graph.layout = 'flat';
      return;
    case 'activation':
      graph.activate(name, layer.activation, layer.alpha);
      return;
  }
}

/**
 * Conv's and pooling's `kernel_shape`, `strides` and `pads` for ferronet's window geometry over
 * an `[h, w, c]` input. `pads` is `[top, left, bottom, right]`: TensorFlow's 'same' puts the
 * larger half after, and with ceil_mode 0 ONNX's output extent
 * `floor((in + before + after - k) / s) + 1` is then ferronet's.
 */
function windowAttributes(graph: GraphBuilder, inputShape: readonly number[], window: readonly [number, number], strides: readonly [number, number], padding: Padding): Attribute[] {
  const [before, after] = [0, 1].map((axis) => {
    const [extent, k, stride] = [inputShape[axis] as number, window[axis] as number, strides[axis] as number];
    const geometry = windowGeometry(extent, k, stride, padding);
    return [geometry.before, Math.max((geometry.out - 1) * stride + k - extent - geometry.before, 0)];
  }) as [[number, number], [number, number]];
  return [graph.ints('kernel_shape', [...window]), graph.ints('strides', [...strides]), graph.ints('pads', [before[0], after[0], before[1], after[1]])];
}

/** The graph as it grows, node by node from `input`, with the layout of the tensor it has reached. */
class GraphBuilder {
  readonly #onnx: Onnx;
  readonly #nodes: Node[] = [];
  readonly #initializers: Tensor[] = [];
  /** The tensor the next node reads. */
  #current = INPUT;
  /** The layout of {@link GraphBuilder.#current}. */
  layout: Layout;

  constructor(generated: Onnx, layout: Layout) {
    this.#onnx = generated;
    this.layout = layout;
  }

  /** Appends `opType` reading the current tensor and then `inputs`; its output, named `name`, becomes the current tensor. */
  apply(name: string, opType: string, attributes: Attribute[] = [], inputs: string[] = []): void {
    this.#nodes.push({ name, opType, input: [this.#current, ...inputs], output: [name], attribute: attributes });
    this.#current = name;
  }

  /** Transposes an image to `layout` unless it is laid out so already. */
  toLayout(layout: 'nhwc' | 'nchw', name: string): void {
    if (this.layout === layout) return;
    this.apply(`${name}.to_${layout}`, 'Transpose', [this.ints('perm', layout === 'nchw' ? TO_NCHW : TO_NHWC)]);
    this.layout = layout;
  }

  /** Appends `activation` (nothing for linear); softmax normalizes over the channels, wherever the layout has them. */
  activate(name: string, activation: ActivationName, alpha: number): void {
    switch (activation) {
      case 'linear':
        return;
      case 'relu':
        this.apply(`${name}.relu`, 'Relu');
        return;
      case 'leakyRelu':
        this.apply(`${name}.leakyrelu`, 'LeakyRelu', [this.float('alpha', alpha)]);
        return;
      case 'tanh':
        this.apply(`${name}.tanh`, 'Tanh');
        return;
      case 'sigmoid':
        this.apply(`${name}.sigmoid`, 'Sigmoid');
        return;
      case 'softmax':
        this.apply(`${name}.softmax`, 'Softmax', [this.int('axis', this.layout === 'nchw' ? 1 : -1)]);
        return;
    }
  }

  /** Adds `buffer` as the float32 initializer `<layer>.<buffer name>` and returns that name. */
  constant(layer: string, { name, shape, values }: Parameter): string {
    const tensorName = `${layer}.${name}`;
    const rawData = new Uint8Array(4 * values.length);
    const view = new DataView(rawData.buffer);
    values.forEach((value, i) => {
      view.setFloat32(4 * i, value, true);
    });
    this.#initializers.push({ name: tensorName, dims: shape, dataType: this.#onnx.TensorProto.DataType.FLOAT, rawData });
    return tensorName;
  }

  /** An INT attribute. */
  int(name: string, i: number): Attribute {
    return { name, type: this.#onnx.AttributeProto.AttributeType.INT, i };
  }

  /** An INTS attribute. */
  ints(name: string, ints: number[]): Attribute {
    return { name, type: this.#onnx.AttributeProto.AttributeType.INTS, ints };
  }

  /** A FLOAT attribute. */
  float(name: string, f: number): Attribute {
    return { name, type: this.#onnx.AttributeProto.AttributeType.FLOAT, f };
  }

  /** The finished graph: back to NHWC if the data is channels first, its last node's output named `output`. */
  finish(inputShape: readonly number[], outputShape: readonly number[]): onnx.GraphProto.$Properties {
    if (this.layout === 'nchw') this.toLayout('nhwc', OUTPUT);
    const last = this.#nodes.at(-1);
    // A network of dropout and linear activations computes nothing: output is the input.
    if (last === undefined) this.apply(OUTPUT, 'Identity');
    else last.output = [OUTPUT];
    return {
      name: 'ferronet',
      node: this.#nodes,
      initializer: this.#initializers,
      input: [this.#value(INPUT, inputShape)],
      output: [this.#value(OUTPUT, outputShape)],
    };
  }

  /** A float32 tensor `[N, ...shape]` with any batch size `N`. */
  #value(name: string, shape: readonly number[]): ValueInfo {
    const dim = [{ dimParam: BATCH }, ...shape.map((dimValue) => ({ dimValue }))];
    return { name, type: { tensorType: { elemType: this.#onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
  }
}
