// The page of bench/browser.ts: runs one measurement per fresh Worker (a worker loads one wasm
// build once), as window.measure(build) for the runner to call.
import type { BrowserMeasurement, BrowserRequest } from './worker.js';

declare global {
  interface Window {
    measure: (request: BrowserRequest) => Promise<BrowserMeasurement>;
  }
}

window.measure = (request) => {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  return new Promise<BrowserMeasurement>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<BrowserMeasurement | { error: string }>) => {
      worker.terminate();
      if ('error' in event.data) reject(new Error(event.data.error));
      else resolve(event.data);
    };
    worker.onerror = (event) => {
      reject(new Error(event.message || 'the worker did not load'));
    };
    worker.postMessage(request);
  });
};
