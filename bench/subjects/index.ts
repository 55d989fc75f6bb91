/** The node-side subjects by row name; imported lazily so a child process loads only its own library. */

import type { Subject } from '../subject.js';

const subjects: Record<string, (threads: number) => Promise<Subject>> = {
  native: async () => (await import('./ferronet.js')).ferronet('native'),
  wasm: async (threads) => {
    const { ferronet } = await import('./ferronet.js');
    const { loadBackend, setWasmThreads } = await import('../../ts/index.js');
    setWasmThreads(threads);
    // The threads it really got: one, with the reason on stderr, where the threaded module failed.
    const wasm = await loadBackend('wasm');
    if (wasm.threadsReason !== undefined && threads > 1) process.stderr.write(`wasm/${threads} runs on one thread: ${wasm.threadsReason}\n`);
    return { ...ferronet('wasm'), threads: wasm.threads };
  },
  ts: async () => (await import('./ferronet.js')).ferronet('ts'),
  'tfjs-cpu': async () => (await import('./tfjs.js')).tfjs('cpu'),
  'tfjs-wasm': async () => (await import('./tfjs.js')).tfjs('wasm'),
  'brain.js': async () => (await import('./brain.js')).brainJs(),
  synaptic: async () => (await import('./synaptic.js')).synapticJs(),
};

/** Loads the library behind a row's backend name, for the row's thread count where the library takes one. */
export function loadSubject(backend: string, threads: number): Promise<Subject> {
  const load = subjects[backend];
  if (!load) throw new Error(`no subject named '${backend}' (known: ${Object.keys(subjects).join(', ')})`);
  return load(threads);
}
