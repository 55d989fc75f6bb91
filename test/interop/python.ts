/**
 * The Python that runs the interop tests' independent readers (onnx's checker and
 * onnxruntime): setup's virtual environment (.venv, from interop/requirements.txt) when it
 * exists, else `python3` on PATH. Tests that need it skip, saying why, when it cannot import them.
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const venvPython = fileURLToPath(new URL('../../.venv/bin/python3', import.meta.url));

/** The interpreter to run. */
export const PYTHON = existsSync(venvPython) ? venvPython : 'python3';

/** Why `modules` cannot be imported by {@link PYTHON} (to skip a test with), or null when they can. */
export function missingPython(modules: readonly string[]): string | null {
  try {
    execFileSync(PYTHON, ['-c', modules.map((name) => `import ${name}`).join('; ')], { stdio: 'pipe' });
    return null;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? error).trim().split('\n').at(-1);
    return `${PYTHON} cannot import ${modules.join(', ')} (${stderr}); npm run setup installs them`;
  }
}
