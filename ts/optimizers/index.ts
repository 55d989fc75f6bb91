/** Optimizers by name, their hyperparameters, defaults and validation. */

import { checkFinite, checkInRange, checkOneOf, fail } from '../validation.js';

/** Every optimizer, by name. */
export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop'] as const;
/** An optimizer's name. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * Coupled weight decay, as PyTorch's `weight_decay`: `g <- g + weightDecay * p` before the
 * update. It applies to dense and conv2d weights only, never to biases or batch norm.
 */
interface CoupledDecay {
  /** Non-negative; default 0. */
  weightDecay?: number;
}

/** Plain gradient descent. */
export interface SgdConfig extends CoupledDecay {
  /** Selects this optimizer. */
  name: 'sgd';
  /** Default 0.01. */
  learningRate?: number;
}

/** Gradient descent with momentum in PyTorch's form: `buf = momentum buf + g; p -= lr buf`. */
export interface MomentumConfig extends CoupledDecay {
  /** Selects this optimizer. */
  name: 'momentum';
  /** Default 0.01. */
  learningRate?: number;
  /** In [0, 1); default 0.9. */
  momentum?: number;
}

/** Adam with bias correction (Kingma & Ba). */
export interface AdamConfig extends CoupledDecay {
  /** Selects this optimizer. */
  name: 'adam';
  /** Default 0.001. */
  learningRate?: number;
  /** In [0, 1); default 0.9. */
  beta1?: number;
  /** In [0, 1); default 0.999. */
  beta2?: number;
  /** Positive; default 1e-7 (as Keras). */
  epsilon?: number;
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`:
 * `p <- p - lr * weightDecay * p` (dense and conv2d weights only), then the Adam step.
 */
export interface AdamWConfig {
  /** Selects this optimizer. */
  name: 'adamw';
  /** Default 0.001. */
  learningRate?: number;
  /** In [0, 1); default 0.9. */
  beta1?: number;
  /** In [0, 1); default 0.999. */
  beta2?: number;
  /** Positive; default 1e-8 (as PyTorch). */
  epsilon?: number;
  /** Non-negative; default 0.01 (as PyTorch). */
  weightDecay?: number;
}

/** RMSprop as PyTorch's: `v = rho v + (1 - rho) g^2; p -= lr g / (sqrt(v) + epsilon)`. */
export interface RmspropConfig extends CoupledDecay {
  /** Selects this optimizer. */
  name: 'rmsprop';
  /** Default 0.001. */
  learningRate?: number;
  /** In [0, 1); default 0.9. */
  rho?: number;
  /** Positive; default 1e-7 (as Keras). */
  epsilon?: number;
}

/** An optimizer and its hyperparameters; omitted ones take their defaults. */
export type OptimizerConfig = SgdConfig | MomentumConfig | AdamConfig | AdamWConfig | RmspropConfig;

/** Every hyperparameter resolved; each optimizer reads the ones it uses. */
export interface OptimizerSettings {
  /** Which optimizer. */
  name: OptimizerName;
  /** Step size. */
  learningRate: number;
  /** Momentum's velocity decay (0 unless momentum). */
  momentum: number;
  /** The first-moment decay of Adam and AdamW (0 otherwise). */
  beta1: number;
  /** The second-moment decay of Adam and AdamW (0 otherwise). */
  beta2: number;
  /** The denominator guard of Adam, AdamW and RMSprop (0 otherwise). */
  epsilon: number;
  /** RMSprop's second-moment decay (0 unless rmsprop). */
  rho: number;
  /** Weight decay of dense and conv2d weights: coupled, or decoupled for adamw. */
  weightDecay: number;
}

const NONE = { momentum: 0, beta1: 0, beta2: 0, epsilon: 0, rho: 0, weightDecay: 0 };
const DEFAULTS: Record<OptimizerName, OptimizerSettings> = {
  sgd: { ...NONE, name: 'sgd', learningRate: 0.01 },
  momentum: { ...NONE, name: 'momentum', learningRate: 0.01, momentum: 0.9 },
  adam: { ...NONE, name: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  adamw: { ...NONE, name: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 },
  rmsprop: { ...NONE, name: 'rmsprop', learningRate: 0.001, rho: 0.9, epsilon: 1e-7 },
};

const ALLOWED_KEYS: Record<OptimizerName, readonly string[]> = {
  sgd: ['name', 'learningRate', 'weightDecay'],
  momentum: ['name', 'learningRate', 'momentum', 'weightDecay'],
  adam: ['name', 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'],
  adamw: ['name', 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'],
  rmsprop: ['name', 'learningRate', 'rho', 'epsilon', 'weightDecay'],
};

/** Validates an optimizer given as a name or a config (the `optimizer` option) and fills in defaults. */
export function resolveOptimizer(config: unknown): OptimizerSettings {
  const object = typeof config === 'string' ? { name: config } : config;
  if (typeof object !== 'object' || object === null) {
    fail('type', 'optimizer', `an optimizer name or config like { name: 'adam', learningRate: 0.001 }`, config);
  }
  const { name } = object as { name?: unknown };
  checkOneOf('optimizer.name', name, OPTIMIZERS);
  const settings = { ...DEFAULTS[name] };
  for (const [key, value] of Object.entries(object)) {
    if (!ALLOWED_KEYS[name].includes(key)) fail('range', `optimizer.${key}`, `one of ${ALLOWED_KEYS[name].join(', ')}`, key);
    if (key !== 'name' && value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
  }
  checkFinite('optimizer.learningRate', settings.learningRate);
  if (settings.learningRate <= 0) fail('range', 'optimizer.learningRate', 'a positive finite number', settings.learningRate);
  if (name === 'momentum') checkInRange('optimizer.momentum', settings.momentum, 0, 1, { high: true });
  if (name === 'adam' || name === 'adamw') {
    checkInRange('optimizer.beta1', settings.beta1, 0, 1, { high: true });
    checkInRange('optimizer.beta2', settings.beta2, 0, 1, { high: true });
  }
  if (name === 'rmsprop') checkInRange('optimizer.rho', settings.rho, 0, 1, { high: true });
  if (name === 'adam' || name === 'adamw' || name === 'rmsprop') {
    checkFinite('optimizer.epsilon', settings.epsilon);
    if (settings.epsilon <= 0) fail('range', 'optimizer.epsilon', 'a positive finite number', settings.epsilon);
  }
  checkFinite('optimizer.weightDecay', settings.weightDecay);
  if (settings.weightDecay < 0) fail('range', 'optimizer.weightDecay', 'a non-negative finite number', settings.weightDecay);
  return settings;
}

/** The config that {@link resolveOptimizer} turns back into `settings`: only the optimizer's own hyperparameters. */
export function optimizerConfig(settings: OptimizerSettings): OptimizerConfig {
  const entries = ALLOWED_KEYS[settings.name].map((key) => [key, settings[key as keyof OptimizerSettings]]);
  return Object.fromEntries(entries) as OptimizerConfig;
}
