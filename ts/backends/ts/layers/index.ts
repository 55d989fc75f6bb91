/**
 * The ts backend's registry of layer kinds: one line per kind, mapping a resolved layer's
 * `type` to the class (one file per kind in this folder) that runs it.
 */

import type { LayerType, ResolvedLayer } from '../../../layers/types.js';
import { Activation } from './activation.js';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import { Flatten } from './flatten.js';
import type { TsLayer } from './layer.js';
import { Pool2d } from './pool.js';

export type { Parameter, TsLayer } from './layer.js';

const KINDS: { [Type in LayerType]: (layer: Extract<ResolvedLayer, { type: Type }>) => TsLayer } = {
  dense: (layer) => new Dense(layer),
  conv2d: (layer) => new Conv2d(layer),
  maxPool2d: (layer) => new Pool2d(layer),
  avgPool2d: (layer) => new Pool2d(layer),
  batchNorm: (layer) => new BatchNorm(layer),
  dropout: (layer) => new Dropout(layer),
  flatten: (layer) => new Flatten(layer),
  activation: (layer) => new Activation(layer),
};

/** The layer that runs `layer`, its parameters zero. */
export function createLayer(layer: ResolvedLayer): TsLayer {
  // The mapped type pairs each type with its own constructor; TypeScript cannot follow that through the union.
  return (KINDS[layer.type] as (layer: ResolvedLayer) => TsLayer)(layer);
}
