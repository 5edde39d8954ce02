import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseNpy } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures, runCli, SIZE } from './fixtures.js';

let f: Fixtures;
beforeAll(async () => {
  f = await makeFixtures();
});
afterAll(async () => {
  if (f) await rm(f.dir, { recursive: true, force: true });
});

describe('xlens visualize', () => {
  it('visualises classes and other objectives, with snapshots, filters, npy and json', async () => {
    const out = join(f.dir, 'vis-1');
    const r = await runCli(
      [
        'visualize',
        '--model',
        f.model,
        '--labels',
        f.labels,
        '--objective',
        'class:1',
        '--objective',
        'class:4',
        '--objective',
        'class:2 - 0.5*class:3',
        '--steps',
        '6',
        '--snapshot-every',
        '3',
        '--out',
        out,
        '--quiet',
      ],
      f.dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/class:1 .*: objective/);
    const files = await readdir(out);
    expect(files).toContain('index.html');
    expect(files).toContain('results.json');
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(results.method).toBe('activation-maximisation');
    expect(results.results.map((x: { objective: string }) => x.objective)).toEqual([
      'class:1 square',
      'class:4 cross',
      'class:2 - 0.5*class:3',
    ]);
    // Classes share one batch; the difference runs on its own.
    const first = parseNpy(await readFile(join(out, 'activation-maximisation-1.npy')));
    expect(first.shape).toEqual([2, SIZE, SIZE, 3]);
    expect(first.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toContain('class visualisations');
    expect(html).toContain('step 3');
    expect(html).toContain('First-layer filters');
    // Two classes × (steps 3, 6) + one difference × 2 + one filter grid.
    expect(files.filter((x) => x.startsWith('gallery-')).length).toBe(7);
  });

  it('inverts images at several layers and refuses objectives for inversion', async () => {
    const out = join(f.dir, 'vis-2');
    const ok = await runCli(
      [
        'visualize',
        '--model',
        f.model,
        '--method',
        'inversion',
        '--image',
        f.imageDir,
        '--layer',
        'conv1,conv2',
        '--steps',
        '4',
        '--out',
        out,
        '-q',
      ],
      f.dir,
    );
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(results.results).toHaveLength(4);
    const bad = await runCli(
      ['visualize', '--model', f.model, '--method', 'inversion', '--objective', 'class:1'],
      f.dir,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/inversion matches layer codes; it takes --layer, not --objective/);
    const wrong = await runCli(
      ['visualize', '--model', f.model, '--objective', 'class:99', '--out', join(f.dir, 'x')],
      f.dir,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/target-out-of-range.*99/);
  });
});
