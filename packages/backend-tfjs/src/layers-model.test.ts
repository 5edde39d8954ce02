import * as tf from '@tensorflow/tfjs';
import { LayerError, XlensError } from '@xlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectClose,
  finiteDifferences,
  noLeak,
  oneHot,
  randomTensor,
  tfOf,
  useWasm,
} from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';
import { buildResNet18Like, buildSmallCnn } from './testing/nets.js';

beforeAll(useWasm);

/** tfjs's own gradient of Σ cot ⊙ model(x), independent of the interpreter. */
function tfjsGradient(model: tf.LayersModel, x: tf.Tensor, cot: tf.Tensor): Float32Array {
  return tf.tidy(
    () =>
      tf
        .grad((xx: tf.Tensor) => tf.sum(tf.mul(model.predict(xx) as tf.Tensor, cot)))(x)
        .dataSync() as Float32Array,
  );
}

/** A functional model with a nested Sequential (`block`) and a softmax head. */
function nestedModel(): tf.LayersModel {
  const block = tf.sequential({
    name: 'block',
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 4],
        name: 'c1',
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
      }),
      tf.layers.maxPooling2d({ name: 'mp', poolSize: 2 }),
    ],
  });
  const input = tf.input({ shape: [8, 8, 3], name: 'img' });
  let x = tf.layers
    .conv2d({
      name: 'stem',
      filters: 4,
      kernelSize: 1,
      kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
    })
    .apply(input) as tf.SymbolicTensor;
  x = block.apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      name: 'head',
      units: 5,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'nested' });
}

describe('fromTfjs on a LayersModel', () => {
  it('forwards like predict and lists layers in topological order, channels-first', async () => {
    const tfm = buildSmallCnn({ inputSize: 16, numClasses: 7 });
    const model = fromTfjs(tfm, { disposeModel: false });
    const x = randomTensor([3, 16, 16, 3]);
    const y = await noLeak(() => model.forward(x));
    const expected = tf.tidy(() => (tfm.predict(tfOf(x)) as tf.Tensor).dataSync());
    expectClose(y.data, expected, 1e-5);
    expect(y.shape).toEqual([3, 7]);
    expect(model.info).toMatchObject({
      layout: 'NHWC',
      inputShape: [16, 16, 3],
      numClasses: 7,
      outputKind: 'logits',
    });
    const layers = model.layers!();
    expect(layers.map((l) => l.name)).toEqual([
      'input',
      'conv1',
      'pool1',
      'conv2',
      'pool2',
      'conv3',
      'gap',
      'fc',
    ]);
    expect(layers[1]).toMatchObject({
      kind: 'conv',
      op: 'Conv2D',
      outputShape: [16, 16, 16],
      inputs: ['input'],
      activation: 'relu',
      hasBias: true,
    });
    expect(layers[6]).toMatchObject({ kind: 'global-pool', outputShape: [64] });
    model.dispose();
    tfm.dispose();
  });

  it('flattens nested models into outer/inner names and captures them channels-first', async () => {
    const tfm = nestedModel();
    const model = fromTfjs(tfm, { disposeModel: false });
    const names = model.layers!().map((l) => l.name);
    expect(names).toEqual(['img', 'stem', 'block/c1', 'block/mp', 'block', 'flat', 'head']);
    expect(model.layers!()[2].inputs).toEqual(['stem']);
    expect(model.layers!()[5].inputs).toEqual(['block']);
    const x = randomTensor([2, 8, 8, 3], 5);
    const r = await noLeak(() => model.capture!(x, ['block/c1', 'block']));
    expect(r.activations['block/c1'].shape).toEqual([2, 6, 8, 8]);
    expect(r.activations.block.shape).toEqual([2, 6, 4, 4]);
    // The nested conv's activation, computed directly and transposed NHWC → NCHW.
    const direct = tf.tidy(() => {
      const stem = tfm.getLayer('stem').apply(tfOf(x)) as tf.Tensor;
      const inner = (tfm.getLayer('block') as tf.Sequential).getLayer('c1').apply(stem) as tf.Tensor;
      return inner.transpose([0, 3, 1, 2]).dataSync();
    });
    expectClose(r.activations['block/c1'].data, direct, 1e-5);
    model.dispose();
    tfm.dispose();
  });

  it('wraps a top-level Sequential (input named after its first layer, dropout inactive)', async () => {
    const tfm = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [4],
          units: 6,
          activation: 'relu',
          name: 'h',
          kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }),
        }),
        tf.layers.dropout({ rate: 0.5, name: 'drop' }),
        tf.layers.dense({
          units: 3,
          name: 'out',
          kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
        }),
      ],
    });
    const model = fromTfjs(tfm, { disposeModel: false });
    expect(model.layers!().map((l) => `${l.name}:${l.kind}`)).toEqual([
      'h_input:input',
      'h:dense',
      'drop:dropout',
      'out:dense',
    ]);
    expect(model.info.layout).toBe('NCHW');
    const x = randomTensor([5, 4], 2);
    const want = tf.tidy(() => (tfm.predict(tfOf(x)) as tf.Tensor).dataSync());
    expectClose((await model.forward(x)).data, want, 1e-6);
    const r = await noLeak(() =>
      model.backward!({
        input: x,
        seed: { kind: 'output', cotangent: oneHot(5, 3, [0, 1, 2, 0, 1]) },
        wrtLayers: ['h'],
      }),
    );
    expect(r.layerGradients!.h.shape).toEqual([5, 6]);
    model.dispose();
    tfm.dispose();
  });

  it('removes a softmax head by default and records it; keeps it when asked, and says so', async () => {
    const tfm = nestedModel();
    const stripped = fromTfjs(tfm, { disposeModel: false });
    const kept = fromTfjs(tfm, { stripSoftmax: false, disposeModel: false });
    expect(stripped.info.outputKind).toBe('logits');
    expect(stripped.info.outputActivation).toEqual({ kind: 'softmax', layer: 'head', removed: true });
    expect(stripped.warnings).toEqual([]);
    expect(kept.info.outputKind).toBe('probabilities');
    expect(kept.info.outputActivation).toEqual({ kind: 'softmax', layer: 'head', removed: false });
    expect(kept.warnings.join(' ')).toMatch(/ends in a softmax \(head\), kept by stripSoftmax: false/);
    const x = randomTensor([2, 8, 8, 3], 9);
    const p = await kept.forward(x);
    const z = await stripped.forward(x);
    for (let i = 0; i < 2; i++) {
      const row = Array.from(z.data.subarray(i * 5, i * 5 + 5));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      expectClose(
        p.data.subarray(i * 5, i * 5 + 5),
        e.map((v) => v / s),
        1e-5,
      );
    }
    // The softmax's gradient: scoring the stripped model's logits through a softmax (core's
    // `score: 'softmax'` cotangent p_c(e_c − p)) equals the kept model's plain gradient.
    const cotangent = oneHot(2, 5, [1, 3]);
    const want = await kept.backward!({ input: x, seed: { kind: 'output', cotangent } });
    const scored = { data: new Float32Array(10), shape: [2, 5] };
    for (let i = 0; i < 2; i++) {
      const c = [1, 3][i];
      for (let j = 0; j < 5; j++)
        scored.data[i * 5 + j] = p.data[i * 5 + c] * ((j === c ? 1 : 0) - p.data[i * 5 + j]);
    }
    const got = await stripped.backward!({ input: x, seed: { kind: 'output', cotangent: scored } });
    expectClose(got.inputGradient!.data, want.inputGradient!.data, 1e-4);
    tfm.dispose();
  });

  it('finds a softmax behind dropout, and warns about probabilities it cannot trace to a softmax', async () => {
    const input = tf.input({ shape: [4], name: 'x' });
    const dense = tf.layers.dense({ name: 'd', units: 3, activation: 'softmax' });
    const probs = dense.apply(input) as tf.SymbolicTensor;
    const dropped = tf.layers.dropout({ name: 'drop', rate: 0.5 }).apply(probs) as tf.SymbolicTensor;
    const behindDropout = fromTfjs(tf.model({ inputs: input, outputs: dropped }), { disposeModel: false });
    expect(behindDropout.info).toMatchObject({
      outputKind: 'logits',
      outputActivation: { kind: 'softmax', layer: 'd', removed: true },
    });
    // A reshape hides the softmax from the backend: a probe pass finds rows of probabilities.
    const reshaped = tf.layers.reshape({ name: 'r', targetShape: [3] }).apply(probs) as tf.SymbolicTensor;
    const hidden = fromTfjs(tf.model({ inputs: input, outputs: reshaped }), { disposeModel: false });
    expect(hidden.info.outputKind).toBe('probabilities');
    expect(hidden.info.outputActivation).toBeUndefined();
    expect(hidden.warnings.join(' ')).toMatch(/non-negative and sum to 1 .*no softmax layer was found/);
    const declared = fromTfjs(tf.model({ inputs: input, outputs: reshaped }), {
      outputKind: 'logits',
      disposeModel: false,
    });
    expect(declared.warnings).toEqual([]);
    declared.dispose();
    behindDropout.dispose();
    hidden.dispose();
  });

  it('computes input gradients equal to tfjs autodiff and to finite differences', async () => {
    const tfm = buildSmallCnn({ inputSize: 12, numClasses: 4, seed: 3 });
    const model = fromTfjs(tfm, { disposeModel: false });
    const x = randomTensor([2, 12, 12, 3], 11);
    const cot = oneHot(2, 4, [1, 3]);
    const r = await noLeak(() => model.backward!({ input: x, seed: { kind: 'output', cotangent: cot } }));
    const expected = tf.tidy(() => tfjsGradient(tfm, tfOf(x), tfOf(cot)));
    expectClose(r.inputGradient!.data, expected, 1e-4);
    const idx = [0, 37, 150, 431, 700];
    const fd = await finiteDifferences((t) => model.forward(t), x, cot, idx, 1e-3);
    expectClose(
      idx.map((i) => r.inputGradient!.data[i]),
      fd,
      2e-2,
    );
    model.dispose();
    tfm.dispose();
  });

  it('gives layer gradients that continue to the input gradient (chain rule through a layer seed)', async () => {
    const tfm = buildResNet18Like({ inputSize: 32, width: 4, numClasses: 6, seed: 1 });
    const model = fromTfjs(tfm);
    const x = randomTensor([2, 32, 32, 3], 21);
    const cot = oneHot(2, 6, [0, 5]);
    const layer = 'layer2_0_relu2';
    const r = await noLeak(() =>
      model.backward!({
        input: x,
        seed: { kind: 'output', cotangent: cot },
        wrtLayers: [layer, 'layer1_1_add'],
        capture: [layer],
      }),
    );
    expect(r.layerGradients![layer].shape).toEqual([2, 8, 4, 4]);
    expect(r.activations![layer].shape).toEqual([2, 8, 4, 4]);
    // Seeding the backward at the layer with its own gradient reproduces the input gradient.
    const again = await noLeak(() =>
      model.backward!({ input: x, seed: { kind: 'layer', layer, cotangent: r.layerGradients![layer] } }),
    );
    expectClose(again.inputGradient!.data, r.inputGradient!.data, 1e-4);
    // tfjs's own autodiff of predict needs Conv2DBackpropFilter (fused convs), which wasm lacks: use cpu.
    await tf.setBackend('cpu');
    const expected = tf.tidy(() => tfjsGradient(tfm, tfOf(x), tfOf(cot)));
    await tf.setBackend('wasm');
    expectClose(r.inputGradient!.data, expected, 1e-4);
    model.dispose();
  });

  it('throws clear errors for unknown layers, bad seeds and disposed models', async () => {
    const model = fromTfjs(buildSmallCnn({ inputSize: 8, numClasses: 3 }));
    const x = randomTensor([1, 8, 8, 3]);
    await expect(model.capture!(x, ['conv9'])).rejects.toThrow(LayerError);
    await expect(model.capture!(x, ['conv9'])).rejects.toThrow(/no layer "conv9".*conv1/);
    await expect(
      model.backward!({ input: x, seed: { kind: 'output', cotangent: oneHot(1, 4, [0]) } }),
    ).rejects.toThrow(/expected \[1, 3\]/);
    await expect(model.forward(randomTensor([1, 8, 9, 3]))).rejects.toThrow(/does not match/);
    model.dispose();
    await expect(model.forward(x)).rejects.toMatchObject({ code: 'disposed' });
    expect(() => model.layers!()).not.toThrow();
    await expect(
      model.backward!({ input: x, seed: { kind: 'output', cotangent: oneHot(1, 3, [0]) } }),
    ).rejects.toThrow(XlensError);
  });
});
