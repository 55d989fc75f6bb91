// Runs a wasm32-wasip1 program under Node's WASI (cargo's runner for the kernels' tests in
// wasm): `node scripts/wasi-run.mjs program.wasm args...`; exits with the program's status.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const [program, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [program, ...args], env: process.env, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
