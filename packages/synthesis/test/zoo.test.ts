// The synthesis methods on the bundled zoo shapes model, on both backends.
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import type { Model, Tensor } from '@xlens/core';
import { decodePng, encodePng, filterTiles, imageGrid } from '@xlens/viz';
import { zooGeneratorPath, zooModelPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationMaximisation, dgnAm, filterImages } from '../src/index.js';
import { correlation } from './toys.js';

const grey = (n: number): Tensor => ({
  data: new Float32Array(n * 64 * 64 * 3).fill(0.5),
  shape: [n, 64, 64, 3],
});

function softmaxRows(logits: Tensor): number[][] {
  const k = logits.shape[1];
  return Array.from({ length: logits.shape[0] }, (_, i) => {
    const row = Array.from(logits.data.subarray(i * k, (i + 1) * k));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

describe('zoo shapes model', () => {
  let onTfjs: Model;
  let onOnnx: Model;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    onTfjs = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
    onOnnx = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1] });
  });
  afterAll(async () => {
    await onTfjs.dispose();
    await onOnnx.dispose();
  });

  it('each class visualisation is classified as its class with probability > 0.9', async () => {
    const classes = [0, 1, 2, 3, 4, 5];
    const r = await activationMaximisation.explain(onOnnx, grey(6), classes, { steps: 128, batchSize: 6 });
    const probabilities = softmaxRows(await onTfjs.forward(r.map));
    const own = classes.map((c) => probabilities[c][c]);
    for (const [c, p] of own.entries()) expect(p, `p(class ${c}) of its visualisation`).toBeGreaterThan(0.9);
  });

  it('DGN-AM through the zoo generator: each class image is classified as its class (p > 0.9)', async () => {
    const generator = await loadTfjsModel(zooGeneratorPath());
    try {
      const classes = [0, 1, 2, 3, 4, 5];
      const r = await dgnAm(generator).explain(onOnnx, grey(6), classes, {
        steps: 60,
        codeRange: [0, 4],
        batchSize: 6,
      });
      expect(r.map.data.every((v) => v >= 0 && v <= 1)).toBe(true);
      const probabilities = softmaxRows(await onTfjs.forward(r.map));
      for (const c of classes)
        expect(probabilities[c][c], `p(class ${c}) of its DGN-AM image`).toBeGreaterThan(0.9);
    } finally {
      await generator.dispose();
    }
  });

  it('the same objective and seed give the same images on tfjs and ONNX Runtime (50 steps)', async () => {
    for (const objective of ['target', 'channel:conv3:5']) {
      const options = { objective, steps: 50, seed: 7 };
      const a = await activationMaximisation.explain(onTfjs, grey(2), [3, 4], options);
      const b = await activationMaximisation.explain(onOnnx, grey(2), [3, 4], options);
      const c = correlation(a.map.data, b.map.data);
      expect(c, `${objective}: correlation tfjs vs ONNX after 50 steps`).toBeGreaterThan(0.99);
    }
  });
});

describe('first-layer filters of the zoo models', () => {
  for (const name of ['shapes', 'shapes-shortcut', 'mnist'] as const) {
    it(`${name}: read through weights, the same on both backends, rendered as a PNG grid`, async () => {
      await initTfjsBackend('wasm');
      const a = await loadTfjsModel(zooModelPath(name, 'tfjs'));
      const b = await fromOnnx(zooModelPath(name, 'onnx'));
      try {
        const fa = await filterImages(a);
        const fb = await filterImages(b);
        expect(fa.layer).toBe('conv1');
        expect(fb.layer).toBe('conv1');
        const channels = name === 'mnist' ? 1 : 3;
        expect(fa.weights.shape).toEqual([name === 'mnist' ? 32 : 16, channels, 3, 3]);
        expect(fb.weights.shape).toEqual(fa.weights.shape);
        for (let i = 0; i < fa.images.data.length; i++)
          expect(fb.images.data[i]).toBeCloseTo(fa.images.data[i], 5);
        const tiles = filterTiles(fa.images);
        expect(tiles).toHaveLength(fa.weights.shape[0]);
        const grid = imageGrid(tiles, { scale: 8, gap: 2 });
        const png = decodePng(encodePng(grid));
        expect([png.width, png.height]).toEqual([grid.width, grid.height]);
        // Not blank: kernels differ, so the grid has many distinct colours.
        expect(new Set(Array.from(grid.data.filter((_, i) => i % 4 === 0))).size).toBeGreaterThan(10);
      } finally {
        await a.dispose();
        await b.dispose();
      }
    });
  }
});
