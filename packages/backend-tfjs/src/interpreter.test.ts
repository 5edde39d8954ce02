import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@xlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, noLeak, oneHot, randomTensor, tfOf, useWasm } from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';

beforeAll(useWasm);

/**
 * x (2) → Dense W1 (fused ReLU, or a separate ReLU/ReLU6 layer) → Dense w2 → 1 output. Hand
 * values: W1 = [[1, −1], [2, 1]] (in×out), b1 = [0, 0.5], w2 = [1, −2].
 */
function twoLayer(activation: 'fused' | 'relu-layer' | 'relu6' | 'fused-relu6'): tf.LayersModel {
  const input = tf.input({ shape: [2], name: 'x' });
  const d1 = tf.layers.dense({
    name: 'd1',
    units: 2,
    activation: activation === 'fused' ? 'relu' : activation === 'fused-relu6' ? 'relu6' : 'linear',
  });
  let h = d1.apply(input) as tf.SymbolicTensor;
  if (activation === 'relu-layer' || activation === 'relu6')
    h = tf.layers
      .reLU({ name: 'act', ...(activation === 'relu6' ? { maxValue: 6 } : {}) })
      .apply(h) as tf.SymbolicTensor;
  const d2 = tf.layers.dense({ name: 'd2', units: 1, useBias: false });
  const out = d2.apply(h) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  d1.setWeights([tf.tensor2d([1, -1, 2, 1], [2, 2]), tf.tensor1d([0, 0.5])]);
  d2.setWeights([tf.tensor2d([1, -2], [2, 1])]);
  return m;
}

const input = (a: number, b: number): Tensor => ({ data: Float32Array.of(a, b), shape: [1, 2] });
const seed = { kind: 'output' as const, cotangent: { data: Float32Array.of(1), shape: [1, 1] } };

describe('ReLU rules (hand-computed on a two-layer net)', () => {
  // x = (1, 1): z = (1·1 + 1·2, −1 + 1 + 0.5) = (3, 0.5), both open; cotangent at h = (1, −2).
  // gradient: W1 (1, −2) = (1·1 + (−1)(−2), 2·1 + 1·(−2)) = (3, 0).
  // guided: relu(1, −2) = (1, 0) → W1 (1, 0) = (1, 2). deconvnet: the same here.
  // x = (−1, 0.2): z = (−0.6, 1.7): unit 1 closed; gradient (1, −2)·[z>0] = (0, −2) → (2, −2);
  // guided (0, 0) → (0, 0); deconvnet ignores z: relu(1, −2) = (1, 0) → (1, 2).
  const cases: [string, Tensor, string, number[]][] = [
    ['gradient', input(1, 1), 'gradient', [3, 0]],
    ['guided', input(1, 1), 'guided', [1, 2]],
    ['deconvnet', input(1, 1), 'deconvnet', [1, 2]],
    ['gradient, closed unit', input(-1, 0.2), 'gradient', [2, -2]],
    ['guided, closed unit', input(-1, 0.2), 'guided', [0, 0]],
    ['deconvnet, closed unit', input(-1, 0.2), 'deconvnet', [1, 2]],
    // On a plain ReLU, passing relevance (g·y/z where z > 0) is the gradient.
    ['pass', input(1, 1), 'pass', [3, 0]],
    ['pass, closed unit', input(-1, 0.2), 'pass', [2, -2]],
  ];
  for (const activation of ['fused', 'relu-layer'] as const) {
    for (const [name, x, rule, want] of cases) {
      it(`${name} (${activation})`, async () => {
        const model = fromTfjs(twoLayer(activation));
        const r = await noLeak(() => model.backward!({ input: x, seed, rules: { relu: rule as 'guided' } }));
        expectClose(r.inputGradient!.data, want, 1e-6);
        model.dispose();
      });
    }
  }

  it.each(['relu6', 'fused-relu6'] as const)(
    'ReLU6 (%s) is closed above 6 for gradient and guided, open for deconvnet, passes relevance',
    async (kind) => {
      const model = fromTfjs(twoLayer(kind));
      // x = (3, 3): z = (9, 0.5): unit 1 above 6 → closed.
      const x = input(3, 3);
      const g = await model.backward!({ input: x, seed });
      expectClose(g.inputGradient!.data, [2, -2], 1e-6);
      const guided = await model.backward!({ input: x, seed, rules: { relu: 'guided' } });
      expectClose(guided.inputGradient!.data, [0, 0], 1e-6);
      const deconv = await model.backward!({ input: x, seed, rules: { relu: 'deconvnet' } });
      expectClose(deconv.inputGradient!.data, [1, 2], 1e-6);
      // pass: y/z = (6/9, 1), so the cotangent at z is (2/3, −2) and W1 maps it to (8/3, −2/3).
      const pass = await noLeak(() => model.backward!({ input: x, seed, rules: { relu: 'pass' } }));
      expectClose(pass.inputGradient!.data, [8 / 3, -2 / 3], 1e-6);
      model.dispose();
    },
  );

  it('rescale (DeepLIFT) satisfies summation-to-delta on a conv/ReLU/average-pool net', async () => {
    const input = tf.input({ shape: [6, 6, 2] });
    let h = tf.layers
      .conv2d({
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: 1 }),
        biasInitializer: tf.initializers.randomNormal({ seed: 2, stddev: 0.1 }),
      })
      .apply(input) as tf.SymbolicTensor;
    h = tf.layers.averagePooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .conv2d({
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: 3 }),
      })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) })
      .apply(h) as tf.SymbolicTensor;
    const model = fromTfjs(tf.model({ inputs: input, outputs: out }));
    const x = randomTensor([2, 6, 6, 2], 3);
    const reference = randomTensor([1, 6, 6, 2], 4);
    const cot = oneHot(2, 3, [0, 2]);
    const r = await noLeak(() =>
      model.backward!({
        input: x,
        seed: { kind: 'output', cotangent: cot },
        rules: { relu: 'rescale', reference },
      }),
    );
    const fx = await model.forward(x);
    const fr = await model.forward(reference);
    for (let i = 0; i < 2; i++) {
      let sum = 0;
      for (let j = 0; j < 72; j++)
        sum += (x.data[i * 72 + j] - reference.data[j]) * r.inputGradient!.data[i * 72 + j];
      const c = i === 0 ? 0 : 2;
      expect(sum).toBeCloseTo(fx.data[i * 3 + c] - fr.data[c], 4);
    }
    model.dispose();
  });

  it('restores ordinary gradients after a rule, also after a failing call', async () => {
    const model = fromTfjs(twoLayer('fused'));
    const x = input(-1, 0.2);
    await expect(
      model.backward!({ input: x, seed, rules: { relu: 'guided', linear: { nope: { kind: 'z-plus' } } } }),
    ).rejects.toThrow(/no layer "nope"/);
    await model.backward!({ input: x, seed, rules: { relu: 'deconvnet' } });
    const g = await noLeak(() => model.backward!({ input: x, seed }));
    expectClose(g.inputGradient!.data, [2, -2], 1e-6);
    model.dispose();
  });
});

describe('linear rules on DepthwiseConv2D and BatchNorm folding', () => {
  function depthwiseNet(): tf.LayersModel {
    const input = tf.input({ shape: [8, 8, 3], name: 'in' });
    let h = tf.layers
      .depthwiseConv2d({
        name: 'dw',
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: tf.initializers.heNormal({ seed: 1 }),
      })
      .apply(input) as tf.SymbolicTensor;
    h = tf.layers
      .batchNormalization({
        name: 'bn',
        gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 2 }),
        movingMeanInitializer: tf.initializers.randomNormal({ seed: 3, stddev: 0.2 }),
        movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 2, seed: 4 }),
        betaInitializer: tf.initializers.randomNormal({ seed: 5, stddev: 0.1 }),
      })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU({ name: 'relu' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .conv2d({
        name: 'pw',
        filters: 4,
        kernelSize: 1,
        kernelInitializer: tf.initializers.heNormal({ seed: 6 }),
      })
      .apply(h) as tf.SymbolicTensor;
    h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ name: 'fc', units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 7 }) })
      .apply(h) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: out });
  }

  it('gradients through DepthwiseConv2D on wasm equal tfjs autodiff on cpu', async () => {
    const tfm = depthwiseNet();
    const model = fromTfjs(tfm, { disposeModel: false });
    const x = randomTensor([2, 8, 8, 3], 8);
    const cot = oneHot(2, 3, [1, 2]);
    const r = await noLeak(() => model.backward!({ input: x, seed: { kind: 'output', cotangent: cot } }));
    await tf.setBackend('cpu');
    const want = tf.tidy(() =>
      tf
        .grad((t: tf.Tensor) => tf.sum(tf.mul(tfm.predict(t) as tf.Tensor, tfOf(cot))))(tfOf(x))
        .dataSync(),
    );
    await tf.setBackend('wasm');
    expectClose(r.inputGradient!.data, want, 1e-4);
    tfm.dispose();
  });

  it('folding BatchNorm keeps the outputs, and LRP-0 on the folded map equals the gradient', async () => {
    const model = fromTfjs(depthwiseNet());
    const x = randomTensor([2, 8, 8, 3], 9);
    const s = { kind: 'output' as const, cotangent: oneHot(2, 3, [0, 1]) };
    const plain = await model.backward!({ input: x, seed: s });
    const lrp0 = await noLeak(() =>
      model.backward!({
        input: x,
        seed: s,
        rules: {
          foldBatchNorm: true,
          linear: {
            dw: { kind: 'epsilon', epsilon: 0 },
            pw: { kind: 'epsilon', epsilon: 0 },
            fc: { kind: 'epsilon', epsilon: 0 },
          },
        },
      }),
    );
    expectClose(lrp0.output.data, plain.output.data, 1e-5);
    expectClose(lrp0.inputGradient!.data, plain.inputGradient!.data, 1e-3);
    // z⁺ on the folded depthwise layer differs from the gradient (it is a different rule).
    const zplus = await model.backward!({
      input: x,
      seed: s,
      rules: { foldBatchNorm: true, linear: { dw: { kind: 'z-plus' } } },
    });
    expect(
      Math.max(...zplus.inputGradient!.data.map((v, i) => Math.abs(v - plain.inputGradient!.data[i]))),
    ).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('rejects rules on layers that are not linear, with the allowed layer types', async () => {
    const model = fromTfjs(depthwiseNet());
    const x = randomTensor([1, 8, 8, 3], 9);
    await expect(
      model.backward!({
        input: x,
        seed: { kind: 'output', cotangent: oneHot(1, 3, [0]) },
        rules: { linear: { gap: { kind: 'z-plus' } } },
      }),
    ).rejects.toThrow(/Conv2D, DepthwiseConv2D and Dense/);
    await expect(
      model.backward!({
        input: x,
        seed: { kind: 'output', cotangent: oneHot(1, 3, [0]) },
        rules: { linear: { pw: { kind: 'flat' } } },
      }),
    ).rejects.toMatchObject({ code: 'unsupported-rule' });
    await expect(
      model.backward!({
        input: x,
        seed: { kind: 'output', cotangent: oneHot(1, 3, [0]) },
        rules: { relu: 'sideways' as 'guided' },
      }),
    ).rejects.toThrow(/allowed: gradient, guided, deconvnet, rescale/);
    model.dispose();
  });
});
