import { createRng, type Model, memoryFiles, type Tensor } from '@xlens/core';
import { referenceModel, type ToySpec, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { expectClose, randomInput } from '../test/fixtures.js';
import { patternAttribution } from './pattern-attribution.js';
import { patternsToNpz } from './pattern-file.js';
import { fitPatterns, type Patterns } from './pattern-fit.js';
import { patternnet } from './patternnet.js';
import { readWeights } from './read-weights.js';

/**
 * Kindermans et al.'s linear toy: x = a_s·s + d·ε with signal direction a_s = [1, 0] and distractor
 * d = [1, 1]; output 0 has w = [1, −1] ⊥ d, so y₀ = s and the distractor is filtered, yet the
 * weight vector does not point along the signal.
 */
function linearToy(): { model: Model; data: Tensor } {
  const spec: ToySpec = {
    name: 'signal-distractor',
    inputShape: [2, 1, 1],
    numClasses: 2,
    layers: [
      { type: 'flatten', name: 'flat' },
      { type: 'dense', name: 'fc', inFeatures: 2, outFeatures: 2, weight: [1, -1, 0, 1] },
    ],
  };
  const rng = createRng(5, 1);
  const n = 2000;
  const data = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const s = 2 * rng.uniform() - 1;
    const e = rng.normal();
    data[2 * i] = s + e;
    data[2 * i + 1] = e;
  }
  return { model: referenceModel(spec), data: { data, shape: [n, 2, 1, 1] } };
}

describe('patternnet', () => {
  it('recovers the signal direction of the linear toy, where the gradient does not', async () => {
    const { model, data } = linearToy();
    const patterns = await fitPatterns(model, data, { batchSize: 500 });
    const a = patterns.layers.fc;
    expect(a.estimator).toBe('linear');
    expect(a.pattern.shape).toEqual([2, 2]);
    expect(a.pattern.data[0]).toBeCloseTo(1, 1);
    expect(Math.abs(a.pattern.data[1])).toBeLessThan(0.05);
    const x: Tensor = { data: Float32Array.from([0.3, -0.7]), shape: [1, 2, 1, 1] };
    const net = await patternnet.explain(model, x, 0, { patterns });
    expect(net.map.data[0]).toBeCloseTo(a.pattern.data[0], 6);
    expect(net.map.data[1]).toBeCloseTo(a.pattern.data[1], 6);
    // PatternAttribution: x ⊙ (w ⊙ a) ≈ [x₁, 0]: the distractor coordinate gets nothing.
    const attr = await patternAttribution.explain(model, x, 0, { patterns });
    expect(attr.map.data[0]).toBeCloseTo(0.3 * a.pattern.data[0], 6);
    expect(Math.abs(attr.map.data[1])).toBeLessThan(0.05);
  });

  it('with the weights as patterns is the gradient; with ones, PatternAttribution is Gradient⊙Input', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 2, 3);
    const weights = await readWeights(model, ['conv1', 'conv2', 'fc'], 'test');
    const asPatterns = (f: (w: Tensor) => Float32Array): Patterns => ({
      model: 'tiny-cnn',
      layers: Object.fromEntries(
        [...weights].map(([n, w]) => [n, { pattern: { data: f(w), shape: w.shape } }]),
      ),
    });
    const g = await model.backward!({
      input: x,
      seed: {
        kind: 'output',
        cotangent: { data: Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0]), shape: [2, 5] },
      },
    });
    const net = await patternnet.explain(model, x, 0, { patterns: asPatterns((w) => w.data) });
    expectClose(net.map.data, g.inputGradient!.data, 1e-5);
    const attr = await patternAttribution.explain(model, x, 0, {
      patterns: asPatterns((w) => new Float32Array(w.data.length).fill(1)),
    });
    expectClose(
      attr.map.data,
      x.data.map((v, i) => v * g.inputGradient!.data[i]),
      1e-5,
    );
  });

  it('fits on the explained batch when no patterns are given, with a warning', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 4, 9);
    const a = await patternnet.explain(model, x, 1);
    expect(a.map.shape).toEqual(x.shape);
    expect(a.warnings.join(' ')).toMatch(/fitted on the 4 explained item/);
    const b = await patternnet.explain(model, x, 1, { patterns: await fitPatterns(model, x) });
    expectClose(a.map.data, b.map.data, 1e-6);
  });

  it('refuses to fit on one item, where dense patterns and so the map are zero', async () => {
    const model = referenceModel(tinyCnn());
    const one = randomInput(model, 1, 9);
    // What it would give: fitted on the item alone, the dense layer's pattern is all zeros.
    const fitted = await fitPatterns(model, one);
    expect(fitted.layers.fc.pattern.data.every((v) => v === 0)).toBe(true);
    for (const method of [patternnet, patternAttribution]) {
      await expect(method.explain(model, one, 1)).rejects.toMatchObject({
        code: 'invalid-option',
        message: expect.stringMatching(
          /dense layer fc gets one sample per item: on 1 item .*explain 2 or more/,
        ),
      });
    }
    const patterns = await fitPatterns(model, randomInput(model, 4, 9));
    expect((await patternnet.explain(model, one, 1, { patterns })).map.data.some((v) => v !== 0)).toBe(true);
  });

  it('refuses patterns that do not fit the model, before compute', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1);
    const bad: Patterns = {
      model: 'x',
      layers: { fc: { pattern: { data: new Float32Array(4), shape: [2, 2] } } },
    };
    await expect(patternnet.explain(model, x, 0, { patterns: bad })).rejects.toMatchObject({
      code: 'unsupported-rule',
    });
    await expect(patternnet.explain(model, x, 0, { patterns: '/nonexistent/patterns.json' })).rejects.toThrow(
      /reading files needs a FileSource/,
    );
    // A file is read through the files run option and checked before the first model pass.
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
    const files = memoryFiles({ 'bad.npz': patternsToNpz(bad) });
    await expect(patternnet.explain(counting, x, 0, { patterns: 'bad.npz', files })).rejects.toMatchObject({
      code: 'unsupported-rule',
    });
    await expect(patternnet.explain(counting, x, 0, { patterns: 'gone.json', files })).rejects.toMatchObject({
      code: 'invalid-file',
    });
    expect(passes).toBe(0);
  });
});
