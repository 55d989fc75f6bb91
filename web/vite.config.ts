// The playground (index.html) and the older demo (demo.html): `npm run demo:web` serves them,
// test/browser/playground.test.ts and test/browser/demo.test.ts build and drive them.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const page = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // The pages import 'ferronet' as a user's would; here that is the browser build's sources,
  // so edits to ts/ reload the page (tsconfig.json's "paths" says the same to tsc).
  resolve: { alias: { ferronet: fileURLToPath(new URL('../ts/browser.ts', import.meta.url)) } },
  // Loopback only; and the dev server may read the sources outside web/.
  server: { host: '127.0.0.1', fs: { allow: ['..'] } },
  build: { rolldownOptions: { input: { playground: page('index.html'), demo: page('demo.html') } } },
});
