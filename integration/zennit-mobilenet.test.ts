// Cross-check against zennit 0.5.1 on the trained MobileNetV2-style Keras fixture (BatchNorm,
// ReLU6, depthwise convolutions, residual adds, Dense softmax head): `lrp` ε-plus through the tfjs
// backend and zennit's `EpsilonPlus` on the same weights rebuilt in torch
// (`fixtures/zennit-mobilenet/generate.py`), both seeded with the target logit. Issue 18 asked
// ε-plus to conserve that logit within 10% here; neither implementation does, and by the same
// share, because relevance reaching units driven by their bias alone cannot go to any input under
// rules proportional to the inputs (ADR 0010).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { type Model, parseNpy, type Tensor } from '@xlens/core';
import { lrp } from '@xlens/relevance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeL2 } from './compare.js';

const fixture = new URL('../packages/backend-tfjs/test/fixtures/mobilenet-softmax/', import.meta.url);
const dir = new URL('./fixtures/zennit-mobilenet/', import.meta.url);
const npy = (url: URL): Tensor => parseNpy(readFileSync(url), fileURLToPath(url));
const meta = JSON.parse(readFileSync(new URL('meta.json', dir), 'utf8')) as {
  targets: number[];
  logits: number[][];
  relevanceShare: Record<string, number[]>;
};

const items = (t: Tensor): Float32Array[] => {
  const m = t.data.length / t.shape[0];
  return Array.from({ length: t.shape[0] }, (_, i) => t.data.subarray(i * m, (i + 1) * m));
};

const item = (data: Float32Array): Tensor => ({ data, shape: [data.length] });
const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);

describe('lrp ε-plus on the trained MobileNetV2-style fixture agrees with zennit 0.5.1', () => {
  let model: Model;
  let images: Tensor;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    model = await loadTfjsModel(fileURLToPath(new URL('model.json', fixture)), { inputRange: [0, 1] });
    const pixels = npy(new URL('samples.npy', fixture));
    images = { data: Float32Array.from(pixels.data, (v) => v / 255), shape: pixels.shape };
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('the Keras model without its softmax gives the logits the torch rebuild gave', async () => {
    const out = await model.forward(images);
    const want = meta.logits.flat();
    out.data.forEach((v, i) => {
      expect(Math.abs(v - want[i]), `logit ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[i])));
    });
  });

  it.each([
    ['epsilon-plus', false],
    ['epsilon-plus-zero-bias', true],
  ] as const)('%s: the same maps and the same lost share of the logit', async (name, ignoreBias) => {
    const theirs = items(npy(new URL(`${name}.npy`, dir)));
    const r = await lrp.explain(model, images, meta.targets, { composite: 'epsilon-plus', ignoreBias });
    items(r.map).forEach((ours, i) => {
      const logit = meta.logits[i][meta.targets[i]];
      // Measured: relative L2 ≤ 7e-6 with biases, ≤ 1.6e-4 without (float32 on small z⁺ denominators);
      // shares within 5e-5.
      expect(relativeL2(item(ours), item(theirs[i])), `item ${i}: relative L2`).toBeLessThan(1e-3);
      const share = sum(ours) / logit;
      expect(Math.abs(share - meta.relevanceShare[name][i]), `item ${i}: Σ R ÷ logit`).toBeLessThan(1e-4);
      // zennit 0.14–0.33 with biases, 0.47–0.71 without: far from the logit, in both libraries.
      expect(Math.abs(meta.relevanceShare[name][i] - 1)).toBeGreaterThan(0.25);
    });
  });
});
