// One thread of the threaded wasm module's pool, as a Node worker_threads worker: it
// instantiates the module the main thread compiled over the main thread's shared memory, says
// so, and then runs rayon's thread loop for the rest of the process (ts/backends/wasm/threads.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { initSync, runPoolThread } from './generated/ferronet_wasm_threads.js';

initSync({ module: workerData.module, memory: workerData.memory });
parentPort.postMessage('ready');
runPoolThread();
