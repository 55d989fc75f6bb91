/**
 * What every importer (today TensorFlow.js models) hands to Network: an architecture read from a file
 * that ferronet did not write, checked as strictly as a model file, with the parameters each
 * format's reader found for each layer. Nothing is half-loaded: any problem is one
 * ModelFileError naming the file and what is wrong, before a backend sees anything.
 */

import { checkJsonObject, ModelFileError, type JsonObject, type ModelContents } from '../io/model-file.js';
import { checkInputShape, checkParameter, parameterShapes, resolveLayers, type ParameterShape, type ResolvedLayer } from '../layers/index.js';
import { VERSION } from '../version.js';

/** Reads one layer's parameter buffers from a format: one Float32Array per shape, in order (`layers` is the whole network). */
export type ParameterReader = (layer: ResolvedLayer, index: number, shapes: readonly ParameterShape[], layers: readonly ResolvedLayer[]) => Float32Array[];

/**
 * The model `source` describes: `inputShape` and `layers` as `Network.create` takes them
 * (validated here), parameters from `read`. TypeErrors and RangeErrors from validation or from
 * `read` become ModelFileErrors prefixed with `source`.
 */
export function importedContents(source: string, inputShape: unknown, layers: unknown, read: ParameterReader, metadata: JsonObject = {}): ModelContents {
  try {
    checkJsonObject('metadata', metadata);
    const shape = checkInputShape('inputShape', inputShape);
    const resolved = resolveLayers(shape, layers);
    const parameters = resolved.flatMap((layer, index) => {
      const shapes = parameterShapes(layer);
      const values = read(layer, index, shapes, resolved);
      if (values.length !== shapes.length) throw new RangeError(`layers[${index}]: expected ${shapes.length} parameter buffers, got ${values.length}`);
      shapes.forEach((parameter, p) => {
        checkParameter(`layers[${index}].${parameter.name}`, parameter, values[p]);
      });
      return values;
    });
    const header = { ferronet: VERSION, inputShape: shape, layers: resolved, seed: 0, training: null, metadata, checkpoint: null };
    return { header, parameters, optimizerState: [] };
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    if (error instanceof TypeError || error instanceof RangeError) throw new ModelFileError(`${source}: ${error.message}`);
    throw error;
  }
}
