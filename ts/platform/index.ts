/**
 * What differs between the runtimes ferronet runs in. Each entry point hands its
 * {@link Platform} to {@link usePlatform} when it is imported: ts/index.ts for Node,
 * ts/browser.ts for browsers and bundlers. Nothing else imports a platform, which keeps the
 * native addon and Node's built-ins out of a browser bundle.
 */

import type { Backend } from '../backends/backend.js';
import type { WasmBuild, WasmSource } from '../backends/wasm/index.js';
import type { StartPoolThread } from '../backends/wasm/threads.js';

/** What an entry point knows about its runtime. */
export interface Platform {
  /** Loads the native backend, or rejects saying why it cannot here. */
  loadNative(): Promise<Backend>;
  /** The package's copy of a wasm build, for when `setWasmSource` was not called. */
  defaultWasmSource(build: WasmBuild): Promise<WasmSource>;
  /** How many threads the machine offers this process or page. */
  availableThreads(): number;
  /** Why the threaded wasm module cannot run here, or null when it can. */
  wasmThreadsUnavailable(): string | null;
  /** Starts one worker of the threaded wasm module's pool. */
  startPoolThread: StartPoolThread;
  /** A file's bytes, for `Network.load`; rejects where there are no files. */
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a file whole or not at all, for `net.save`; rejects where there are no files. */
  writeFileAtomically(path: string, bytes: Uint8Array): Promise<void>;
}

let platform: Platform | null = null;

/** Called once by each entry point, before anything needs the runtime. */
export function usePlatform(entryPlatform: Platform): void {
  platform = entryPlatform;
}

/** The runtime's platform; throws when ferronet was imported around its entry points. */
export function currentPlatform(): Platform {
  if (!platform) throw new Error("ferronet was imported without its entry point: import from 'ferronet'");
  return platform;
}
