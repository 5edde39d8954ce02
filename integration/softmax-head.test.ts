// Softmax heads (ADR 0007) on a trained MobileNetV2-style Keras model (BatchNorm, ReLU6, depthwise
// convolutions, residual adds, Dense(softmax)): the backend removes the softmax, so LRP and
// gradients explain the logit, and `score: 'softmax'` still explains the probability.
import { fileURLToPath } from 'node:url';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import type { Model, Tensor } from '@xlens/core';
import { fullgrad, gradient } from '@xlens/gradients';
import { lrp, lrpRuleDefaults, patternAttribution, resolveLrpRules } from '@xlens/relevance';
import { sampleImages } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const path = fileURLToPath(
  new URL('../packages/backend-tfjs/test/fixtures/mobilenet-softmax/model.json', import.meta.url),
);

function itemSums(t: Tensor): number[] {
  const n = t.shape[0];
  const size = t.data.length / n;
  return Array.from({ length: n }, (_, i) =>
    t.data.subarray(i * size, (i + 1) * size).reduce((a, b) => a + b, 0),
  );
}

describe('MobileNetV2-style model with a softmax head', () => {
  let model: Model;
  let kept: Model;
  let images: Tensor;
  let logits: Float32Array;
  let probs: Float32Array;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    model = await loadTfjsModel(path, { inputRange: [0, 1] });
    kept = await loadTfjsModel(path, { inputRange: [0, 1], stripSoftmax: false });
    images = sampleImages('shapes', 6).images;
    logits = (await model.forward(images)).data;
    probs = (await kept.forward(images)).data;
  });
  afterAll(async () => {
    await model.dispose();
    await kept.dispose();
  });

  it('explains the logit with LRP ε-plus, where the softmax made relevance vanish', async () => {
    const r = await lrp.explain(model, images, 'top1', { composite: 'epsilon-plus' });
    const through = await lrp.explain(kept, images, r.targets!, { composite: 'epsilon-plus' });
    const [onLogits, onProbs] = [itemSums(r.map), itemSums(through.map)];
    r.targets!.forEach((t, i) => {
      const logit = logits[i * 6 + t];
      expect(onLogits[i] / logit).toBeGreaterThan(0.1);
      expect(onLogits[i] / logit).toBeLessThan(1.05);
      expect(Math.abs(onProbs[i])).toBeLessThan(0.05 * logit);
    });
  });

  // Where the rest of the logit goes (ADR 0010): biases (BatchNorm shifts folded into the convs)
  // absorb relevance, and ReLU6's gradient drops the relevance of saturated units. With
  // `ignoreBias` and relevance passed through activations, every layer conserves it except for
  // units driven by their bias alone (no positive contribution from their inputs), which no
  // standard rule can hand to inputs; those are the depthwise convolutions' 9-input units here.
  it('conserves the logit layer by layer with ignoreBias and ReLU6 pass-through', async () => {
    const targets = Array.from({ length: 6 }, (_, i) => {
      const row = logits.subarray(i * 6, i * 6 + 6);
      return row.indexOf(Math.max(...row));
    });
    const cotangent = new Float32Array(36);
    targets.forEach((t, i) => {
      cotangent[i * 6 + t] = 1;
    });
    const layers = ['out_relu', 'Conv_1_bn', 'block_4_add', 'block_3_depthwise_relu'];
    const relevanceAt = async (options: Record<string, unknown>) => {
      const rules = resolveLrpRules(
        model,
        { ...lrpRuleDefaults, composite: 'epsilon-plus', ...options },
        images,
      );
      const r = await model.backward!({
        input: images,
        seed: { kind: 'output', cotangent: { data: cotangent, shape: [6, 6] } },
        wrtLayers: layers,
        capture: layers,
        rules,
      });
      return Object.fromEntries(
        layers.map((l) => {
          const a = r.activations![l];
          const g = r.layerGradients![l];
          return [l, itemSums({ data: a.data.map((v, j) => v * g.data[j]), shape: a.shape })];
        }),
      );
    };
    const strict = await relevanceAt({ ignoreBias: true });
    const gradientRelu = await relevanceAt({ ignoreBias: true, activations: 'gradient' });
    const withBias = await relevanceAt({});
    targets.forEach((t, i) => {
      const logit = logits[i * 6 + t];
      // Dense (ε), GAP, ReLU6 (pass), Conv_1 (z⁺, BN folded) and the residual add: no loss.
      for (const l of ['out_relu', 'Conv_1_bn', 'block_4_add']) {
        expect(Math.abs(strict[l][i] - logit)).toBeLessThan(2e-3 * logit);
      }
    });
    // The same path gains or loses relevance through the biases, and loses it at ReLU6's
    // saturated units under the gradient.
    const gap = (at: Record<string, number[]>, l: string) =>
      Math.max(...targets.map((t, i) => Math.abs(at[l][i] / logits[i * 6 + t] - 1)));
    expect(gap(withBias, 'block_4_add')).toBeGreaterThan(0.01);
    expect(gap(gradientRelu, 'Conv_1_bn')).toBeGreaterThan(0.01);
    const r = await lrp.explain(model, images, targets, { composite: 'epsilon-gamma-box', ignoreBias: true });
    const sums = itemSums(r.map);
    targets.forEach((t, i) => {
      expect(sums[i] / logits[i * 6 + t]).toBeGreaterThan(0.8);
      expect(sums[i] / logits[i * 6 + t]).toBeLessThan(1.05);
    });
  });

  it('methods that read fused activations see the head without its softmax', async () => {
    // FullGrad counts the head's bias (it skipped it, with a warning, while the layer list still
    // named the removed softmax); PatternAttribution fits the head on its pre-activations (it refused).
    const full = await fullgrad.explain(model, images, 'top1');
    expect(full.warnings).toEqual([]);
    const pattern = await patternAttribution.explain(model, images, 'top1');
    expect(pattern.map.data.some((v) => v !== 0)).toBe(true);
  });

  it('has unsaturated saliency; score softmax still gives the probability’s gradient', async () => {
    const a = await gradient.explain(model, images, 'top1');
    const b = await gradient.explain(model, images, a.targets!, { score: 'softmax' });
    const c = await gradient.explain(kept, images, a.targets!);
    const norm = (t: Tensor) => itemSums({ data: t.data.map((v) => v * v), shape: t.shape }).map(Math.sqrt);
    const [na, nb, nc] = [norm(a.map), norm(b.map), norm(c.map)];
    // The probability's gradient, by core's softmax cotangent on the logits or through the kept head.
    nb.forEach((v, i) => {
      expect(Math.abs(v - nc[i])).toBeLessThan(1e-3 * nc[i] + 1e-6);
    });
    const ratios = na.map((v, i) => v / nb[i]).sort((x, y) => x - y);
    expect(ratios[3]).toBeGreaterThan(3);
    expect(probs.length).toBe(36);
  });
});
