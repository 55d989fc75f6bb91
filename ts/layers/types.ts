/**
 * Layers as a backend receives them: every default filled in, every shape known. These are
 * the one description of a network that ts/layers produces, the ts backend runs and the Rust
 * model receives as JSON (`JSON.stringify(layer)`; Rust ignores `inputShape`/`outputShape`
 * and recomputes them, since its own shapes are what protect its memory).
 *
 * Shapes are per sample: `[features]` for flat data, `[height, width, channels]` (NHWC) for
 * images. docs/layers.md gives each kind's maths.
 */

/** Every activation, by the name the API and the Rust kernels share. */
export const ACTIVATIONS = ['linear', 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'softmax'] as const;
/** An activation's name. */
export type ActivationName = (typeof ACTIVATIONS)[number];

/** Every layer kind, by the `type` users write. */
export const LAYER_TYPES = ['dense', 'conv2d', 'maxPool2d', 'avgPool2d', 'batchNorm', 'dropout', 'flatten', 'activation'] as const;
/** A layer kind's name. */
export type LayerType = (typeof LAYER_TYPES)[number];

/** `'valid'`: no padding; `'same'`: TensorFlow's, output `ceil(input / stride)`, the smaller half of the padding before. */
export type Padding = 'valid' | 'same';

/** What every resolved layer knows about its place in the network. */
interface Placed {
  /** The shape of one sample entering the layer. */
  inputShape: number[];
  /** The shape of one sample leaving it. */
  outputShape: number[];
}

/** A fully connected layer: `y = f(x W^T + b)`, weights `[units][inputs]`. */
export interface DenseLayer extends Placed {
  /** The kind. */
  type: 'dense';
  /** Inputs per sample (the input shape must be flat). */
  inputs: number;
  /** Outputs per sample. */
  units: number;
  /** The activation applied to the outputs. */
  activation: ActivationName;
  /** The leaky-ReLU slope; 0 for other activations. */
  alpha: number;
  /** Whether the layer has a bias. */
  useBias: boolean;
}

/** A 2-D convolution over NHWC data, weights `[filters][kh][kw][inChannels]`. */
export interface Conv2dLayer extends Placed {
  /** The kind. */
  type: 'conv2d';
  /** Output channels. */
  filters: number;
  /** `[kh, kw]`. */
  kernelSize: [number, number];
  /** `[sh, sw]`. */
  strides: [number, number];
  /** How the input is padded. */
  padding: Padding;
  /** The activation applied to the outputs. */
  activation: ActivationName;
  /** The leaky-ReLU slope; 0 for other activations. */
  alpha: number;
  /** Whether the layer has a bias (one per filter). */
  useBias: boolean;
}

/** Max or average pooling over each channel's windows. */
export interface Pool2dLayer extends Placed {
  /** The kind: the maximum or the mean of each window. */
  type: 'maxPool2d' | 'avgPool2d';
  /** `[h, w]`. */
  poolSize: [number, number];
  /** `[sh, sw]`. */
  strides: [number, number];
  /** How the input is padded. */
  padding: Padding;
}

/** Batch normalization over every axis but the last. */
export interface BatchNormLayer extends Placed {
  /** The kind. */
  type: 'batchNorm';
  /** Moving statistics: `moving = momentum * moving + (1 - momentum) * batch`. */
  momentum: number;
  /** Added to the variance before the square root. */
  epsilon: number;
}

/** Inverted dropout: in training, each element is kept (and scaled by `1 / (1 - rate)`) when `u >= rate`. */
export interface DropoutLayer extends Placed {
  /** The kind. */
  type: 'dropout';
  /** In [0, 1). */
  rate: number;
}

/** `[h, w, c]` to `[h * w * c]` in NHWC order. */
export interface FlattenLayer extends Placed {
  /** The kind. */
  type: 'flatten';
}

/** An activation on its own (Keras's `Activation` layer). */
export interface ActivationLayer extends Placed {
  /** The kind. */
  type: 'activation';
  /** The activation applied. */
  activation: ActivationName;
  /** The leaky-ReLU slope; 0 for other activations. */
  alpha: number;
}

/** A layer with every default filled in and its shapes known. */
export type ResolvedLayer = DenseLayer | Conv2dLayer | Pool2dLayer | BatchNormLayer | DropoutLayer | FlattenLayer | ActivationLayer;

/**
 * A layer's parameter buffers, in the order the backends store them (and model files, and
 * `getWeights`): dense and conv2d `weights` then `bias` (when `useBias`), batchNorm `gamma`,
 * `beta`, `movingMean`, `movingVariance`, other kinds none.
 */
export type ParameterName = 'weights' | 'bias' | 'gamma' | 'beta' | 'movingMean' | 'movingVariance';
