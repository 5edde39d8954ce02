import { createRng, type Model, makeBaseline, memoryFiles, serializeNpy } from '@xlens/core';
import { avgPoolCnn, referenceModel, type ToySpec, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { at, expectClose, randomInput, sums } from '../test/fixtures.js';
import { deeplift } from './deeplift.js';

/** `input [4, 1, 1]` → flatten → `fc1` 4→3 (ReLU, bias) → `fc2` 3→2 (bias). */
function oneLayer(): ToySpec {
  const rng = createRng(9, 1);
  const r = (n: number) => Array.from(rng.fillNormal(new Float32Array(n), 0, 1));
  return {
    name: 'one-layer',
    inputShape: [4, 1, 1],
    numClasses: 2,
    layers: [
      { type: 'flatten', name: 'flat' },
      {
        type: 'dense',
        name: 'fc1',
        inFeatures: 4,
        outFeatures: 3,
        weight: r(12),
        bias: r(3),
        activation: 'relu',
      },
      { type: 'dense', name: 'fc2', inFeatures: 3, outFeatures: 2, weight: r(6), bias: r(2) },
    ],
  };
}

describe('deeplift', () => {
  it('equals the exact Rescale decomposition on a one-hidden-layer net', async () => {
    const spec = oneLayer();
    const model = referenceModel(spec);
    const x = randomInput(model, 3, 2, -2, 2);
    const ref = randomInput(model, 1, 3, -2, 2);
    const a = await deeplift.explain(model, x, 1, { reference: ref });
    const [fc1, fc2] = [spec.layers[1], spec.layers[2]] as Extract<
      ToySpec['layers'][number],
      { type: 'dense' }
    >[];
    const pre = (v: ArrayLike<number>, j: number) =>
      fc1.bias![j] + [0, 1, 2, 3].reduce((s, i) => s + fc1.weight[j * 4 + i] * v[i], 0);
    for (let n = 0; n < 3; n++) {
      const xi = x.data.subarray(n * 4, n * 4 + 4);
      // Multiplier of hidden unit j: Δrelu / Δz; attribution of input i: Δx_i Σ_j v_j m_j W_ji.
      const m = [0, 1, 2].map((j) => {
        const dz = pre(xi, j) - pre(ref.data, j);
        return Math.abs(dz) < 1e-7
          ? pre(xi, j) > 0
            ? 1
            : 0
          : (Math.max(pre(xi, j), 0) - Math.max(pre(ref.data, j), 0)) / dz;
      });
      const expected = [0, 1, 2, 3].map(
        (i) =>
          (xi[i] - ref.data[i]) *
          [0, 1, 2].reduce((s, j) => s + fc2.weight[3 + j] * m[j] * fc1.weight[j * 4 + i], 0),
      );
      expectClose(a.map.data.subarray(n * 4, n * 4 + 4), expected, 1e-5);
    }
    const fx = await model.forward(x);
    const fr = await model.forward(ref);
    const s = sums(a.map);
    for (let n = 0; n < 3; n++) expect(s[n]).toBeCloseTo(at(fx, n, 1) - at(fr, 0, 1), 5);
    for (const g of a.extras.completenessGap as number[]) expect(Math.abs(g)).toBeLessThan(1e-5);
  });

  it('is complete on a conv net with average pooling, for every baseline and chunking', async () => {
    const model = referenceModel(avgPoolCnn(), { inputRange: [0, 1] });
    const x = randomInput(model, 3, 4, 0, 1);
    const fx = await model.forward(x);
    for (const baseline of ['zero', 'black', 'white', 'mean', 'blur'] as const) {
      const a = await deeplift.explain(model, x, 2, { baseline, blurSigma: 1.5, batchSize: 2 });
      const ref = makeBaseline(baseline, model, x, { blurSigma: 1.5 });
      const fr = await model.forward(ref);
      const s = sums(a.map);
      for (let n = 0; n < 3; n++) expect(s[n], baseline).toBeCloseTo(at(fx, n, 2) - at(fr, n, 2), 4);
      const b = await deeplift.explain(model, x, 2, { baseline, blurSigma: 1.5, batchSize: 16 });
      expectClose(a.map.data, b.map.data, 1e-6);
    }
  });

  it('gives zero when the reference is the input, and reports the gap on max-pool nets', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 5);
    const same = await deeplift.explain(model, x, 0, { reference: x });
    expect(Math.max(...same.map.data.map(Math.abs))).toBe(0);
    const a = await deeplift.explain(model, x, 0);
    const fx = await model.forward(x);
    const f0 = await model.forward({ data: new Float32Array(x.data.length), shape: x.shape });
    const s = sums(a.map);
    expect((a.extras.completenessGap as number[])[1]).toBeCloseTo(s[1] - (at(fx, 1, 0) - at(f0, 1, 0)), 4);
  });

  it('takes core baselines: a number, a tensor, a .npy file through the files run option', async () => {
    const model = referenceModel(avgPoolCnn(), { inputRange: [0, 1] });
    const x = randomInput(model, 2, 6, 0, 1);
    const half = await deeplift.explain(model, x, 1, { baseline: 0.5 });
    const item = { data: new Float32Array(x.data.length / 2).fill(0.5), shape: x.shape.slice(1) };
    const viaTensor = await deeplift.explain(model, x, 1, { baseline: item });
    const files = memoryFiles({ 'half.npy': serializeNpy(item) });
    const viaFile = await deeplift.explain(model, x, 1, { baseline: 'half.npy', files });
    expectClose(half.map.data, viaTensor.map.data, 0);
    expectClose(half.map.data, viaFile.map.data, 0);
    let passes = 0;
    const counting: Model = {
      ...model,
      forward: (input) => {
        passes++;
        return model.forward(input);
      },
      backward: (request) => {
        passes++;
        return model.backward!(request);
      },
    };
    await expect(deeplift.explain(counting, x, 1, { baseline: 'half.npy' })).rejects.toThrow(
      /baseline file "half\.npy" is a path, and reading files needs a FileSource/,
    );
    await expect(deeplift.explain(counting, x, 1, { baseline: 'gone.npy', files })).rejects.toMatchObject({
      code: 'invalid-file',
    });
    expect(passes).toBe(0);
  });

  it('refuses bad references and black without an input range before compute', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2);
    await expect(deeplift.explain(model, x, 0, { baseline: 'black' })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(
      deeplift.explain(model, x, 0, { reference: { data: new Float32Array(5), shape: [5] } }),
    ).rejects.toMatchObject({ code: 'invalid-shape' });
    await expect(deeplift.explain(model, x, 0, { baseline: 'grey' })).rejects.toThrow(
      /baseline = "grey" is invalid; expected one of zero, black, white, blur, uniform, mean/,
    );
  });
});
