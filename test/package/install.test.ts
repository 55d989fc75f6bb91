/**
 * The package as a user gets it: `npm pack` of the built repository, installed from the tarball
 * into an empty project by npm with no Rust toolchain and no wasm-bindgen on PATH. There the
 * API and `npx ferronet train planar` train on the native backend; with the native binary
 * removed they train on wasm and `availableBackends()` says why native is missing; and a Vite
 * app built against the installed package trains in Chromium.
 *
 * Offline: the consumer project gets a lockfile whose runtime dependencies (protobufjs and
 * what it needs) are those of this repository's package-lock.json, so `npm ci --offline`
 * takes them from the npm cache that installing this repository filled.
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS, CHROMIUM_MISSING } from '../browser/chromium.js';
import { serveDirectory } from '../browser/static-server.js';
import { expectedStatuses } from '../helpers.js';

const ROOT = join(import.meta.dirname, '../..');
/** napi-rs's name for this machine's binary (glibc Linux: the platforms the package ships). */
const HOST_BINARY = `ferronet.${process.platform}-${process.arch}-gnu.node`;
const NATIVE_DIR = 'dist/backends/native/generated';
/** The tarball is about 1.45 MB with one native binary (and the four wasm builds), 1.85 MB with linux-arm64's too. */
const PACKED_BYTES_BUDGET = 2_000_000;
// The planar recipe of the README and `ferronet train planar`: ~91% after 10,000 steps.
const PLANAR_ACCURACY = 0.88;
const TOOLCHAIN_COMMANDS = ['cargo', 'rustc', 'rustup', 'wasm-bindgen'];
/** In Node the installed package's wasm backend runs the threaded module, as wide as the machine. */
const [NATIVE_STATUS, WASM_STATUS, TS_STATUS] = await expectedStatuses(availableParallelism());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface PackedFile {
  path: string;
  size: number;
}

/** What `npm pack --json` reports of a tarball. */
interface Packed {
  filename: string;
  integrity: string;
  size: number;
  files: PackedFile[];
}

/** What the consumer's training script reports, in Node and in the page. */
interface Outcome {
  backend: string;
  firstLoss: number;
  lastLoss: number;
  accuracy: number;
  backends: { name: string; available: boolean; reason?: string }[];
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

function expectSuccess(result: Run): string {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/**
 * A PATH holding only node, npm, npx and sh (npm runs a package's bin through sh): /usr/bin
 * may hold Debian's cargo and rustc, so the system folders cannot be on it.
 */
async function toolchainFreePath(folder: string): Promise<string> {
  await mkdir(folder);
  const nodeDir = dirname(process.execPath);
  const tools = { node: process.execPath, npm: join(nodeDir, 'npm'), npx: join(nodeDir, 'npx'), sh: '/bin/sh' };
  for (const [name, target] of Object.entries(tools)) await symlink(target, join(folder, name));
  return folder;
}

/** The consumer's lockfile: the tarball, and this repository's locked runtime dependencies. */
async function consumerLockfile(packed: Packed, spec: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const runtime = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev !== true && entry.devOptional !== true);
  const ferronet = { version: manifest.version, resolved: spec, integrity: packed.integrity, dependencies: manifest.dependencies, bin: manifest.bin, engines: manifest.engines };
  return JSON.stringify({
    name: 'consumer',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'consumer', dependencies: { ferronet: spec } }, 'node_modules/ferronet': ferronet, ...Object.fromEntries(runtime) },
  });
}

// One training run shared by Node and the page: the README's planar recipe, then what loaded.
const TRAIN_PLANAR = `
import { availableBackends, Network, planarDataset, Trainer } from 'ferronet';

export async function trainPlanar() {
  const { x, y } = planarDataset();
  const net = await Network.create({ inputSize: 2, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], seed: 2 });
  const trainer = new Trainer(net, { loss: 'binaryCrossEntropy', optimizer: { name: 'sgd', learningRate: 1.2 }, batchSize: 400, shuffle: false });
  const { loss } = await trainer.fit(x, y, { epochs: 10000 });
  const outcome = { backend: net.backend, firstLoss: loss[0], lastLoss: loss.at(-1), accuracy: net.evaluate(x, y).accuracy, backends: await availableBackends() };
  net.dispose();
  return outcome;
}
`;
const NODE_SCRIPT = `
import { trainPlanar } from './train-planar.js';
console.log(JSON.stringify({ resolved: import.meta.resolve('ferronet'), ...(await trainPlanar()) }));
`;
const PAGE_SCRIPT = `
import { trainPlanar } from '../train-planar.js';
trainPlanar().then(
  (outcome) => { document.body.dataset.outcome = JSON.stringify(outcome); },
  (error) => { document.body.dataset.error = String(error?.stack ?? error); },
);
`;
// The empty icon keeps Chromium from asking for /favicon.ico, a 404 in the console.
const PAGE = '<!doctype html><html><head><meta charset="utf-8"><title>ferronet from npm</title><link rel="icon" href="data:,"></head><body><script type="module" src="./main.js"></script></body></html>';

let scratch: string;
let packed: Packed;
let project: string;
let consumerEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  for (const built of ['dist/index.js', 'dist/browser.js', `${NATIVE_DIR}/${HOST_BINARY}`]) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: npm run build builds the package first`);
  }
  // Node reports modules by their real path: no symlinked temporary folder in the way.
  scratch = await realpath(await mkdtemp(join(tmpdir(), 'ferronet-package-')));
  const pack = expectSuccess(await run('npm', ['pack', '--json', '--pack-destination', scratch], ROOT, process.env));
  [packed] = JSON.parse(pack) as [Packed];

  consumerEnv = { HOME: process.env.HOME, PATH: await toolchainFreePath(join(scratch, 'bin')) };
  // npm test hands its own cache to its scripts; the consumer's install reads the same one.
  if (process.env.npm_config_cache) consumerEnv.npm_config_cache = process.env.npm_config_cache;

  project = join(scratch, 'consumer');
  await mkdir(join(project, 'app'), { recursive: true });
  const spec = `file:../${packed.filename}`;
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { ferronet: spec } }));
  await writeFile(join(project, 'package-lock.json'), await consumerLockfile(packed, spec));
  await writeFile(join(project, 'train-planar.js'), TRAIN_PLANAR);
  await writeFile(join(project, 'train.js'), NODE_SCRIPT);
  await writeFile(join(project, 'app/main.js'), PAGE_SCRIPT);
  await writeFile(join(project, 'app/index.html'), PAGE);
}, 60_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function trainInNode(): Promise<Outcome & { resolved: string }> {
  return JSON.parse(expectSuccess(await run('node', ['train.js'], project, consumerEnv))) as Outcome & { resolved: string };
}

/** `npx ferronet train planar` in the consumer project: the backend it names and its final accuracy. */
async function trainWithCli(): Promise<{ backend: string | undefined; accuracy: number }> {
  const stdout = expectSuccess(await run('npx', ['--no-install', 'ferronet', 'train', 'planar', '--out', 'planar.fnet'], project, consumerEnv));
  const backend = /^training .* with the (\w+) backend \(.*\)$/m.exec(stdout)?.[1];
  const accuracy = /^trained .*accuracy ([\d.]+)%$/m.exec(stdout)?.[1];
  expect(accuracy, stdout).toBeDefined();
  return { backend, accuracy: Number(accuracy) / 100 };
}

function expectTrained(outcome: Outcome, backend: string): void {
  expect(outcome.backend).toBe(backend);
  expect(outcome.lastLoss).toBeLessThan(outcome.firstLoss * 0.5);
  expect(outcome.accuracy).toBeGreaterThan(PLANAR_ACCURACY);
}

it('packs dist/ with one native binary per platform, no source maps, and stays small', () => {
  const paths = packed.files.map((file) => file.path);
  expect(paths.filter((path) => !path.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE'].includes(path))).toEqual([]);
  expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
  expect(paths).toContain('LICENSE');
  const binaries = paths.filter((path) => path.endsWith('.node'));
  // napi-rs's naming, in the folder its generated loader looks in: one file per platform.
  for (const path of binaries) expect(path).toMatch(/^dist\/backends\/native\/generated\/ferronet\.(linux|darwin|win32)-[a-z0-9]+(-[a-z]+)?\.node$/);
  expect(binaries).toContain(`${NATIVE_DIR}/${HOST_BINARY}`);
  expect(paths.filter((path) => path.endsWith('.wasm')).sort()).toEqual([
    'dist/backends/wasm/generated/ferronet_wasm_bg.wasm',
    'dist/backends/wasm/generated/ferronet_wasm_relaxed_bg.wasm',
    'dist/backends/wasm/generated/ferronet_wasm_threads_bg.wasm',
    'dist/backends/wasm/generated/ferronet_wasm_threads_relaxed_bg.wasm',
  ]);
  expect(packed.size).toBeLessThan(PACKED_BYTES_BUDGET);
});

it('installs offline from the tarball with no Rust toolchain reachable', async () => {
  const reachable = await run('sh', ['-c', TOOLCHAIN_COMMANDS.map((name) => `command -v ${name}`).join('; ')], project, consumerEnv);
  expect(reachable.stdout).toBe('');
  expectSuccess(await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project, consumerEnv));
  expect(existsSync(join(project, 'node_modules/ferronet', NATIVE_DIR, HOST_BINARY))).toBe(true);
  expect(existsSync(join(project, 'node_modules/protobufjs/package.json'))).toBe(true);
}, 60_000);

it('trains through the API and the CLI on the native backend', async () => {
  const outcome = await trainInNode();
  expect(outcome.resolved).toBe(`file://${project}/node_modules/ferronet/dist/index.js`);
  expectTrained(outcome, 'native');
  expect(outcome.backends).toEqual([NATIVE_STATUS, WASM_STATUS, TS_STATUS]);
  const cli = await trainWithCli();
  expect(cli.backend).toBe('native');
  expect(cli.accuracy).toBeGreaterThan(PLANAR_ACCURACY);
});

it('says why when the binary for this platform fails to load, and trains on wasm', async () => {
  await writeFile(join(project, 'node_modules/ferronet', NATIVE_DIR, HOST_BINARY), 'not a shared library\n'.repeat(100));
  const outcome = await trainInNode();
  expectTrained(outcome, 'wasm');
  expect(outcome.backends[0]?.reason).toMatch(new RegExp(`^the native addon for ${process.platform}-${process.arch} did not load: .*${HOST_BINARY.replaceAll('.', '\\.')}: invalid ELF header`));
});

it('without the native binary: trains on wasm through the API and the CLI, and availableBackends() says why', async () => {
  await rm(join(project, 'node_modules/ferronet', NATIVE_DIR, HOST_BINARY));
  const outcome = await trainInNode();
  expectTrained(outcome, 'wasm');
  const [native, ...others] = outcome.backends;
  expect(native).toEqual({
    name: 'native',
    available: false,
    reason: expect.stringMatching(
      new RegExp(`^no native binary for ${process.platform}-${process.arch} in this installation \\(napi-rs's loader looked for \\./${HOST_BINARY.replaceAll('.', '\\.')}, .*; this package has binaries for: `),
    ) as unknown,
  });
  expect(others).toEqual([WASM_STATUS, TS_STATUS]);
  const cli = await trainWithCli();
  expect(cli.backend).toBe('wasm');
  expect(cli.accuracy).toBeGreaterThan(PLANAR_ACCURACY);
});

it('a Vite app built against the installed package trains in Chromium on wasm', async (context) => {
  context.skip(CHROMIUM_MISSING !== null, CHROMIUM_MISSING ?? '');
  const app = join(project, 'app');
  // Vite resolves 'ferronet' from the app's folder upwards: the consumer's node_modules.
  await build({ configFile: false, root: app, logLevel: 'warn' });
  const server = await serveDirectory(join(app, 'dist'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    await page.goto(server.url);
    await page.waitForFunction(() => document.body.dataset.outcome ?? document.body.dataset.error, undefined, { timeout: 30_000 });
    const { outcome, error } = await page.evaluate(() => ({ outcome: document.body.dataset.outcome, error: document.body.dataset.error }));
    expect(error).toBeUndefined();
    const trained = JSON.parse(outcome ?? '{}') as Outcome;
    expectTrained(trained, 'wasm');
    expect(trained.backends[0]).toEqual({ name: 'native', available: false, reason: "the native addon needs Node.js; this is ferronet's browser build" });
    const wasm = server.served.filter((response) => response.path.endsWith('.wasm'));
    expect(wasm.map(({ status, contentType }) => ({ status, contentType }))).toEqual([{ status: 200, contentType: 'application/wasm' }]);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await server.close();
  }
});
