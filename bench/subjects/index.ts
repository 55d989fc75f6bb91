/** The node-side subjects by row name; imported lazily so a child process loads only its own library. */

import type { Subject } from '../subject.js';

const subjects: Record<string, () => Promise<Subject>> = {
  native: async () => (await import('./ferronet.js')).ferronet('native'),
  wasm: async () => (await import('./ferronet.js')).ferronet('wasm'),
  ts: async () => (await import('./ferronet.js')).ferronet('ts'),
  'tfjs-cpu': async () => (await import('./tfjs.js')).tfjs('cpu'),
  'tfjs-wasm': async () => (await import('./tfjs.js')).tfjs('wasm'),
  'brain.js': async () => (await import('./brain.js')).brainJs(),
  synaptic: async () => (await import('./synaptic.js')).synapticJs(),
};

/** Loads the library behind a row's backend name. */
export function loadSubject(backend: string): Promise<Subject> {
  const load = subjects[backend];
  if (!load) throw new Error(`no subject named '${backend}' (known: ${Object.keys(subjects).join(', ')})`);
  return load();
}
