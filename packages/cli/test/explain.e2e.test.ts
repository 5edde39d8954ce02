import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { argmaxRows, type Model, parseNpy, type Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../src/registry.js';
import { CLASSES, type Fixtures, makeFixtures, preprocessed, runCli, SIZE } from './fixtures.js';

let f: Fixtures;
let model: Model;
const registry = createRegistry();

beforeAll(async () => {
  f = await makeFixtures();
  await initTfjsBackend('wasm');
  model = await loadTfjsModel(f.model);
});
afterAll(async () => {
  await model?.dispose();
  if (f) await rm(f.dir, { recursive: true, force: true });
});

const closeTo = (got: Tensor, want: Tensor): void => {
  expect(got.shape).toEqual(want.shape);
  let scale = 0;
  for (const v of want.data) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
  expect(worst).toBeLessThanOrEqual(1e-4 * Math.max(scale, 1e-6));
};

describe('xlens explain', () => {
  it('explains two images with three methods and writes html, png, npy and json', async () => {
    const out = join(f.dir, 'report-1');
    const r = await runCli(
      [
        'explain',
        '--model',
        f.model,
        '--labels',
        f.labels,
        '--image',
        f.imageDir,
        '--mean',
        '0.5',
        '--std',
        '0.25',
        '--method',
        'saliency',
        '--method',
        'grad-cam:relu=false',
        '--method',
        'gradient',
        '--format',
        'html,png,npy,json',
        '--out',
        out,
      ],
      f.dir,
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    // summary table on stdout: one row per method plus the forward, and where the report is
    for (const m of ['forward (2 items)', 'saliency', 'grad-cam', 'gradient']) expect(r.stdout).toContain(m);
    expect(r.stdout).toMatch(/÷ forward/);
    expect(r.stdout).toContain(`report: ${join(out, 'index.html')}`);
    // progress is on stderr, one line per method when not a TTY
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^\[1\/3\] saliency done/),
      expect.stringMatching(/^\[2\/3\] grad-cam/),
      expect.stringMatching(/^\[3\/3\] gradient/),
    ]);

    const files = await readdir(out);
    expect(files).toContain('index.html');
    expect(files.filter((x) => x.endsWith('-overlay.png'))).toHaveLength(6);
    expect(files.filter((x) => x.endsWith('-raw.png'))).toHaveLength(6);
    expect(files.filter((x) => x.endsWith('-input.png'))).toHaveLength(2);
    expect(files.filter((x) => x.startsWith('.'))).toEqual(['.xlens-output']);
    expect((await readdir(f.dir)).filter((x) => x.startsWith('.'))).toEqual([]);

    // npy maps equal the library's own result on the same preprocessed input, unnormalised
    const input = preprocessed(f, 0.5, 0.25);
    for (const [key, id, options] of [
      ['saliency', 'saliency', {}],
      ['grad-cam', 'grad-cam', { relu: false }],
      ['gradient', 'gradient', {}],
    ] as const) {
      const got = parseNpy(await readFile(join(out, `${key}.npy`)));
      const want = await registry.get(id).explain(model, input, 'top1', options);
      closeTo(got, want.map);
    }
    expect(parseNpy(await readFile(join(out, 'gradient.npy'))).shape).toEqual([2, SIZE, SIZE, 3]);

    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(json.model).toMatchObject({ numClasses: 6, layout: 'NHWC', labels: CLASSES });
    expect(json.items.map((i: { name: string }) => i.name)).toEqual(['a-disc.png', 'b-square.png']);
    const top = argmaxRows(await model.forward(input));
    expect(json.items.map((i: { target: number }) => i.target)).toEqual(Array.from(top));
    expect(json.methods.map((m: { key: string }) => m.key)).toEqual(['saliency', 'grad-cam', 'gradient']);
    expect(json.methods[1].options.relu).toBe(false);
    // What was run is recorded: the layer grad-cam picked by itself, the preprocessing, versions.
    expect(json.methods[1].options.layer).not.toBe('');
    expect((await model.layers!()).map((l) => l.name)).toContain(json.methods[1].options.layer);
    expect(json.preprocessing).toMatchObject({ source: 'images', mean: [0.5], std: [0.25], bgr: false });
    expect(json.versions['@xlens/core']).toMatch(/^\d+\.\d+\.\d+/);
    for (const m of json.methods) expect(m.ratio).toBeGreaterThan(0);

    const html = await readFile(join(out, 'index.html'), 'utf8');
    for (const m of ['saliency', 'grad-cam', 'gradient'])
      expect(html.match(new RegExp(`data-kind="overlay" data-method="${m}"`, 'g'))).toHaveLength(2);
    expect(html).toContain(CLASSES[top[0]]);
  });

  it('reads --input .npy in either layout, with per-item targets, the same as the library', async () => {
    const a = join(f.dir, 'npy-nhwc');
    const b = join(f.dir, 'npy-nchw');
    const common = [
      '--model',
      f.model,
      '--method',
      'integrated-gradients:steps=4',
      '--target',
      '2,5',
      '--format',
      'npy,json',
      '--quiet',
    ];
    const [ra, rb] = await Promise.all([
      runCli(['explain', ...common, '--input', f.nhwc, '--out', a], f.dir),
      runCli(['explain', ...common, '--input', f.nchw, '--layout', 'NCHW', '--out', b], f.dir),
    ]);
    expect([ra.code, rb.code, ra.stderr, rb.stderr]).toEqual([0, 0, '', '']);
    const ga = parseNpy(await readFile(join(a, 'integrated-gradients.npy')));
    const gb = parseNpy(await readFile(join(b, 'integrated-gradients.npy')));
    expect(Array.from(gb.data)).toEqual(Array.from(ga.data));
    const want = await registry
      .get('integrated-gradients')
      .explain(model, preprocessed(f), [2, 5], { steps: 4 });
    closeTo(ga, want.map);
    const json = JSON.parse(await readFile(join(a, 'results.json'), 'utf8'));
    expect(json.items.map((i: { target: number }) => i.target)).toEqual([2, 5]);
    expect((await readdir(a)).sort()).toEqual(['.xlens-output', 'integrated-gradients.npy', 'results.json']);
  });

  it('reads file-valued options through core’s node file reader (an IG baseline .npy)', async () => {
    const out = join(f.dir, 'baseline-file');
    const r = await runCli(
      [
        'explain',
        '--model',
        f.model,
        '--input',
        f.nhwc,
        '--method',
        `integrated-gradients:steps=2,baseline=${f.nhwc}`,
        '--format',
        'npy',
        '--quiet',
        '--out',
        out,
      ],
      f.dir,
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    // The baseline is the input itself, so every attribution is exactly x − x̄ = 0 times a gradient.
    const map = parseNpy(await readFile(join(out, 'integrated-gradients.npy')));
    expect(map.shape).toEqual([2, SIZE, SIZE, 3]);
    expect(map.data.every((v) => v === 0)).toBe(true);
  });

  it('accepts a label as target and --layer for CAM methods; html alone embeds its images', async () => {
    const out = join(f.dir, 'embedded');
    const r = await runCli(
      [
        'explain',
        '--model',
        f.model,
        '--labels',
        f.labels,
        '--image',
        f.images[0],
        '--method',
        'grad-cam',
        '--layer',
        'conv2',
        '--target',
        'star',
        '--format',
        'html,json',
        '--out',
        out,
        '-q',
      ],
      f.dir,
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect((await readdir(out)).sort()).toEqual(['.xlens-output', 'index.html', 'results.json']);
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(json.items[0].target).toBe(3);
    expect(json.methods[0].options.layer).toBe('conv2');
    const html = await readFile(join(out, 'index.html'), 'utf8');
    const srcs = [...html.matchAll(/<img [^>]*src="([^"]*)"/g)].map((m) => m[1]);
    expect(srcs.length).toBeGreaterThanOrEqual(3);
    for (const s of srcs) expect(s.startsWith('data:image/png;base64,')).toBe(true);
  });

  it('replaces an earlier report in the same folder as a whole', async () => {
    const out = join(f.dir, 'embedded');
    const r = await runCli(
      [
        'explain',
        '--model',
        f.model,
        '--image',
        f.images[1],
        '--method',
        'gradient',
        '--format',
        'npy',
        '--out',
        out,
        '-q',
      ],
      f.dir,
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(`output: ${out}`);
    expect((await readdir(out)).sort()).toEqual(['.xlens-output', 'gradient.npy']);
    expect((await readdir(f.dir)).filter((x) => x.startsWith('.'))).toEqual([]);
  });
});

describe('xlens methods, layers, predict', () => {
  it('methods lists every registered method with options and defaults', async () => {
    const r = await runCli(['methods', '--json'], f.dir);
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as { id: string; options: Record<string, { default: unknown }> }[];
    expect(listed.map((m) => m.id)).toEqual(registry.list().map((m) => m.id));
    for (const id of [
      'occlusion',
      'rise',
      'lime',
      'kernel-shap',
      'prediction-difference',
      'xrai',
      'meaningful-perturbation',
      'extremal-perturbation',
      'fgvis',
      'real-time-saliency',
    ])
      expect(listed.map((m) => m.id)).toContain(id);
    const ig = listed.find((m) => m.id === 'integrated-gradients')!;
    expect(ig.options.steps.default).toBe(
      (registry.get('integrated-gradients').defaults as { steps: number }).steps,
    );
    const text = await runCli(['methods'], f.dir);
    for (const m of registry.list()) expect(text.stdout).toContain(`${m.id}  [${m.family}]`);
  });

  it('layers shows kinds, shapes and the automatic CAM layer', async () => {
    const r = await runCli(['layers', '--model', f.model], f.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/conv3\s+conv\s+\S+\s+\[64, 8, 8\]\s+← CAM layer \(auto\)/);
    expect(r.stdout).toMatch(/fc\s+dense/);
  });

  it('predict prints the top classes with softmax probabilities', async () => {
    const r = await runCli(
      ['predict', '--model', f.model, '--labels', f.labels, '--image', f.images[1], '--top', '3', '--json'],
      f.dir,
    );
    expect(r.code).toBe(0);
    const [item] = JSON.parse(r.stdout) as {
      name: string;
      predictions: { index: number; label: string; probability: number }[];
    }[];
    const logits = (await model.forward(preprocessed(f))).data.subarray(6, 12);
    const e = Array.from(logits, (v) => Math.exp(v));
    const sum = e.reduce((a, b) => a + b, 0);
    const order = [...e.keys()].sort((x, y) => e[y] - e[x]).slice(0, 3);
    expect(item.predictions.map((p) => p.index)).toEqual(order);
    expect(item.predictions[0].label).toBe(CLASSES[order[0]]);
    expect(item.predictions[0].probability).toBeCloseTo(e[order[0]] / sum, 5);
  });
});
