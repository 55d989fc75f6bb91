/**
 * A static file server on 127.0.0.1 for the built demo, with the MIME types browsers need:
 * `application/wasm` above all, without which instantiateStreaming refuses the module.
 */

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
};

export interface StaticServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  /** Every response: the path asked for, its status and content type. */
  served: { path: string; status: number; contentType: string }[];
  close(): Promise<void>;
}

/** The headers that make a page cross-origin isolated, which shared memory (wasm threads) needs. */
export const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Serves `root`, adding `headers` to every response. */
export async function serveDirectory(root: string, headers: Record<string, string> = {}): Promise<StaticServer> {
  const served: StaticServer['served'] = [];
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    const contentType = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    const reply = (status: number, body: Buffer | string, type: string): void => {
      served.push({ path, status, contentType: type });
      response.writeHead(status, { ...headers, 'Content-Type': type }).end(body);
    };
    if (!file.startsWith(root + sep)) {
      reply(403, 'outside the served directory', 'text/plain');
      return;
    }
    readFile(file).then(
      (body) => {
        reply(200, body, contentType);
      },
      () => {
        reply(404, 'not found', 'text/plain');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    served,
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
