import { sizeOf, type Tensor, XlensError } from '@xlens/core';
import { biasFreeCnn, cnnWithBatchNorm, referenceModel, type ToySpec, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { at, expectClose, foldBatchNormSpec, randomInput, residualModel, sums } from '../test/fixtures.js';
import { lrp } from './lrp.js';

const allRules = (spec: ToySpec, rule: string): Record<string, string> =>
  Object.fromEntries(
    spec.layers.filter((l) => l.type === 'conv' || l.type === 'dense').map((l) => [l.name, rule]),
  );

/** x (2) → fc1 (ReLU) → fc2: the hand-computed toy of the LRP-ε/γ and ignoreBias tests. */
function handSpec(): ToySpec {
  return {
    name: 'hand',
    inputShape: [2, 1, 1],
    numClasses: 2,
    layers: [
      { type: 'flatten', name: 'flat' },
      {
        type: 'dense',
        name: 'fc1',
        inFeatures: 2,
        outFeatures: 2,
        weight: [1, -1, 2, 1],
        bias: [0.5, -0.5],
        activation: 'relu',
      },
      { type: 'dense', name: 'fc2', inFeatures: 2, outFeatures: 2, weight: [1, 2, -1, 1], bias: [0.1, 0] },
    ],
  };
}

describe('lrp', () => {
  it('conserves relevance with LRP-0 on a bias-free ReLU net: Σ R = logit', async () => {
    const spec = biasFreeCnn();
    const model = referenceModel(spec);
    const x = randomInput(model, 3, 1, 0, 1);
    const out = await model.forward(x);
    const a = await lrp.explain(model, x, [0, 1, 2], { rules: allRules(spec, 'lrp-0') });
    const s = sums(a.map);
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(s[i] - at(out, i, i))).toBeLessThan(1e-4 * Math.max(1, Math.abs(at(out, i, i))));
      expect(Math.abs((a.extras.conservationGap as number[])[i])).toBeLessThan(1e-4);
    }
  });

  it('equals Gradient⊙Input for LRP-0 on a bias-free ReLU net', async () => {
    const spec = biasFreeCnn();
    const model = referenceModel(spec);
    const x = randomInput(model, 2, 2);
    const a = await lrp.explain(model, x, 3, { composite: 'epsilon', epsilon: 0 });
    const cot = new Float32Array(2 * 4);
    cot[3] = 1;
    cot[7] = 1;
    const g = await model.backward!({
      input: x,
      seed: { kind: 'output', cotangent: { data: cot, shape: [2, 4] } },
    });
    expectClose(
      a.map.data,
      x.data.map((v, i) => v * g.inputGradient!.data[i]),
    );
  });

  it('reports the conservation gap Σ R − logit when biases absorb relevance', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 3);
    const out = await model.forward(x);
    const a = await lrp.explain(model, x, [4, 1], { composite: 'epsilon-plus' });
    const s = sums(a.map);
    const gap = a.extras.conservationGap as number[];
    expect(gap[0]).toBeCloseTo(s[0] - at(out, 0, 4), 4);
    expect(gap[1]).toBeCloseTo(s[1] - at(out, 1, 1), 4);
    expect(a.extras.outputRelevance as number[]).toEqual([
      expect.closeTo(at(out, 0, 4), 5),
      expect.closeTo(at(out, 1, 1), 5),
    ]);
    expect(Math.max(...gap.map(Math.abs))).toBeGreaterThan(1e-6);
  });

  it('z⁺ equals α1β0 where layer inputs are non-negative', async () => {
    const spec = biasFreeCnn();
    const model = referenceModel(spec);
    const x = randomInput(model, 2, 4, 0, 1);
    const zPlus = await lrp.explain(model, x, 2, { rules: allRules(spec, 'z-plus') });
    const ab = await lrp.explain(model, x, 2, { rules: allRules(spec, 'alpha1-beta0') });
    expectClose(zPlus.map.data, ab.map.data, 1e-5);
    const a2b1 = await lrp.explain(model, x, 2, { rules: allRules(spec, 'alpha2-beta1') });
    expect(Math.max(...a2b1.map.data.map((v, i) => Math.abs(v - zPlus.map.data[i])))).toBeGreaterThan(1e-3);
  });

  it('hand-computed LRP-ε and LRP-γ on a two-layer toy net', async () => {
    // x = [1, 2]; z1 = W1 x + b1 = [1−2+0.5, 2+2−0.5] = [−0.5, 3.5]; a1 = [0, 3.5];
    // z2 = W2 a1 + b2 = [0 + 7 + 0.1, 0 + 3.5] = [7.1, 3.5]. Target 0: R2 = 7.1.
    const model = referenceModel(handSpec());
    const x: Tensor = { data: Float32Array.from([1, 2]), shape: [1, 2, 1, 1] };
    // ε = 0.1 on fc2: R1 = a1 ⊙ w2₀ · 7.1 / (7.1 + 0.1) = [0, 7 · 7.1 / 7.2].
    const r1 = (7 * 7.1) / 7.2;
    // ε = 0.1 on fc1: only unit 1 is relevant; contributions x ⊙ W1₁ = [2, 2], z = 3.5.
    const eps = await lrp.explain(model, x, 0, { rules: { fc1: 'epsilon:0.1', fc2: 'epsilon:0.1' } });
    expectClose(eps.map.data, [(2 * r1) / 3.6, (2 * r1) / 3.6], 1e-5);
    // γ = 0.5 on fc1: W' = [[1.5, −1], [3, 1.5]], b' = [0.75, −0.5]; unit 1: x ⊙ W'₁ = [3, 3], z' = 5.5.
    const gam = await lrp.explain(model, x, 0, { rules: { fc1: 'gamma:0.5', fc2: 'epsilon:0.1' } });
    expectClose(gam.map.data, [(3 * r1) / (5.5 + 1e-6), (3 * r1) / (5.5 + 1e-6)], 1e-5);
  });

  it('ignoreBias: rules see z − b, share the actual relevance, and LRP-0 conserves the logit (hand-computed)', async () => {
    // The toy above. fc2 without its bias: z' = 7, so R1 = [0, 7 · 7.1 / (7 + ε)]; fc1 unit 1
    // without its bias −0.5: z' = 4, contributions [2, 2].
    const model = referenceModel(handSpec());
    const x: Tensor = { data: Float32Array.from([1, 2]), shape: [1, 2, 1, 1] };
    const rules = { fc1: 'epsilon:0.1', fc2: 'epsilon:0.1' };
    const eps = await lrp.explain(model, x, 0, { rules, ignoreBias: true });
    const r1 = (7 * 7.1) / 7.1;
    expectClose(eps.map.data, [(2 * r1) / 4.1, (2 * r1) / 4.1], 1e-5);
    const zero = { fc1: 'lrp-0', fc2: 'lrp-0' };
    const strict = await lrp.explain(model, x, 0, { rules: zero, ignoreBias: true });
    expect(sums(strict.map)[0]).toBeCloseTo(7.1, 5);
    const absorbed = await lrp.explain(model, x, 0, { rules: zero });
    // With the biases: fc2 passes 7 of its 7.1; fc1's unit 1 (z = 3.5 from contributions 4 and a
    // bias of −0.5) hands out 7 · 4 / 3.5 = 8.
    expect(sums(absorbed.map)[0]).toBeCloseTo(8, 5);
  });

  it('warns when Σ R misses the logit by more than 10%, and not otherwise (hand-computed toy)', async () => {
    const model = referenceModel(handSpec());
    const x: Tensor = { data: Float32Array.from([1, 2]), shape: [1, 2, 1, 1] };
    const zero = { fc1: 'lrp-0', fc2: 'lrp-0' };
    // With the biases Σ R = 8 against a logit of 7.1: 113%, 12.7% off.
    const absorbed = await lrp.explain(model, x, 0, { rules: zero });
    expect(absorbed.warnings).toHaveLength(1);
    expect(absorbed.warnings[0]).toMatch(
      /^lrp: Σ input relevance is 113% of the target logit on the item \(more than 10% off\).*ignoreBias: true/,
    );
    expect((await lrp.explain(model, x, 0, { rules: zero, ignoreBias: true })).warnings).toEqual([]);
    // ε = 0.5 on fc1 only: its unit 1 hands out 7 · 4 / 4.0 = 7 of 7 → 7/7.1 = 98.6%, within 10%.
    const close = await lrp.explain(model, x, 0, { rules: { fc1: 'epsilon:0.5', fc2: 'lrp-0' } });
    expect(sums(close.map)[0] / 7.1).toBeGreaterThan(0.9);
    expect(close.warnings).toEqual([]);
  });

  it('passes relevance through activations by default, which is the gradient on plain ReLUs', async () => {
    const model = referenceModel(cnnWithBatchNorm());
    const x = randomInput(model, 2, 7);
    const pass = await lrp.explain(model, x, [1, 2], { composite: 'epsilon-alpha2-beta1' });
    const gradient = await lrp.explain(model, x, [1, 2], {
      composite: 'epsilon-alpha2-beta1',
      activations: 'gradient',
    });
    expect(Array.from(pass.map.data)).toEqual(Array.from(gradient.map.data));
    expect(pass.options).toMatchObject({ activations: 'pass', ignoreBias: false });
  });

  it('folds BatchNorm exactly: same forward to 1e-6 and the composite sees the folded map', async () => {
    const spec = cnnWithBatchNorm();
    const model = referenceModel(spec);
    const folded = referenceModel(foldBatchNormSpec(spec));
    const x = randomInput(model, 2, 5);
    expectClose((await model.forward(x)).data, (await folded.forward(x)).data, 0, 1e-6);
    for (const composite of ['epsilon-plus', 'epsilon-alpha2-beta1', 'epsilon']) {
      const a = await lrp.explain(model, x, 1, { composite, epsilon: 0.01, foldBatchNorm: true });
      const b = await lrp.explain(folded, x, 1, { composite, epsilon: 0.01 });
      expectClose(a.map.data, b.map.data, 1e-4);
    }
    // Without the canonizer the z⁺ rule sees the raw conv, which is a different map.
    const raw = await lrp.explain(model, x, 1, { composite: 'epsilon-plus', foldBatchNorm: false });
    const b = await lrp.explain(folded, x, 1, { composite: 'epsilon-plus' });
    expect(Math.max(...raw.map.data.map((v, i) => Math.abs(v - b.map.data[i])))).toBeGreaterThan(1e-4);
  });

  it('conserves relevance through a residual addition without a rule on it', async () => {
    const model = residualModel();
    const x = randomInput(model, 4, 6);
    const out = await model.forward(x);
    for (const rules of [
      { fc1: 'lrp-0', skip: 'lrp-0', fc2: 'lrp-0' },
      { fc1: 'z-plus', skip: 'z-plus', fc2: 'lrp-0' },
    ]) {
      const a = await lrp.explain(model, x, 2, { rules });
      const s = sums(a.map);
      for (let i = 0; i < 4; i++) expect(s[i]).toBeCloseTo(at(out, i, 2), 4);
    }
  });

  it('gives the same map in NHWC as in NCHW', async () => {
    const spec = tinyCnn();
    const nchw = referenceModel(spec, { inputRange: [-1, 1] });
    const nhwc = referenceModel(spec, { layout: 'NHWC', inputRange: [-1, 1] });
    const x = randomInput(nchw, 1, 8);
    const [c, h, w] = [3, 8, 8];
    const xl = new Float32Array(x.data.length);
    for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) xl[p * c + k] = x.data[k * h * w + p];
    const a = await lrp.explain(nchw, x, 0, { composite: 'epsilon-gamma-box' });
    const b = await lrp.explain(nhwc, { data: xl, shape: [1, h, w, c] }, 0, {
      composite: 'epsilon-gamma-box',
    });
    const back = new Float32Array(sizeOf(a.map.shape));
    for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) back[k * h * w + p] = b.map.data[p * c + k];
    expectClose(back, a.map.data, 1e-5);
  });

  it('decomposes the logit whatever the score, and says so', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 9);
    const logit = await lrp.explain(model, x, 2);
    const soft = await lrp.explain(model, x, 2, { score: 'softmax' });
    expectClose(soft.map.data, logit.map.data, 0, 0);
    expect(soft.warnings.join(' ')).toMatch(/score softmax was ignored/);
    expect(logit.warnings).toEqual([]);
  });

  it('refuses rules before any compute', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1);
    await expect(lrp.explain(model, x, 0, { composite: 'epsilon-gamma-box' })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(lrp.explain(model, x, 0, { composite: 'nope' })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(lrp.explain(model, x, 0, { rules: { relu2: 'epsilon' } })).rejects.toThrow(XlensError);
  });
});
