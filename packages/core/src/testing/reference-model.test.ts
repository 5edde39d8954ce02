import { describe, expect, it } from 'vitest';
import type { BackwardRequest, Model, WeightParam } from '../model.js';
import { toChannelsFirst, toChannelsLast } from '../ops/reduce.js';
import type { BackwardRules } from '../rules.js';
import { sumPerItem, type Tensor } from '../tensor.js';
import { randomInput, randomTensor } from './compare.js';
import { referenceModel } from './reference-model.js';
import type { ToyLayer, ToySpec } from './spec.js';
import { avgPoolCnn, biasFreeCnn, cnnWithBatchNorm, residualCnn, tinyCnn, tinyDense } from './toy-nets.js';

const values = (t: Tensor | undefined): number[] => Array.from(t!.data);
const oneHot = (n: number, k: number, c: number): Tensor => {
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) data[i * k + c] = 1;
  return { data, shape: [n, k] };
};
const expectClose = (got: ArrayLike<number>, want: ArrayLike<number>, digits = 5): void => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i], `index ${i}`).toBeCloseTo(want[i], digits);
};
const backward = (m: Model, request: BackwardRequest) => m.backward!(request);
const classSeed = (m: Model, n: number, c: number) => ({
  kind: 'output' as const,
  cotangent: oneHot(n, m.info.numClasses, c),
});

/** A spec with every bias removed: LRP-0 then conserves relevance exactly. */
function withoutBiases(spec: ToySpec): ToySpec {
  return {
    ...spec,
    layers: spec.layers.map(
      (l): ToyLayer => (l.type === 'conv' || l.type === 'dense' ? { ...l, bias: undefined } : l),
    ),
  };
}

describe('hand-computed ReLU rules on a 2-layer net', () => {
  // x = (0.25, −0.5) → z = W1 x + b1 = (0.75, −1) → relu → (0.75, 0) → y = W2 a = −0.75.
  const spec: ToySpec = {
    name: 'two-layer',
    inputShape: [2, 1, 1],
    numClasses: 1,
    layers: [
      { type: 'flatten', name: 'flatten' },
      {
        type: 'dense',
        name: 'fc1',
        inFeatures: 2,
        outFeatures: 2,
        weight: [1, -1, 2, 1],
        bias: [0, -1],
        activation: 'relu',
      },
      { type: 'dense', name: 'fc2', inFeatures: 2, outFeatures: 1, weight: [-1, 2] },
    ],
  };
  const m = referenceModel(spec);
  // Two rows with seeds +1 and −1: the cotangent at a is (−1, 2) and (1, −2).
  const request = (relu: BackwardRules['relu']): BackwardRequest => ({
    input: { data: Float32Array.of(0.25, -0.5, 0.25, -0.5), shape: [2, 2, 1, 1] },
    seed: { kind: 'output', cotangent: { data: Float32Array.of(1, -1), shape: [2, 1] } },
    rules: { relu },
  });
  it('forward', async () => {
    expect(values(await m.forward(request('gradient').input))).toEqual([-0.75, -0.75]);
  });
  it('gradient passes g where z > 0', async () => {
    // g_z = (−1, 0) → W1ᵀ g_z = (−1, 1); second row negated.
    expect(values((await backward(m, request('gradient'))).inputGradient)).toEqual([-1, 1, 1, -1]);
  });
  it('guided also drops negative g', async () => {
    // row 1: g_z = (0, 0); row 2: g_z = (1, 0) → (1, −1).
    expect(values((await backward(m, request('guided'))).inputGradient)).toEqual([0, 0, 1, -1]);
  });
  it('deconvnet passes relu(g) whatever z', async () => {
    // row 1: relu(−1, 2) = (0, 2) → W1ᵀ(0, 2) = (4, 2); row 2: relu(1, −2) = (1, 0) → (1, −1).
    expect(values((await backward(m, request('deconvnet'))).inputGradient)).toEqual([4, 2, 1, -1]);
  });
});

describe('hand-computed linear rules on one dense layer', () => {
  // x = (1, 0.5), W = [[1, −2], [3, 1]], b = (0.5, −0.5): z = (0.5, 3); class 0 so R_out = 0.5.
  const spec: ToySpec = {
    name: 'one-dense',
    inputShape: [2, 1, 1],
    numClasses: 2,
    layers: [
      { type: 'flatten', name: 'flatten' },
      { type: 'dense', name: 'fc', inFeatures: 2, outFeatures: 2, weight: [1, -2, 3, 1], bias: [0.5, -0.5] },
    ],
  };
  const m = referenceModel(spec);
  const relevance = async (
    rule: NonNullable<BackwardRules['linear']>[string],
    x = [1, 0.5],
  ): Promise<number[]> =>
    values(
      (
        await backward(m, {
          input: { data: Float32Array.from(x), shape: [1, 2, 1, 1] },
          seed: classSeed(m, 1, 0),
          rules: { linear: { fc: rule } },
          relevance: true,
        })
      ).inputRelevance,
    );
  it('epsilon: x ⊙ Wᵀ(R ⊘ (z + ε))', async () => {
    // s = 0.5 / 0.6; R_in = (1·1·s, 0.5·(−2)·s).
    expectClose(await relevance({ kind: 'epsilon', epsilon: 0.1 }), [5 / 6, -5 / 6]);
    // x = (−1, 0.5): z = −1.5, R = −1.5, s = −1.5 / (−1.5 − 0.1) = 15/16 (ε takes the sign of z).
    expectClose(await relevance({ kind: 'epsilon', epsilon: 0.1 }, [-1, 0.5]), [-15 / 16, -15 / 16]);
  });
  it('gamma and gamma-classic agree on non-negative inputs and a positive output: W + γW⁺, b + γb⁺', async () => {
    // W' row 0 = (1.5, −2), b' = 0.75, z' = 1.25, s = 0.4: R_in = (0.6, −0.4).
    for (const kind of ['gamma', 'gamma-classic'] as const) {
      expectClose(await relevance({ kind, gamma: 0.5, epsilon: 0 }), [0.6, -0.4]);
      expectClose(await relevance({ kind, gamma: 0.5 }), [0.6, -0.4]);
    }
  });
  it('gamma on a negative output boosts the negative contributions; gamma-classic the positive ones', async () => {
    // x = (−1, 0.5): z = −1.5 = R. Generalised: W↓ = (1, −3) on x⁺ = (0, 0.5), W↑ = (1.5, −2) on
    // x⁻ = (−1, 0), bias b + γb⁻ = 0.5: z↓ = −1.5 − 1.5 + 0.5 = −2.5, s = 0.6, so
    // R_in = (−1·1.5·0.6, 0.5·(−3)·0.6) = (−0.9, −0.9) (the bias keeps 0.3).
    expectClose(await relevance({ kind: 'gamma', gamma: 0.5, epsilon: 0 }, [-1, 0.5]), [-0.9, -0.9]);
    // Classic: W' = (1.5, −2), b' = 0.75, z' = −1.75, s = 6/7: R_in = (−9/7, −6/7).
    expectClose(await relevance({ kind: 'gamma-classic', gamma: 0.5, epsilon: 0 }, [-1, 0.5]), [
      -9 / 7,
      -6 / 7,
    ]);
  });
  it('alpha-beta 2,1: bias on its sign side', async () => {
    // contributions (1, −1), b = 0.5: z⁺ = 1.5, z⁻ = −1 → (2·(1/1.5)·0.5, −1·(−1/−1)·0.5).
    expectClose(await relevance({ kind: 'alpha-beta', alpha: 2, beta: 1 }), [2 / 3, -0.5]);
    // x = (−1, 0.5): contributions (−1, −1), b = 0.5: z⁺ = 0.5 (bias only), z⁻ = −2, R = −1.5;
    // both inputs contribute negatively: −1·(−1/−2)·(−1.5) each.
    expectClose(await relevance({ kind: 'alpha-beta', alpha: 2, beta: 1 }, [-1, 0.5]), [0.75, 0.75]);
  });
  it('z-box, w-square and flat conserve R_out over the input', async () => {
    // z-box l = −1, h = 2: terms (1 + 1, −1 + 4) = (2, 3) → (0.2, 0.3).
    expectClose(await relevance({ kind: 'z-box', low: -1, high: 2 }), [0.2, 0.3]);
    // w-square: w² = (1, 4) → (0.1, 0.4); flat: (0.25, 0.25).
    expectClose(await relevance({ kind: 'w-square' }), [0.1, 0.4]);
    expectClose(await relevance({ kind: 'flat' }), [0.25, 0.25]);
  });
  it('z-box takes tensor bounds in the input layout', async () => {
    const low = { data: Float32Array.of(-1, -1), shape: [1, 2, 1, 1] };
    const high = { data: Float32Array.of(2, 2), shape: [1, 2, 1, 1] };
    expectClose(await relevance({ kind: 'z-box', low, high }), [0.2, 0.3]);
  });
  it('pattern backpropagates through the given weights', async () => {
    const weight = { data: Float32Array.of(2, 1, 0, 0), shape: [2, 2] };
    expectClose(await relevance({ kind: 'pattern', weight }), [2, 0.5]);
  });
});

describe('relevance identities on the toy nets', () => {
  it('LRP-0 on a bias-free net: sums to the logit and equals gradient ⊙ input', async () => {
    const m = referenceModel(biasFreeCnn());
    const input = randomInput(m, 3, 1);
    const linear = {
      conv1: { kind: 'epsilon', epsilon: 0 },
      conv2: { kind: 'epsilon', epsilon: 0 },
      fc: { kind: 'epsilon', epsilon: 0 },
    } as const;
    const lrp = await backward(m, { input, seed: classSeed(m, 3, 2), rules: { linear }, relevance: true });
    const plain = await backward(m, { input, seed: classSeed(m, 3, 2) });
    const sums = sumPerItem(lrp.inputRelevance!);
    for (let i = 0; i < 3; i++) expect(sums[i]).toBeCloseTo(lrp.output.data[i * 4 + 2], 4);
    expectClose(
      values(lrp.inputRelevance),
      input.data.map((v, i) => v * plain.inputGradient!.data[i]),
    );
  });
  it('z-plus equals alpha-beta(1, 0) on inputs of both signs (biases included), as zennit ZPlus does', async () => {
    const m = referenceModel(tinyCnn());
    for (const [low, seed] of [
      [0, 2],
      [-1, 3],
    ]) {
      const input = randomInput(m, 2, seed, low, 1);
      const run = async (rule: { kind: 'z-plus' } | { kind: 'alpha-beta'; alpha: 1; beta: 0 }) =>
        (
          await backward(m, {
            input,
            seed: classSeed(m, 2, 1),
            rules: { linear: { conv1: rule, conv2: rule, fc: rule } },
            relevance: true,
          })
        ).inputRelevance!;
      expectClose(
        values(await run({ kind: 'z-plus' })),
        values(await run({ kind: 'alpha-beta', alpha: 1, beta: 0 })),
      );
    }
  });
  it('on residualCnn the generalised gamma differs from gamma-classic (the conformance case can tell them apart)', async () => {
    const m = referenceModel(residualCnn());
    const input = randomInput(m, 2, 10);
    const run = async (kind: 'gamma' | 'gamma-classic', foldBatchNorm: boolean) => {
      const rule = { kind, gamma: 0.25 } as const;
      return values(
        (
          await backward(m, {
            input,
            seed: classSeed(m, 2, 1),
            rules: { linear: { conv1: rule, conv2: rule, fc: rule }, foldBatchNorm },
            relevance: true,
          })
        ).inputRelevance,
      );
    };
    for (const fold of [false, true]) {
      const a = await run('gamma', fold);
      const b = await run('gamma-classic', fold);
      const scale = Math.max(...a.map(Math.abs));
      expect(a.some((v, i) => Math.abs(v - b[i]) > 0.01 * scale)).toBe(true);
    }
  });
  it('max-pool proportional and avg-pool conserve LRP-0 relevance on bias-free nets', async () => {
    for (const spec of [withoutBiases(tinyCnn()), withoutBiases(avgPoolCnn()), biasFreeCnn()]) {
      const m = referenceModel(spec);
      const input = randomInput(m, 2, 4);
      const linear = Object.fromEntries(
        spec.layers
          .filter((l) => l.type === 'conv' || l.type === 'dense')
          .map((l) => [l.name, { kind: 'epsilon' as const, epsilon: 0 }]),
      );
      const r = await backward(m, {
        input,
        seed: classSeed(m, 2, 0),
        rules: { linear, maxPool: 'proportional' },
        relevance: true,
      });
      const sums = sumPerItem(r.inputRelevance!);
      const k = m.info.numClasses;
      for (let i = 0; i < 2; i++) expect(sums[i], spec.name).toBeCloseTo(r.output.data[i * k], 4);
    }
  });
  it('the gradient rule, and the pattern rule with W itself, equal the plain gradient', async () => {
    const spec = tinyCnn();
    const m = referenceModel(spec);
    const input = randomInput(m, 2, 5);
    const conv2 = spec.layers.find((l) => l.name === 'conv2')!;
    const weight = {
      data: Float32Array.from(conv2.type === 'conv' ? conv2.weight : []),
      shape: [6, 4, 3, 3],
    };
    const plain = await backward(m, { input, seed: classSeed(m, 2, 3) });
    const rule = await backward(m, {
      input,
      seed: classSeed(m, 2, 3),
      rules: { linear: { conv1: { kind: 'gradient' }, conv2: { kind: 'pattern', weight } } },
    });
    expectClose(values(rule.inputGradient), values(plain.inputGradient), 6);
  });
});

describe('foldBatchNorm', () => {
  const spec = cnnWithBatchNorm();
  const conv1 = spec.layers[0] as Extract<ToyLayer, { type: 'conv' }>;
  const bn = spec.layers[1] as Extract<ToyLayer, { type: 'batchnorm' }>;
  const scale = bn.gamma.map((g, c) => g / Math.sqrt(bn.variance[c] + bn.epsilon));
  const per = conv1.weight.length / scale.length;
  const folded: ToySpec = {
    ...spec,
    layers: [
      {
        ...conv1,
        weight: conv1.weight.map((w, j) => w * scale[Math.floor(j / per)]),
        bias: scale.map((s, c) => (conv1.bias![c] - bn.mean[c]) * s + bn.beta[c]),
      },
      ...spec.layers.slice(2),
    ],
  };
  const m = referenceModel(spec);
  const f = referenceModel(folded);
  const input = randomInput(m, 2, 6);
  it('the folded network has the same forward (1e-6)', async () => {
    expectClose(values(await f.forward(input)), values(await m.forward(input)), 6);
  });
  it('a rule on the conv with foldBatchNorm equals that rule on the folded network', async () => {
    const linear = {
      conv1: { kind: 'alpha-beta', alpha: 2, beta: 1 },
      conv2: { kind: 'epsilon', epsilon: 0.01 },
    } as const;
    const a = await backward(m, {
      input,
      seed: classSeed(m, 2, 1),
      rules: { linear, foldBatchNorm: true },
      relevance: true,
    });
    const b = await backward(f, { input, seed: classSeed(f, 2, 1), rules: { linear }, relevance: true });
    expectClose(values(a.inputRelevance), values(b.inputRelevance));
    const unfolded = await backward(m, {
      input,
      seed: classSeed(m, 2, 1),
      rules: { linear },
      relevance: true,
    });
    expect(
      values(unfolded.inputRelevance).some((v, i) => Math.abs(v - b.inputRelevance!.data[i]) > 1e-4),
    ).toBe(true);
  });
});

describe('the Model contract of the reference', () => {
  it('NHWC inputs give the NCHW results, permuted; activations stay channels-first', async () => {
    const spec = tinyCnn();
    const first = referenceModel(spec);
    const last = referenceModel(spec, { layout: 'NHWC' });
    expect(last.info.inputShape).toEqual([8, 8, 3]);
    const x = randomInput(first, 2, 7);
    const xl = toChannelsLast(x);
    expect(values(await last.forward(xl))).toEqual(values(await first.forward(x)));
    const rules = { relu: 'rescale', reference: toChannelsLast(randomInput(first, 1, 8, 0, 0.2)) } as const;
    const a = await backward(last, {
      input: xl,
      seed: classSeed(last, 2, 1),
      rules,
      capture: ['conv1'],
      relevance: true,
    });
    const b = await backward(first, {
      input: x,
      seed: classSeed(first, 2, 1),
      rules: { ...rules, reference: toChannelsFirst(rules.reference) },
      capture: ['conv1'],
      relevance: true,
    });
    expect(values(toChannelsFirst(a.inputGradient!))).toEqual(values(b.inputGradient));
    expect(values(toChannelsFirst(a.inputRelevance!))).toEqual(values(b.inputRelevance));
    expect(values(a.activations!.conv1)).toEqual(values(b.activations!.conv1));
    expect(a.activations!.conv1.shape).toEqual([2, 4, 8, 8]);
  });
  it('layers(): input first, then the spec layers with channels-first shapes', () => {
    const layers = referenceModel(tinyCnn(), { layout: 'NHWC' }).layers!();
    expect(layers.map((l) => `${l.name}:${l.kind}:${l.outputShape.join('x')}`)).toEqual([
      'input:input:3x8x8',
      'conv1:conv:4x8x8',
      'pool1:pool:4x4x4',
      'conv2:conv:6x4x4',
      'relu2:activation:6x4x4',
      'gap:global-pool:6',
      'fc:dense:5',
    ]);
  });
  it('a batch equals its items one by one; layers past a layer seed get zero gradients', async () => {
    const m = referenceModel(avgPoolCnn());
    const x = randomInput(m, 3, 9);
    const whole = await backward(m, { input: x, seed: classSeed(m, 3, 2), wrtLayers: ['pool1'] });
    for (let i = 0; i < 3; i++) {
      const one = await backward(m, {
        input: { data: x.data.slice(i * 192, (i + 1) * 192), shape: [1, 3, 8, 8] },
        seed: classSeed(m, 1, 2),
        wrtLayers: ['pool1'],
      });
      expectClose(
        values(one.inputGradient),
        Array.from(whole.inputGradient!.data.slice(i * 192, (i + 1) * 192)),
        6,
      );
    }
    const seeded = await backward(m, {
      input: x,
      seed: { kind: 'layer', layer: 'pool1', cotangent: randomTensor([3, 4, 4, 4], 10) },
      wrtLayers: ['fc1', 'conv1'],
    });
    expect(values(seeded.layerGradients!.fc1).every((v) => v === 0)).toBe(true);
    expect(values(seeded.layerGradients!.conv1).some((v) => v !== 0)).toBe(true);
  });
  it('forwardScaled with ones is forward; zeroing every channel of gap leaves the bias', async () => {
    const spec = tinyCnn();
    const m = referenceModel(spec);
    const x = randomInput(m, 2, 11);
    expect(
      values(
        await m.forwardScaled!(x, {
          layer: 'gap',
          scale: { data: new Float32Array(12).fill(1), shape: [2, 6] },
        }),
      ),
    ).toEqual(values(await m.forward(x)));
    const fc = spec.layers[5] as Extract<ToyLayer, { type: 'dense' }>;
    const zeroed = await m.forwardScaled!(x, {
      layer: 'gap',
      scale: { data: new Float32Array(12), shape: [2, 6] },
    });
    expectClose(values(zeroed), [...fc.bias!, ...fc.bias!], 6);
  });
  it('derive hands canonical weights with roles, keeps the original, and rebuilds the net', async () => {
    const m = referenceModel(cnnWithBatchNorm());
    const seen: WeightParam[] = [];
    const same = await m.derive!((p) => {
      seen.push(p);
      return undefined;
    });
    expect(seen.map((p) => `${p.layer}.${p.role}:${p.shape.join('x')}@${p.layerIndex}`)).toEqual([
      'conv1.weight:4x3x3x3@1',
      'conv1.bias:4@1',
      'bn1.weight:4@2',
      'bn1.bias:4@2',
      'bn1.other:4@2',
      'bn1.other:4@2',
      'conv2.weight:6x4x3x3@5',
      'conv2.bias:6@5',
      'fc.weight:4x6@7',
      'fc.bias:4@7',
    ]);
    const x = randomInput(m, 2, 12);
    expect(values(await same.forward(x))).toEqual(values(await m.forward(x)));
    const zeroFc = await m.derive!((p) => (p.layer === 'fc' ? new Float32Array(p.values.length) : undefined));
    expect(values(await zeroFc.forward(x)).every((v) => v === 0)).toBe(true);
    expect(values(await m.forward(x)).some((v) => v !== 0)).toBe(true);
    await expect(m.derive!(() => new Float32Array(1))).rejects.toThrow(/expected 108/);
  });
});

describe('validation before compute', () => {
  const m = referenceModel(tinyCnn());
  const input = randomInput(m, 1, 13);
  const seed = classSeed(m, 1, 0);
  const codeOf = async (request: Partial<BackwardRequest>): Promise<string> => {
    try {
      await backward(m, { input, seed, ...request });
    } catch (e) {
      return `${(e as { code: string }).code}: ${(e as Error).message}`;
    }
    return 'no error';
  };
  it('names the bad value', async () => {
    expect(await codeOf({ rules: { linear: { conv2: { kind: 'z-box', low: 0, high: 1 } } } })).toMatch(
      /^unsupported-rule: .*conv2/,
    );
    expect(await codeOf({ rules: { linear: { nope: { kind: 'z-plus' } } } })).toMatch(
      /^unknown-layer: .*nope.*conv1, conv2, fc/,
    );
    expect(await codeOf({ rules: { linear: { pool1: { kind: 'z-plus' } } } })).toMatch(
      /^unsupported-rule: .*pool1/,
    );
    expect(await codeOf({ rules: { linear: { fc: { kind: 'bogus' } as never } } })).toMatch(
      /^unsupported-rule: .*bogus.*epsilon/,
    );
    expect(await codeOf({ rules: { relu: 'leaky' as never } })).toMatch(/^unsupported-rule: .*leaky/);
    expect(await codeOf({ rules: { relu: 'rescale' } })).toMatch(/^invalid-input: .*reference/);
    expect(await codeOf({ rules: { linear: { fc: { kind: 'alpha-beta', alpha: 2, beta: 0 } } } })).toMatch(
      /^invalid-option: .*alpha − beta = 1/,
    );
    expect(await codeOf({ rules: { linear: { fc: { kind: 'epsilon', epsilon: -1 } } } })).toMatch(
      /^invalid-option: .*epsilon = -1/,
    );
    expect(
      await codeOf({ rules: { linear: { fc: { kind: 'pattern', weight: randomTensor([2], 1) } } } }),
    ).toMatch(/^invalid-shape: .*pattern.*30/);
    expect(await codeOf({ seed: { kind: 'output', cotangent: oneHot(2, 5, 0) } })).toMatch(
      /^invalid-shape: .*\[1, 5\]/,
    );
    expect(await codeOf({ seed: { kind: 'layer', layer: 'conv9', cotangent: oneHot(1, 5, 0) } })).toMatch(
      /^unknown-layer: .*conv9/,
    );
    expect(await codeOf({ wrtLayers: ['nope'] })).toMatch(/^unknown-layer/);
    expect(await codeOf({ input: { data: new Float32Array(10), shape: [1, 10] } })).toMatch(/^invalid-shape/);
  });
  it('dispose makes every later call throw disposed', async () => {
    const d = referenceModel(tinyDense());
    await d.dispose();
    await expect(d.forward(randomInput(d, 1, 1))).rejects.toMatchObject({ code: 'disposed' });
    expect(() => d.layers!()).toThrow(expect.objectContaining({ code: 'disposed' }));
  });
});
