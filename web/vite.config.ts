// The demo page: `npm run demo:web` serves it, test/browser/demo.test.ts builds and drives it.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The page imports 'ferronet' as a user's would; here that is the browser build's sources,
  // so edits to ts/ reload the page (tsconfig.json's "paths" says the same to tsc).
  resolve: { alias: { ferronet: fileURLToPath(new URL('../ts/browser.ts', import.meta.url)) } },
  // Loopback only; and the dev server may read the sources outside web/.
  server: { host: '127.0.0.1', fs: { allow: ['..'] } },
});
