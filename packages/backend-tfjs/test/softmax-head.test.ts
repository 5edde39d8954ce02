import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type BackwardRules, parseNpy, type Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTfjsModel } from '../src/load.js';
import type { TfjsModel } from '../src/options.js';
import { oneHot, useWasm } from './helpers.js';

/** The trained MobileNetV2-style fixture with a Dense(softmax) head (scripts/train-softmax-fixture.mjs). */
const dir = new URL('./fixtures/mobilenet-softmax/', import.meta.url);
const path = fileURLToPath(new URL('model.json', dir));

/** Σ over each item of a batch tensor. */
function itemSums(t: Tensor): number[] {
  const n = t.shape[0];
  const size = t.data.length / n;
  return Array.from({ length: n }, (_, i) =>
    t.data.subarray(i * size, (i + 1) * size).reduce((a, b) => a + b, 0),
  );
}

describe('a trained MobileNetV2-style Keras model with a softmax head', () => {
  let logits: TfjsModel;
  let probs: TfjsModel;
  let images: Tensor;
  let top: number[];
  let z: Float32Array;
  let p: Float32Array;
  beforeAll(async () => {
    await useWasm();
    logits = await loadTfjsModel(path, { inputRange: [0, 1] });
    probs = await loadTfjsModel(path, { inputRange: [0, 1], stripSoftmax: false });
    const pixels = parseNpy(readFileSync(new URL('samples.npy', dir)));
    images = { data: pixels.data.map((v) => v / 255), shape: pixels.shape };
    z = (await logits.forward(images)).data;
    p = (await probs.forward(images)).data;
    top = [0, 1, 2, 3, 4, 5].map((i) => {
      const row = Array.from(z.subarray(i * 6, i * 6 + 6));
      return row.indexOf(Math.max(...row));
    });
  });
  afterAll(() => {
    logits.dispose();
    probs.dispose();
  });

  it('has its softmax removed: logits out, probabilities on request', () => {
    expect(logits.info).toMatchObject({
      outputKind: 'logits',
      outputActivation: { kind: 'softmax', layer: 'predictions', removed: true },
    });
    expect(probs.info.outputKind).toBe('probabilities');
    // The layer list says what the layer now computes: methods reading fused activations see logits.
    const head = (m: TfjsModel) => m.layers!().find((l) => l.name === 'predictions')!;
    expect(head(logits).activation).toBeUndefined();
    expect(head(probs).activation).toBe('softmax');
    for (let i = 0; i < 6; i++) {
      const row = Array.from(z.subarray(i * 6, i * 6 + 6));
      const e = row.map((v) => Math.exp(v - Math.max(...row)));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, j) => {
        expect(p[i * 6 + j]).toBeCloseTo(v / s, 5);
      });
    }
  });

  it('LRP ε-plus relevance is of the order of the logit, not collapsed as through the softmax', async () => {
    // ε-plus as @xlens/relevance resolves it: z⁺ on (BatchNorm-folded) convolutions, ε on dense.
    const linear = Object.fromEntries(
      logits.layers!()
        .filter((l) => l.kind === 'conv' || l.kind === 'dense')
        .map((l) => [
          l.name,
          l.kind === 'dense' ? { kind: 'epsilon' as const, epsilon: 1e-6 } : { kind: 'z-plus' as const },
        ]),
    );
    const rules: BackwardRules = { linear, foldBatchNorm: true };
    const seed = { kind: 'output' as const, cotangent: oneHot(6, 6, top) };
    const onLogits = itemSums(
      (await logits.backward!({ input: images, seed, rules, relevance: true })).inputRelevance!,
    );
    const throughSoftmax = itemSums(
      (await probs.backward!({ input: images, seed, rules, relevance: true })).inputRelevance!,
    );
    for (let i = 0; i < 6; i++) {
      const logit = z[i * 6 + top[i]];
      // Through the softmax the relevance of a confident class all but vanishes.
      expect(Math.abs(throughSoftmax[i])).toBeLessThan(0.05 * logit);
      expect(onLogits[i] / logit).toBeGreaterThan(0.05);
      expect(onLogits[i] / logit).toBeLessThan(1.05);
    }
  });

  it('has saliency that the softmax no longer damps', async () => {
    const seed = { kind: 'output' as const, cotangent: oneHot(6, 6, top) };
    const norms = async (m: TfjsModel) => {
      const g = (await m.backward!({ input: images, seed })).inputGradient!;
      return itemSums({ data: g.data.map((v) => v * v), shape: g.shape }).map(Math.sqrt);
    };
    const [a, b] = [await norms(logits), await norms(probs)];
    const ratios = a.map((v, i) => v / b[i]).sort((x, y) => x - y);
    // ∂p/∂x = p(∇z_c − Σ p_k ∇z_k): damped by the top probability and cancelled by the others.
    expect(ratios[3]).toBeGreaterThan(3);
  });
});
