// One thread of the threaded wasm module's pool, as a Web Worker: it instantiates the module
// the starting thread compiled over that thread's shared memory, says so, and then runs
// rayon's thread loop for the life of the page (ts/backends/wasm/threads.ts).
import { initSync, runPoolThread } from './generated/ferronet_wasm_threads.js';

self.onmessage = ({ data: { module, memory } }) => {
  self.onmessage = null;
  initSync({ module, memory });
  self.postMessage('ready');
  runPoolThread();
};
