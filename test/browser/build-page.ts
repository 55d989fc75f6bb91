/**
 * Builds a page of the repository with Vite, as a user's app would be built: `'ferronet'` is
 * the browser build's sources, and workers are ES modules, since a training worker starts the
 * wasm pool's workers itself.
 */

import { join } from 'node:path';
import { build } from 'vite';

const ROOT = join(import.meta.dirname, '../..');

/** Builds the page whose index.html is in `page` (a path from the repository's root) into `outDir`. */
export async function buildPage(page: string, outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: join(ROOT, page),
    logLevel: 'warn',
    resolve: { alias: { ferronet: join(ROOT, 'ts/browser.ts') } },
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true },
  });
}
