/**
 * docs/guide.md runs as written: every ```ts block, in order and sharing one scope (as a reader
 * pasting them into one file would run them), with `from 'ferronet'` pointed at ts/index.ts.
 * The blocks check themselves with node:assert, so a failed check fails this test as a thrown
 * error does; a failure names the guide's line. The blocks must also type-check under strict
 * settings (as a reader's project would check them). The number of blocks is pinned, so an
 * extractor that found nothing (or the guide losing a block) cannot pass.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const GUIDE = join(ROOT, 'docs', 'guide.md');
/** The guide's ```ts blocks: setup, one or more per step. Change it when the guide gains or loses one. */
const EXPECTED_BLOCKS = 12;

interface Block {
  /** 1-based line in docs/guide.md of the block's first line of code. */
  line: number;
  code: string;
}

/** Every fenced block whose info string is `ts`, in order. */
function extractBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let start = -1; // index of the open block's first line of code, -1 outside a block
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index] as string;
    if (start < 0) {
      if (/^```ts\s*$/.test(text)) start = index + 1;
    } else if (/^```\s*$/.test(text)) {
      blocks.push({ line: start + 1, code: lines.slice(start, index).join('\n') });
      start = -1;
    }
  }
  if (start >= 0) throw new Error(`docs/guide.md: the \`\`\`ts block at line ${start} is never closed`);
  return blocks;
}

/**
 * One module of every block in order; `lineMap[n - 1]` is the guide's line of the module's
 * line n (0 for glue). With `rewrite` the import of 'ferronet' names ts/index.ts by URL.
 */
function assemble(blocks: readonly Block[], rewrite = true): { source: string; lineMap: number[] } {
  const index = pathToFileURL(join(ROOT, 'ts', 'index.ts')).href;
  const out: string[] = [];
  const lineMap: number[] = [];
  blocks.forEach((block, b) => {
    out.push(`// docs/guide.md block ${b + 1}, line ${block.line}`);
    lineMap.push(0);
    block.code.split('\n').forEach((text, i) => {
      out.push(rewrite ? text.replace(/from\s+(['"])ferronet\1/, `from '${index}'`) : text);
      lineMap.push(block.line + i);
    });
  });
  out.push('export {};');
  lineMap.push(0);
  return { source: out.join('\n') + '\n', lineMap };
}

/**
 * Type errors in the guide's code as a reader's strict project would see them, `'ferronet'`
 * resolved to ts/index.ts: one line each, at the guide's line.
 */
function typeErrors(blocks: readonly Block[], dir: string): string[] {
  const { source, lineMap } = assemble(blocks, false);
  const file = join(dir, 'guide-types.mts');
  writeFileSync(file, source);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    paths: { ferronet: [join(ROOT, 'ts', 'index.ts')] },
  };
  const program = ts.createProgram([file], options);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const where = diagnostic.file.fileName === file ? `docs/guide.md:${lineMap[line] ?? 0}` : `${diagnostic.file.fileName}:${line + 1}`;
    return `${where}: ${message}`;
  });
}

function run(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  return new Promise((done) => {
    execFile(tsx, [file], { cwd: ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

describe('docs/guide.md', () => {
  const blocks = extractBlocks(readFileSync(GUIDE, 'utf8'));

  it(`has ${EXPECTED_BLOCKS} ts blocks, each with code`, () => {
    expect(blocks.length).toBe(EXPECTED_BLOCKS);
    for (const block of blocks) expect(block.code.trim().length, `block at line ${block.line}`).toBeGreaterThan(0);
    expect(blocks[0]?.code).toMatch(/from 'ferronet'/);
  });

  it('extracts blocks and rewrites the import', () => {
    const sample = ['text', '```ts', "import { Network } from 'ferronet';", 'const a = 1;', '```', '```sh', 'ls', '```', '```ts', 'a;', '```'].join('\n');
    const found = extractBlocks(sample);
    expect(found.map((block) => block.line)).toEqual([3, 10]);
    const { source, lineMap } = assemble(found);
    expect(source).not.toMatch(/'ferronet'/);
    expect(source).toMatch(/ts\/index\.ts'/);
    expect(lineMap[source.split('\n').indexOf('a;')]).toBe(10);
  });

  it('is valid TypeScript under strict settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferronet-guide-'));
    try {
      expect(typeErrors(blocks, dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs every block in order, and every check in them holds', async () => {
    const { source, lineMap } = assemble(blocks);
    const dir = mkdtempSync(join(tmpdir(), 'ferronet-guide-'));
    const file = join(dir, 'guide.mts');
    // A marker after the last block proves the module ran to its end.
    writeFileSync(file, source.replace(/export \{\};\n$/, "console.log('guide: all blocks ran');\nexport {};\n"));
    try {
      const { code, stdout, stderr } = await run(file);
      // Point stack frames in the module at the guide's lines.
      const located = stderr.replace(/guide\.mts:(\d+)(:\d+)?/g, (match, line: string) => {
        const guideLine = lineMap[Number(line) - 1] ?? 0;
        return guideLine > 0 ? `${match} (docs/guide.md:${guideLine})` : match;
      });
      expect(code, `the guide's code failed:\n${located}\n${stdout}`).toBe(0);
      expect(stdout).toContain('guide: all blocks ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
