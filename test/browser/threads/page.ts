// The page's side of test/browser/threads.test.ts: what the page's main thread gets, and what
// a module Worker that trains gets, as window.threadsResult.
import { availableBackends, type BackendStatus } from 'ferronet';
import type { WorkerResult } from './worker.js';

declare global {
  interface Window {
    threadsResult?: { page: BackendStatus | undefined; worker: WorkerResult } | { error: string };
  }
}

async function run(): Promise<void> {
  const page = (await availableBackends()).find((status) => status.name === 'wasm');
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const result = await new Promise<WorkerResult>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerResult>) => {
      resolve(event.data);
    };
    worker.onerror = (event) => {
      reject(new Error(event.message || 'the worker did not load'));
    };
  });
  window.threadsResult = { page, worker: result };
}

run().catch((error: unknown) => {
  window.threadsResult = { error: error instanceof Error ? error.message : String(error) };
});
