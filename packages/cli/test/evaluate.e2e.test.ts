import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { explain, type Model, serializeNpy } from '@xlens/core';
import { deletion, sparseness } from '@xlens/eval';
import { gradient } from '@xlens/gradients';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures, runCli } from './fixtures.js';

let f: Fixtures;
let shapes: Model;

beforeAll(async () => {
  f = await makeFixtures();
  await initTfjsBackend('wasm');
  shapes = await loadTfjsModel(zooModelPath('shapes', 'tfjs'));
});
afterAll(async () => {
  await shapes?.dispose();
  if (f) await rm(f.dir, { recursive: true, force: true });
});

interface ResultsJson {
  items: { name: string; target: number }[];
  results: {
    method: string;
    metric: string;
    direction: string;
    scores: (number | null)[];
    summary: { count: number; mean: number; ci95: number };
    curves?: { x: number[]; y: number[] }[];
    options: Record<string, unknown>;
  }[];
  skipped: { method: string; metric: string; reason: string }[];
}

describe('xlens metrics', () => {
  it('lists every metric with its direction and range, as text and as JSON', async () => {
    const text = await runCli(['metrics'], f.dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/deletion\s+faithfulness\s+↓\s+\[0, 1\]/);
    expect(text.stdout).toMatch(/insertion\s+faithfulness\s+↑/);
    expect(text.stdout).toMatch(/spearman\s+similarity\s+·/);
    const json = await runCli(['metrics', '--json'], f.dir);
    const list = JSON.parse(json.stdout) as { id: string; direction: string; range: (number | null)[] }[];
    expect(list).toHaveLength(27);
    expect(list.find((m) => m.id === 'complexity')).toMatchObject({ direction: 'lower', range: [0, null] });
  });
});

describe('xlens evaluate', () => {
  it('scores methods on the shapes data set and writes results.json, scores.csv and index.html', async () => {
    const out = join(f.dir, 'eval-1');
    const r = await runCli(
      [
        'evaluate',
        '--dataset',
        'shapes',
        '--count',
        '3',
        '--method',
        'gradient',
        '--method',
        'saliency',
        '--metric',
        'pointing-game:tolerance=0',
        '--metric',
        'deletion:steps=8',
        '--metric',
        'spearman',
        '--metric',
        'max-sensitivity:samples=2',
        '--out',
        out,
        '--quiet',
      ],
      f.dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gradient\s+deletion\s+↓/);
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as ResultsJson;
    expect(json.items.map((i) => i.name)).toEqual(sampleImages('shapes', 3).names);
    // spearman compares each method with the first: it runs for saliency only.
    expect(json.results.map((x) => `${x.method}/${x.metric}`)).toEqual([
      'gradient/pointing-game',
      'gradient/deletion',
      'gradient/max-sensitivity',
      'saliency/pointing-game',
      'saliency/deletion',
      'saliency/spearman',
      'saliency/max-sensitivity',
    ]);
    expect(json.skipped).toEqual([
      { method: 'gradient', metric: 'spearman', reason: expect.stringMatching(/first one/) },
    ]);
    // The same numbers as the library.
    const s = sampleImages('shapes', 3);
    const targets = json.items.map((i) => i.target);
    const maps = await explain(gradient, shapes, s.images, targets);
    const want = await deletion.evaluate(
      { model: shapes, input: s.images, target: targets, maps: maps.map },
      { steps: 8 },
    );
    const got = json.results.find((x) => x.method === 'gradient' && x.metric === 'deletion');
    got?.scores.forEach((v, i) => {
      expect(v).toBeCloseTo(want.scores[i], 6);
    });
    expect(got?.curves?.[0].x).toHaveLength(9);
    const csv = await readFile(join(out, 'scores.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('method,metric,direction,item,name,target,score');
    expect(csv.trim().split('\n')).toHaveLength(1 + 7 * 3);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('deletion ↓');
    expect(html).toMatch(/± /);
  });

  it('evaluates precomputed maps from an .npy file', async () => {
    const s = sampleImages('shapes', 2);
    const maps = await explain(gradient, shapes, s.images, 'top1');
    const path = join(f.dir, 'maps.npy');
    await writeFile(path, serializeNpy(maps.map));
    const input = join(f.dir, 'shapes.npy');
    await writeFile(input, serializeNpy(s.images));
    const out = join(f.dir, 'eval-2');
    const r = await runCli(
      [
        'evaluate',
        '--model',
        'shapes',
        '--input',
        input,
        '--attribution',
        path,
        '--metric',
        'sparseness',
        '--format',
        'json',
        '--out',
        out,
        '-q',
      ],
      f.dir,
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as ResultsJson;
    const want = await sparseness.evaluate({ model: shapes, input: s.images, maps: maps.map });
    json.results[0].scores.forEach((v, i) => {
      expect(v).toBeCloseTo(want.scores[i], 6);
    });
  });

  it('refuses bad requests before any compute', async () => {
    const both = await runCli(
      ['evaluate', '--dataset', 'shapes', '--method', 'saliency', '--attribution', 'x.npy'],
      f.dir,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
    const none = await runCli(['evaluate', '--dataset', 'shapes'], f.dir);
    expect(none.code).toBe(2);
    const unknown = await runCli(
      ['evaluate', '--dataset', 'shapes', '--method', 'saliency', '--metric', 'nope'],
      f.dir,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/\[unknown-metric\]/);
    const option = await runCli(
      ['evaluate', '--dataset', 'shapes', '--method', 'saliency', '--metric', 'deletion:steps=0'],
      f.dir,
    );
    expect(option.stderr).toMatch(/\[invalid-option\]: deletion: option steps = 0/);
    const truth = await runCli(
      [
        'evaluate',
        '--model',
        f.model,
        '--input',
        f.nhwc,
        '--method',
        'saliency',
        '--metric',
        'pointing-game',
      ],
      f.dir,
    );
    expect(truth.code).toBe(2);
    expect(truth.stderr).toMatch(/no ground truth/);
  });
});
