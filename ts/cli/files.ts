/** Writing the command line's results: parent folders made on the way, pictures as SVG and PNG. */

import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** Creates the folder `path` will go in, if it is missing. */
export async function makeParent(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
}

/**
 * Writes `svg` to `path` and, where rsvg-convert is installed (Debian: librsvg2-bin), a PNG
 * beside it. Returns the paths written.
 */
export async function writePicture(path: string, svg: string): Promise<string[]> {
  await makeParent(path);
  await writeFile(path, svg);
  const png = path.replace(/\.svg$/, '.png');
  try {
    await promisify(execFile)('rsvg-convert', ['--output', png, path]);
    return [path, png];
  } catch {
    // No converter here (or it failed): the SVG is the picture; PNG is a convenience.
    return [path];
  }
}
