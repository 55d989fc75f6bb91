/** Optimizers by name, their hyperparameters, defaults and validation. */

import { checkFinite, checkInRange, checkOneOf, fail } from '../validation.js';

/** Every optimizer, by name. */
export const OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;
/** An optimizer's name. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Plain gradient descent. */
export interface SgdConfig {
  /** Selects this optimizer. */
  name: 'sgd';
  /** Default 0.01. */
  learningRate?: number;
}

/** Gradient descent with classical momentum: `v = momentum v - lr g; p += v`. */
export interface MomentumConfig {
  /** Selects this optimizer. */
  name: 'momentum';
  /** Default 0.01. */
  learningRate?: number;
  /** In [0, 1); default 0.9. */
  momentum?: number;
}

/** Adam with bias correction (Kingma & Ba). */
export interface AdamConfig {
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

/** An optimizer and its hyperparameters; omitted ones take their defaults. */
export type OptimizerConfig = SgdConfig | MomentumConfig | AdamConfig;

/** Every hyperparameter resolved; each optimizer reads the ones it uses. */
export interface OptimizerSettings {
  /** Which optimizer. */
  name: OptimizerName;
  /** Step size. */
  learningRate: number;
  /** Momentum's velocity decay (0 unless momentum). */
  momentum: number;
  /** Adam's first-moment decay (0 unless adam). */
  beta1: number;
  /** Adam's second-moment decay (0 unless adam). */
  beta2: number;
  /** Adam's denominator guard (0 unless adam). */
  epsilon: number;
}

const DEFAULTS: Record<OptimizerName, OptimizerSettings> = {
  sgd: { name: 'sgd', learningRate: 0.01, momentum: 0, beta1: 0, beta2: 0, epsilon: 0 },
  momentum: { name: 'momentum', learningRate: 0.01, momentum: 0.9, beta1: 0, beta2: 0, epsilon: 0 },
  adam: { name: 'adam', learningRate: 0.001, momentum: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
};

const ALLOWED_KEYS: Record<OptimizerName, readonly string[]> = {
  sgd: ['name', 'learningRate'],
  momentum: ['name', 'learningRate', 'momentum'],
  adam: ['name', 'learningRate', 'beta1', 'beta2', 'epsilon'],
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
  if (name === 'adam') {
    checkInRange('optimizer.beta1', settings.beta1, 0, 1, { high: true });
    checkInRange('optimizer.beta2', settings.beta2, 0, 1, { high: true });
    checkFinite('optimizer.epsilon', settings.epsilon);
    if (settings.epsilon <= 0) fail('range', 'optimizer.epsilon', 'a positive finite number', settings.epsilon);
  }
  return settings;
}

/** The config that {@link resolveOptimizer} turns back into `settings`: only the optimizer's own hyperparameters. */
export function optimizerConfig(settings: OptimizerSettings): OptimizerConfig {
  const entries = ALLOWED_KEYS[settings.name].map((key) => [key, settings[key as keyof OptimizerSettings]]);
  return Object.fromEntries(entries) as OptimizerConfig;
}
