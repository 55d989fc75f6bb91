// The playground (index.html) and the older demo (demo.html): `npm run demo:web` serves them,
// test/browser/playground.test.ts and test/browser/demo.test.ts build and drive them.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The pages import 'ferronet' as a user's would; here that is the browser build's sources,
  // so edits to ts/ reload the page (tsconfig.json's "paths" says the same to tsc).
  resolve: { alias: { ferronet: fileURLToPath(new URL('../ts/browser.ts', import.meta.url)) } },
  // Loopback only; and the dev server may read the sources outside web/. Cross-origin
  // isolation gives the playground's training worker shared memory: the wasm backend's threads.
  server: { host: '127.0.0.1', fs: { allow: ['..'] }, headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
  // Module workers: a training worker starts the wasm pool's workers itself.
  worker: { format: 'es' },
  build: { rolldownOptions: { input: { playground: page('index.html'), demo: page('demo.html') } } },
});
