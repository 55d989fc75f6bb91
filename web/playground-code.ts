/**
 * "Show the code": the TypeScript that reproduces the playground's current setup with
 * ferronet's public API. The data-set code is web/playground-data.ts itself (its regions, read
 * as text through Vite's `?raw`), so the code shown makes the very points the page trains on.
 */

import dataSource from './playground-data.ts?raw';
import { DATASETS } from './playground-data.js';
import { layerConfigs, optimizerConfig, type PlaygroundState } from './playground-state.js';

/** The text of `// #region name` ... `// #endregion name` in web/playground-data.ts, without `export`. */
export function region(source: string, name: string): string {
  const match = new RegExp(`// #region ${name}\\n([\\s\\S]*?)// #endregion ${name}`).exec(source);
  if (!match) throw new Error(`web/playground-data.ts has no region ${name}`);
  return (match[1] as string).replace(/^export /gm, '').trimEnd();
}

/** A value as a TypeScript literal: identifier keys bare, strings in single quotes. */
export function literal(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : literal(key)}: ${literal(item)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  return String(value);
}

/** The code for `state`, as a module for Node or a bundler (top-level await). */
export function generateCode(state: PlaygroundState): string {
  const layers = layerConfigs(state).map((layer) => `    ${literal(layer)},`).join('\n');
  const fit =
    state.epoch > 0
      ? [
          `// ${state.epoch} epochs, as the playground trained; the test set is evaluated after each one.`,
          `const history = await trainer.fit(trainInputs, train.y, { epochs: ${state.epoch}, validationData: { x: testInputs, y: test.y } });`,
          "console.log('training loss', history.loss.at(-1), 'test loss', history.valLoss.at(-1));",
          "console.log('test accuracy', net.evaluate(testInputs, test.y).accuracy);",
        ]
      : [
          '// The playground has not trained yet: choose the epochs.',
          'const history = await trainer.fit(trainInputs, train.y, { epochs: 100, validationData: { x: testInputs, y: test.y } });',
          "console.log('training loss', history.loss.at(-1), 'test loss', history.valLoss.at(-1));",
        ];
  return [
    `// ferronet playground: ${DATASETS[state.dataset].label}, noise ${state.noise}, ${state.trainPercent}% for training, seed ${state.seed}.`,
    "import { Network, Random, Trainer } from 'ferronet';",
    '',
    region(dataSource, 'points'),
    '',
    region(dataSource, state.dataset),
    '',
    region(dataSource, 'split'),
    '',
    region(dataSource, 'features'),
    '',
    `const { train, test } = split(${state.dataset}(${state.noise}, ${state.seed}), ${state.trainPercent}, ${state.seed + 1});`,
    `const features: FeatureName[] = ${literal(state.features)};`,
    'const trainInputs = featurize(train.x, features);',
    'const testInputs = featurize(test.x, features);',
    '',
    'const net = await Network.create({',
    `  inputSize: ${state.features.length},`,
    '  layers: [',
    layers,
    '  ],',
    `  seed: ${state.seed},`,
    "  backend: 'wasm', // the playground's backend ('auto' would take the native addon in Node)",
    '});',
    'const trainer = new Trainer(net, {',
    "  loss: 'binaryCrossEntropy',",
    `  optimizer: ${literal(optimizerConfig(state))},`,
    `  batchSize: ${state.batchSize},`,
    `  seed: ${state.seed},`,
    '});',
    ...fit,
    '',
  ].join('\n');
}
