import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { type Fixtures, makeFixtures, type RunResult, runCli } from './fixtures.js';

let f: Fixtures;
let previous: string;

beforeAll(async () => {
  f = await makeFixtures();
  // A report from an earlier run: failing runs must leave it exactly as it was.
  previous = join(f.dir, 'old-report');
  await mkdir(previous);
  await writeFile(join(previous, 'index.html'), 'earlier report');
  await writeFile(join(previous, '.xlens-output'), '');
});
afterAll(async () => {
  if (f) await rm(f.dir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly args: () => string[];
  readonly message: RegExp;
  readonly code?: number;
}

const base = (): string[] => ['explain', '--model', f.model, '--method', 'saliency', '--out', previous];
const table: readonly (readonly [string, () => string[], RegExp, number?])[] = [
  [
    'missing image file',
    () => [...base(), '--image', join(f.dir, 'nope.png')],
    /image .*nope\.png not found/,
  ],
  ['unreadable image', () => [...base(), '--image', f.notAnImage], /cannot read image .*not-an-image\.png/],
  [
    'missing model',
    () => ['explain', '--model', join(f.dir, 'missing.json'), '--image', f.images[0], '--out', previous],
    /model .*missing\.json not found/,
  ],
  [
    '.npy of the wrong dtype',
    () => [...base(), '--input', f.complexNpy],
    /c8\.npy: dtype <c8 \(a complex array\) is not supported/,
  ],
  [
    '.npy of the wrong shape',
    () => [...base(), '--input', f.wrongShapeNpy],
    /shape\.npy: input shape \[2, 16, 16, 3\] does not match \[N, 32, 32, 3\]/,
  ],
  ['missing .npy', () => [...base(), '--input', join(f.dir, 'gone.npy')], /input .*gone\.npy not found/],
  [
    'unknown method',
    () => ['explain', '--model', f.model, '--image', f.images[0], '--method', 'gradcam', '--out', previous],
    /unknown method "gradcam"; known methods: .*grad-cam/,
  ],
  [
    'unknown option',
    () => [
      'explain',
      '--model',
      f.model,
      '--image',
      f.images[0],
      '--method',
      'integrated-gradients:stepz=3',
      '--out',
      previous,
    ],
    /integrated-gradients has no option "stepz"; its options are .*steps/,
  ],
  [
    'bad option value',
    () => [
      'explain',
      '--model',
      f.model,
      '--image',
      f.images[0],
      '--method',
      'integrated-gradients:steps=many',
      '--out',
      previous,
    ],
    /option steps = "many" is not a number/,
  ],
  [
    'option out of range',
    () => [
      'explain',
      '--model',
      f.model,
      '--image',
      f.images[0],
      '--method',
      'integrated-gradients:steps=0',
      '--out',
      previous,
    ],
    /steps = 0 is invalid; expected a value ≥ 1/,
  ],
  [
    'unknown layer',
    () => [
      ...base().slice(0, 3),
      '--method',
      'grad-cam',
      '--layer',
      'conv9',
      '--image',
      f.images[0],
      '--out',
      previous,
    ],
    /has no layer "conv9"/,
  ],
  [
    'unknown layer in a method option',
    () => [
      'explain',
      '--model',
      f.model,
      '--method',
      'grad-cam:layer=dense',
      '--image',
      f.images[0],
      '--out',
      previous,
    ],
    /has no layer "dense"/,
  ],
  [
    'target out of range',
    () => [...base(), '--image', f.images[0], '--target', '6'],
    /target 6 is out of range: the model has 6 classes \(0\.\.5\)/,
  ],
  [
    'unknown label',
    () => [...base(), '--image', f.images[0], '--target', 'hexagon'],
    /target label "hexagon" is unknown/,
  ],
  [
    'wrong number of targets',
    () => [...base(), '--image', f.imageDir, '--target', '1,2,3'],
    /got 3 targets for a batch of 2 items/,
  ],
  ['unknown flag', () => ['explain', '--modle', f.model], /Unknown option '--modle'/, 2],
  [
    'unknown format',
    () => [...base(), '--image', f.images[0], '--format', 'html,pdf'],
    /--format "pdf" is unknown/,
    2,
  ],
  ['unknown command', () => ['explian'], /unknown command "explian"/, 2],
  ['bad --seed', () => [...base(), '--image', f.images[0], '--seed', '1.5'], /--seed "1.5" is invalid/, 2],
  [
    'wrong --mean length',
    () => [...base(), '--image', f.images[0], '--mean', '0.1,0.2'],
    /--mean has 2 values; the model has 3 channels/,
    2,
  ],
  [
    'output folder holding other files',
    () => [
      'explain',
      '--model',
      f.model,
      '--image',
      f.images[0],
      '--method',
      'saliency',
      '--out',
      f.imageDir,
    ],
    /--out .*images is a folder xlens did not write \(it holds a-disc\.png, b-square\.png\)/,
    2,
  ],
  [
    'unknown backend',
    () => [...base(), '--image', f.images[0], '--backend', 'tpu'],
    /--backend "tpu" is invalid; use one of tfjs-wasm/,
    2,
  ],
];

const cases: readonly Case[] = table.map(([name, args, message, code]) => ({ name, args, message, code }));

/** Run the CLI in-process (tfjs loads once), capturing its output. */
async function runInProcess(args: readonly string[]): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
  });
  return { code, stdout, stderr };
}

async function checkFailure(r: RunResult, message: RegExp, code = 1): Promise<void> {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^xlens: error/);
  expect(lines[0]).toMatch(message);
  expect((await readdir(previous)).sort()).toEqual(['.xlens-output', 'index.html']);
  expect((await readdir(f.dir)).filter((n) => n.startsWith('.'))).toEqual([]);
  expect(await readdir(f.dir)).not.toContain('xlens-report');
}

describe('bad input', () => {
  it.each(cases)('$name: one-line error, non-zero exit, nothing written', async ({ args, message, code }) => {
    await checkFailure(await runInProcess(args()), message, code);
  });

  // The same through a real process: exit status and stderr as a shell sees them.
  it.concurrent.each(
    cases.filter((c) =>
      ['unknown method', 'unreadable image', 'target out of range', 'unknown flag'].includes(c.name),
    ),
  )('as a process, $name', async ({ args, message, code }) => {
    await checkFailure(await runCli(args(), f.dir), message, code);
  });
});
