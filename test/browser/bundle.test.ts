/**
 * The browser entry's module graph holds no Node built-in and no native addon: a bundler
 * targeting browsers takes it as it is. And the package's exports map sends each runtime to
 * its entry.
 */

import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { build, type Plugin } from 'vite';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** Fails the build on any import of a Node built-in, naming the importer. */
const forbidNodeBuiltins: Plugin = {
  name: 'forbid-node-builtins',
  enforce: 'pre',
  resolveId(source, importer) {
    if (source.startsWith('node:') || builtinModules.includes(source)) {
      this.error(`${relative(ROOT, importer ?? '?')} imports the Node built-in '${source}'`);
    }
    return null;
  },
};

/** Bundles `entry` for browsers and returns the project files in the bundle. */
async function bundledModules(entry: string): Promise<string[]> {
  const modules: string[] = [];
  await build({
    configFile: false,
    root: ROOT,
    logLevel: 'silent',
    plugins: [
      forbidNodeBuiltins,
      {
        name: 'list-modules',
        generateBundle(_, bundle) {
          for (const output of Object.values(bundle)) {
            if (output.type === 'chunk') modules.push(...output.moduleIds.map((id) => relative(ROOT, id)));
          }
        },
      },
    ],
    build: { write: false, lib: { entry: join(ROOT, entry), formats: ['es'] } },
  });
  return modules;
}

it('bundles the browser entry with no Node built-in, no native addon and the wasm loader', async () => {
  const modules = await bundledModules('ts/browser.ts');
  expect(modules).toContain('ts/backends/wasm/generated/ferronet_wasm.js');
  expect(modules).toContain('ts/worker/serve.ts');
  expect(modules.filter((id) => id.includes('backends/native/') || id.endsWith('.node') || id.includes('platform/node'))).toEqual([]);
});

it('the same check refuses the Node entry (it reads the wasm file with node:fs)', async () => {
  await expect(bundledModules('ts/index.ts')).rejects.toThrow(/ts\/platform\/node\.ts imports the Node built-in 'node:/);
});

it('the exports map sends browsers to the browser entry and Node to the native-first one', () => {
  const resolve = (specifier: string, conditions: string[]): string =>
    execFileSync(process.execPath, [...conditions.map((c) => `--conditions=${c}`), '--input-type=module', '-e', `console.log(import.meta.resolve('${specifier}'))`], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
  expect(resolve('ferronet', [])).toMatch(/\/dist\/index\.js$/);
  expect(resolve('ferronet', ['browser'])).toMatch(/\/dist\/browser\.js$/);
  expect(resolve('ferronet/ferronet.wasm', ['browser'])).toMatch(/\/dist\/backends\/wasm\/generated\/ferronet_wasm_bg\.wasm$/);
});
