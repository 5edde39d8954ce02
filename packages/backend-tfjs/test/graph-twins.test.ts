import * as tf from '@tensorflow/tfjs';
import type { BackwardRequest, BackwardRules, Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromTfjs } from '../src/from-tfjs.js';
import type { TfjsModel } from '../src/options.js';
import { graphModelTwin } from '../src/testing/graph-twin.js';
import { expectClose, oneHot, randomTensor, useWasm } from './helpers.js';

beforeAll(useWasm);

const init = (seed: number) => tf.initializers.glorotNormal({ seed });
const bias = (seed: number) => tf.initializers.randomNormal({ seed, stddev: 0.2 });

/**
 * A Keras model with one of every layer the translation maps: zero padding, convolutions with
 * fused ReLU / ReLU6 / ELU, BatchNorm, LeakyReLU, a depthwise convolution, a residual add, average
 * and max pooling, a concatenation, a sigmoid gate (multiply), flatten, dense layers, dropout and
 * a softmax head.
 */
function everyLayer(): tf.LayersModel {
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    l.apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: [12, 12, 3], name: 'image' });
  let h = apply(tf.layers.zeroPadding2d({ name: 'pad', padding: 1 }), input);
  h = apply(
    tf.layers.conv2d({
      name: 'c1',
      filters: 6,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: init(1),
      biasInitializer: bias(2),
    }),
    h,
  );
  h = apply(
    tf.layers.batchNormalization({
      name: 'bn1',
      gammaInitializer: bias(3),
      betaInitializer: bias(4),
      movingMeanInitializer: bias(5),
      movingVarianceInitializer: 'ones',
    }),
    h,
  );
  h = apply(tf.layers.leakyReLU({ name: 'lrelu', alpha: 0.2 }), h);
  const dw = apply(
    tf.layers.depthwiseConv2d({
      name: 'dw',
      kernelSize: 3,
      padding: 'same',
      activation: 'relu6',
      depthwiseInitializer: init(6),
      biasInitializer: bias(7),
    }),
    h,
  );
  let side = apply(
    tf.layers.conv2d({ name: 'c2', filters: 6, kernelSize: 1, useBias: false, kernelInitializer: init(8) }),
    h,
  );
  side = apply(
    tf.layers.batchNormalization({
      name: 'bn2',
      gammaInitializer: bias(9),
      betaInitializer: bias(10),
      movingMeanInitializer: bias(11),
      movingVarianceInitializer: 'ones',
    }),
    side,
  );
  side = apply(tf.layers.reLU({ name: 'r2', maxValue: 6 }), side);
  h = apply(tf.layers.add({ name: 'add' }), [dw, side]);
  h = apply(tf.layers.averagePooling2d({ name: 'avg', poolSize: 2 }), h);
  const c3 = apply(
    tf.layers.conv2d({
      name: 'c3',
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'elu',
      kernelInitializer: init(12),
      biasInitializer: bias(13),
    }),
    h,
  );
  h = apply(tf.layers.concatenate({ name: 'cat', axis: -1 }), [h, c3]);
  const gate = apply(tf.layers.activation({ name: 'gate', activation: 'sigmoid' }), h);
  h = apply(tf.layers.multiply({ name: 'mul' }), [h, gate]);
  h = apply(tf.layers.maxPooling2d({ name: 'mp', poolSize: 2 }), h);
  h = apply(tf.layers.flatten({ name: 'flat' }), h);
  h = apply(
    tf.layers.dense({
      name: 'd1',
      units: 8,
      activation: 'sigmoid',
      kernelInitializer: init(14),
      biasInitializer: bias(15),
    }),
    h,
  );
  h = apply(tf.layers.dropout({ name: 'drop', rate: 0.3 }), h);
  h = apply(
    tf.layers.dense({
      name: 'out',
      units: 5,
      activation: 'softmax',
      kernelInitializer: init(16),
      biasInitializer: bias(17),
    }),
    h,
  );
  return tf.model({ inputs: input, outputs: h, name: 'every_layer' });
}

async function twinOf(keras: tf.LayersModel, fuse: boolean, foldBatchNorm: boolean): Promise<TfjsModel> {
  return fromTfjs(
    await tf.loadGraphModel(tf.io.fromMemory(await graphModelTwin(keras, { fuse, foldBatchNorm }))),
  );
}

function expectSame(a: Tensor, b: Tensor, tolerance = 1e-4): void {
  expect(a.shape).toEqual(b.shape);
  expectClose(a.data, b.data, tolerance);
}

describe('GraphModel twins of a Keras model with every translated layer', () => {
  let keras: tf.LayersModel;
  let original: TfjsModel;
  const x = randomTensor([3, 12, 12, 3], 21);
  const cotangent = oneHot(3, 5, [0, 2, 4]);
  const seed = { kind: 'output' as const, cotangent };
  beforeAll(() => {
    keras = everyLayer();
    original = fromTfjs(keras, { disposeModel: false });
  });
  afterAll(() => {
    original.dispose();
    keras.dispose();
  });

  for (const fuse of [true, false]) {
    it(`${fuse ? 'fused ops' : 'plain ops'}: the same layers, outputs, gradients, rules, weights and derived models`, async () => {
      const twin = await twinOf(keras, fuse, false);
      expect(twin.layers!().map((l) => `${l.name}:${l.kind}:${l.outputShape.join('x')}`)).toEqual(
        original.layers!()
          .filter((l) => l.kind !== 'dropout')
          .map((l) => `${l.name}:${l.kind}:${l.outputShape.join('x')}`),
      );
      expect({ ...twin.info, name: original.info.name }).toEqual(original.info);
      expectSame(await twin.forward(x), await original.forward(x), 1e-5);
      const rules: BackwardRules[] = [
        {},
        { relu: 'guided' },
        { relu: 'deconvnet' },
        { relu: 'rescale' },
        {
          linear: {
            c1: { kind: 'alpha-beta', alpha: 2, beta: 1 },
            c2: { kind: 'z-plus' },
            c3: { kind: 'gamma', gamma: 0.25 },
            d1: { kind: 'epsilon', epsilon: 0.01 },
            out: { kind: 'epsilon', epsilon: 0.01 },
          },
          foldBatchNorm: true,
          maxPool: 'proportional',
        },
      ];
      for (const r of rules) {
        const request: BackwardRequest = {
          input: x,
          seed,
          rules: r,
          relevance: true,
          wrtLayers: ['add', 'c1'],
          capture: ['cat'],
        };
        const [a, b] = [await twin.backward!(request), await original.backward!(request)];
        expectSame(a.inputGradient!, b.inputGradient!);
        expectSame(a.inputRelevance!, b.inputRelevance!);
        expectSame(a.layerGradients!.add, b.layerGradients!.add);
        expectSame(a.activations!.cat, b.activations!.cat, 1e-5);
      }
      const [wa, wb] = [await twin.weights!(), await original.weights!()];
      expect(wa.map((p) => `${p.layer}.${p.role}`)).toEqual(wb.map((p) => `${p.layer}.${p.role}`));
      for (const [i, p] of wa.entries()) expectClose(p.values, wb[i].values, 1e-6);
      const noise = (p: { layer: string; values: Float32Array }) =>
        p.values.map((v, i) => v * (1 + 0.1 * Math.sin(i + p.layer.length)));
      const [da, db] = [await twin.derive!(noise), await original.derive!(noise)];
      expectSame(await da.forward(x), await db.forward(x), 1e-5);
      await da.dispose();
      await db.dispose();
      twin.dispose();
    });
  }

  it('with BatchNorm folded into the convolutions (as converted TF2 models have it): the same function, gradients and LRP', async () => {
    const twin = await twinOf(keras, true, true);
    // c2 → bn2 → r2 is one convolution with a fused ReLU6, named after the ReLU, as grappler names it.
    const names = twin.layers!().map((l) => l.name);
    expect(names).toContain('r2');
    expect(names).not.toContain('c2');
    expect(names).not.toContain('bn2');
    expectSame(await twin.forward(x), await original.forward(x), 1e-5);
    for (const relu of ['gradient', 'guided', 'rescale'] as const) {
      const [a, b] = [
        await twin.backward!({ input: x, seed, rules: { relu } }),
        await original.backward!({ input: x, seed, rules: { relu } }),
      ];
      expectSame(a.inputGradient!, b.inputGradient!);
    }
    // LRP with the canonizer on the Keras model equals LRP on the already folded graph.
    const lrp = (c2: string): BackwardRules => ({
      linear: {
        c1: { kind: 'epsilon', epsilon: 0.01 },
        [c2]: { kind: 'z-plus' },
        c3: { kind: 'z-plus' },
        d1: { kind: 'epsilon', epsilon: 0.01 },
        out: { kind: 'epsilon', epsilon: 0.01 },
      },
      foldBatchNorm: true,
    });
    const a = await twin.backward!({ input: x, seed, relevance: true, rules: lrp('r2') });
    const b = await original.backward!({ input: x, seed, relevance: true, rules: lrp('c2') });
    expectSame(a.inputRelevance!, b.inputRelevance!);
    twin.dispose();
  });
});
