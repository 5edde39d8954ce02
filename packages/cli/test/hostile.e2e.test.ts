import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { encodeOnnxModel, OnnxGraphBuilder } from '@xlens/backend-onnx';
import { serializeNpy } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures, runCli } from './fixtures.js';

let f: Fixtures;
let sinOnnx: string;

/** A conv net whose `Sin` has no backward rule: gradient methods fail at run time, captures work. */
function sinModel(): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('x', ['N', 3, 8, 8]);
  const w = Float32Array.from({ length: 4 * 3 * 9 }, (_, i) => Math.sin(i * 1.7) * 0.3);
  const c = b.node(
    'Conv',
    [x, b.initializer('w', w, [4, 3, 3, 3])],
    { pads: [1, 1, 1, 1] },
    { outputs: ['conv'] },
  );
  const s = b.node('Sin', [c], {}, { name: 'wavy\u001b[31m', outputs: ['wavy'] });
  b.output(b.node('Flatten', [b.node('GlobalAveragePool', [s])], {}, { outputs: ['y'] }));
  return encodeOnnxModel(b.build());
}

beforeAll(async () => {
  f = await makeFixtures();
  sinOnnx = join(f.dir, 'sin.onnx');
  await writeFile(sinOnnx, sinModel());
});
afterAll(async () => {
  if (f) await rm(f.dir, { recursive: true, force: true });
});

const explainTfjs = (...more: string[]): string[] => [
  'explain',
  '--model',
  f.model,
  '--image',
  f.images[0],
  '--method',
  'saliency',
  ...more,
];

describe('one failing method among several', () => {
  it('writes the maps of the others, lists the failure in the report and results.json, exits 1', async () => {
    const out = join(f.dir, 'partial');
    const input = join(f.dir, 'sin-in.npy');
    const values = Float32Array.from({ length: 192 }, (_, i) => ((i * 29) % 97) / 97);
    await writeFile(input, serializeNpy({ data: values, shape: [1, 3, 8, 8] }));
    const r = await runCli(
      [
        'explain',
        '--model',
        sinOnnx,
        '--input',
        input,
        '--method',
        'eigen-cam:layer=wavy',
        '--method',
        'saliency',
        '--method',
        'score-cam:layer=wavy',
        '--format',
        'html,npy,json',
        '--out',
        out,
      ],
      f.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/saliency failed: \[unsupported-op\] .*op Sin/);
    // The node name's escape sequence is shown, not sent to the terminal.
    expect(r.stderr).not.toContain('\u001b[31m');
    const files = await readdir(out);
    expect(files).toEqual(
      expect.arrayContaining(['eigen-cam.npy', 'score-cam.npy', 'index.html', 'results.json']),
    );
    expect(files).not.toContain('saliency.npy');
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(json.methods.map((m: { key: string }) => m.key)).toEqual(['eigen-cam', 'score-cam']);
    expect(json.failed).toEqual([
      expect.objectContaining({
        key: 'saliency',
        id: 'saliency',
        error: expect.stringMatching(/unsupported-op/),
      }),
    ]);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toMatch(/<tr data-method="saliency" class="failed">/);
  });
});

describe('--out that would destroy something', () => {
  const cases: readonly (readonly [string, () => string, RegExp])[] = [
    ['empty (an unset $OUT)', () => '', /--out is empty/],
    ['the current folder', () => '.', /is the current folder/],
    ['a folder containing the current one', () => '..', /is the current folder or contains it/],
    ['the root', () => '/', /is the file-system root/],
    ['the home folder', () => homedir(), /is your home folder/],
    ['a path under a file', () => '/etc/passwd/sub', /\/etc\/passwd is not a folder/],
  ];
  for (const [name, out, message] of cases) {
    it(`refuses ${name} before any compute and changes nothing`, async () => {
      const here = join(f.dir, `cwd-${name.replace(/\W+/g, '-')}`);
      await mkdir(here, { recursive: true });
      await writeFile(join(here, 'precious.txt'), 'keep me');
      const r = await runCli(explainTfjs('--out', out()), here);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(await readFile(join(here, 'precious.txt'), 'utf8')).toBe('keep me');
    });
  }

  it('removes temporary folders left by an interrupted run', async () => {
    const stale = join(f.dir, '.report-stale.tmp-999999-x1');
    await mkdir(stale);
    const out = join(f.dir, 'report-stale');
    const r = await runCli(explainTfjs('--out', out, '--format', 'json'), f.dir);
    expect(r.code).toBe(0);
    await expect(stat(stale)).rejects.toThrow();
  });
});

describe('extreme but finite input', () => {
  it('is an error naming the cause, not NaN maps with exit 0', async () => {
    const input = join(f.dir, 'extreme.npy');
    const data = Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (i % 2 ? 3e38 : -3e38));
    await writeFile(input, serializeNpy({ data, shape: [1, 32, 32, 3] }));
    const r = await runCli(
      ['explain', '--model', f.model, '--input', input, '--out', join(f.dir, 'extreme')],
      f.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /\[non-finite-output\] .*although the input is finite; the input's largest \|value\| is 3\.00e\+38/,
    );
  });
});

describe('special files are refused, never read without end', () => {
  const cases: readonly (readonly [string, () => Promise<string[]>])[] = [
    ['--input /dev/zero', async () => ['--model', f.model, '--input', '/dev/zero']],
    ['--image /dev/zero', async () => ['--model', f.model, '--image', '/dev/zero']],
    ['--labels /dev/zero', async () => ['--model', f.model, '--image', f.images[0], '--labels', '/dev/zero']],
    [
      '--model linking to /dev/zero',
      async () => {
        const link = join(f.dir, 'zero-model.onnx');
        await symlink('/dev/zero', link);
        return ['--model', link, '--image', f.images[0]];
      },
    ],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await runCli(
        ['explain', '--method', 'saliency', '--out', join(f.dir, 'zero'), ...(await args())],
        f.dir,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/it is a character device; expected a regular file/);
    });
  }
});

describe('option values without bounds', () => {
  for (const spec of ['integrated-gradients:steps=1e9', 'smoothgrad:samples=1e9', 'noisegrad:models=1e9']) {
    it(`${spec} is refused before any compute`, async () => {
      const r = await runCli(
        [
          'explain',
          '--model',
          f.model,
          '--image',
          f.images[0],
          '--method',
          spec,
          '--out',
          join(f.dir, 'big'),
        ],
        f.dir,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/= 1000000000 is invalid; expected a value ≤ \d/);
    });
  }
});

describe('a model declaring a huge input', () => {
  it('gets a clear error, not "Invalid typed array length"', async () => {
    const b = new OnnxGraphBuilder({ opset: 17 });
    const x = b.input('x', ['N', 3, 2 ** 40, 8]);
    b.output(b.node('Flatten', [b.node('GlobalAveragePool', [x])], {}, { outputs: ['y'] }));
    const path = join(f.dir, 'huge.onnx');
    await writeFile(path, encodeOnnxModel(b.build()));
    const r = await runCli(['predict', '--model', path, '--image', f.images[0]], f.dir);
    expect(r.stderr).not.toMatch(/Invalid typed array length/);
    expect(r.stderr).toMatch(
      /\[invalid-shape\]: model input x has an item of shape \[3, 1099511627776, 8\] .*at most 268435456 values per item/,
    );
    expect(r.code).toBe(1);
  });
});

describe('negative numbers', () => {
  const cases: readonly (readonly [string[], RegExp, number])[] = [
    [['--seed', '-1'], /--seed "-1" is invalid; expected an integer ≥ 0/, 2],
    [['--batch-size', '-1'], /--batch-size "-1" is invalid; expected an integer ≥ 1/, 2],
    [['-t', '-1'], /target -1 is out of range/, 1],
  ];
  for (const [args, message, code] of cases) {
    it(`${args.join(' ')} gets its own range error, not "ambiguous"`, async () => {
      const r = await runCli(explainTfjs('--out', join(f.dir, 'neg'), ...args), f.dir);
      expect(r.stderr).not.toMatch(/ambiguous/);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(code);
    });
  }
});
