import * as tf from '@tensorflow/tfjs';
import { allCapabilities, type BackwardRules, LayerError } from '@xlens/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGraphFixture, opsGraphArtifacts, fixtureTwin as twin } from '../test/graph-fixture.js';
import { expectClose, noLeak, oneHot, randomTensor, useWasm } from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';

beforeAll(useWasm);

describe('fromTfjs on a GraphModel: the GraphDef becomes layers', () => {
  it('lists Keras-style layers with graph ops; forward, capture, rules, derive and weights equal its LayersModel twin', async () => {
    const f = await buildGraphFixture();
    const graph = fromTfjs(f.model, { name: 'fixture' });
    const layers = fromTfjs(twin(f));
    expect([...graph.capabilities].sort()).toEqual([...allCapabilities].sort());
    expect(graph.info).toMatchObject({
      name: 'fixture',
      inputShape: [6, 6, 2],
      numClasses: 4,
      outputKind: 'logits',
    });
    expect(graph.info.outputActivation).toBeUndefined();
    // Conv2D → BiasAdd → Relu is one conv layer with a fused ReLU, named by its scope, as in Keras.
    expect(graph.layers!().map((l) => `${l.name}:${l.kind}:${l.op}`)).toEqual([
      'image:input:InputLayer',
      'conv:conv:Conv2D',
      'pool:pool:MaxPool',
      'gap:global-pool:Mean',
      'fc:dense:MatMul',
    ]);
    expect(graph.layers!()[1]).toMatchObject({ activation: 'relu', hasBias: true, outputShape: [3, 6, 6] });
    const x = randomTensor([2, 6, 6, 2], 3);
    expectClose((await noLeak(() => graph.forward(x))).data, (await layers.forward(x)).data, 1e-6);
    const cot = oneHot(2, 4, [1, 3]);
    const rules: BackwardRules[] = [
      {},
      { relu: 'guided' },
      { relu: 'deconvnet' },
      { relu: 'rescale' },
      {
        linear: { conv: { kind: 'z-box', low: -1, high: 1 }, fc: { kind: 'epsilon', epsilon: 0.01 } },
        maxPool: 'proportional',
      },
      { linear: { conv: { kind: 'gamma', gamma: 0.25 }, fc: { kind: 'alpha-beta', alpha: 2, beta: 1 } } },
    ];
    for (const r of rules) {
      const request = {
        input: x,
        seed: { kind: 'output' as const, cotangent: cot },
        rules: r,
        relevance: true,
      };
      const g = await noLeak(() =>
        graph.backward!({ ...request, wrtLayers: ['pool', 'conv'], capture: ['gap'] }),
      );
      const h = await layers.backward!({ ...request, wrtLayers: ['pool', 'conv'], capture: ['gap'] });
      expectClose(g.inputGradient!.data, h.inputGradient!.data, 1e-5);
      expectClose(g.inputRelevance!.data, h.inputRelevance!.data, 1e-5);
      expectClose(g.layerGradients!.conv.data, h.layerGradients!.conv.data, 1e-5);
      expectClose(g.activations!.gap.data, h.activations!.gap.data, 1e-6);
    }
    const scale = { data: Float32Array.of(1, 0, 2, 0.5, 1, 0), shape: [2, 3] };
    expectClose(
      (await noLeak(() => graph.forwardScaled!(x, { layer: 'conv', scale }))).data,
      (await layers.forwardScaled!(x, { layer: 'conv', scale })).data,
      1e-6,
    );
    // Weights in the canonical layout, and derive: the same transform gives the same model.
    const [gw, lw] = [await graph.weights!(), await layers.weights!()];
    expect(gw.map((p) => `${p.layer}.${p.role}:${p.shape.join('x')}`)).toEqual(
      lw.map((p) => `${p.layer}.${p.role}:${p.shape.join('x')}`),
    );
    const halve = (p: { role: string; values: Float32Array }) =>
      p.role === 'weight' ? p.values.map((v) => v / 2) : undefined;
    const before = tf.memory().numTensors;
    const [dg, dl] = [await graph.derive!(halve), await layers.derive!(halve)];
    expectClose((await dg.forward(x)).data, (await dl.forward(x)).data, 1e-6);
    expect((await dg.forward(x)).data).not.toEqual((await graph.forward(x)).data);
    await dg.dispose();
    await dl.dispose();
    expect(tf.memory().numTensors).toBe(before);
    graph.dispose();
    layers.dispose();
  });

  it('resolves graph node names (with ports) to the layers that compute them', async () => {
    const f = await buildGraphFixture();
    const graph = fromTfjs(f.model);
    const x = randomTensor([2, 6, 6, 2], 4);
    const r = await noLeak(() => graph.capture!(x, ['conv/Relu', 'fc/BiasAdd:0', 'logits', 'conv']));
    expect(Object.keys(r.activations)).toEqual(['conv/Relu', 'fc/BiasAdd:0', 'logits', 'conv']);
    expectClose(r.activations['conv/Relu'].data, r.activations.conv.data, 0);
    expectClose(r.activations.logits.data, r.output.data, 0);
    const g = await noLeak(() =>
      graph.backward!({
        input: x,
        seed: { kind: 'layer', layer: 'conv/Relu', cotangent: randomTensor([2, 3, 6, 6], 5) },
        wrtLayers: ['image', 'conv/Relu'],
        rules: { linear: { 'conv/Relu': { kind: 'epsilon', epsilon: 0.1 } } },
      }),
    );
    expect(Object.keys(g.layerGradients!)).toEqual(['image', 'conv/Relu']);
    await expect(graph.capture!(x, ['conv/Conv2D'])).rejects.toThrow(LayerError);
    graph.dispose();
    await expect(graph.forward(x)).rejects.toMatchObject({ code: 'disposed' });
  });

  it('picks the output by node name, port or signature key, and lists the outputs when it is unknown', async () => {
    for (const outputNode of [undefined, 'Identity', 'Identity:0', 'scores']) {
      const model = fromTfjs(await tf.loadGraphModel(tf.io.fromMemory(opsGraphArtifacts())), {
        ...(outputNode ? { outputNode } : {}),
        stripSoftmax: false,
      });
      expect(model.info.numClasses).toBe(4);
      model.dispose();
    }
    const gm = await tf.loadGraphModel(tf.io.fromMemory(opsGraphArtifacts()));
    expect(() => fromTfjs(gm, { outputNode: 'Identity:1' })).toThrow(
      /outputs: Identity \(signature key scores\)/,
    );
    gm.dispose();
    // Two outputs: the first N×K one by default, the other by its signature key.
    const two = opsGraphArtifacts();
    const meta = two.userDefinedMetadata as { signature: { outputs: Record<string, unknown> } };
    meta.signature.outputs = {
      pooled: {
        name: 'pool/Squeeze:0',
        dtype: 'DT_FLOAT',
        tensorShape: { dim: [{ size: '-1' }, { size: '3' }] },
      },
      ...meta.signature.outputs,
    };
    const byDefault = fromTfjs(await tf.loadGraphModel(tf.io.fromMemory(two)));
    expect(byDefault.info.numClasses).toBe(3);
    expect(byDefault.layers!().at(-1)!.name).toBe('pool');
    byDefault.dispose();
    const byKey = fromTfjs(await tf.loadGraphModel(tf.io.fromMemory(two)), { outputNode: 'scores' });
    expect(byKey.info).toMatchObject({ numClasses: 4, outputActivation: { layer: 'head', removed: true } });
    byKey.dispose();
  });

  it('translates constant arithmetic, explicit padding, fused LeakyReLU and kept dims; runs other ops opaquely and refuses rules across them', async () => {
    const artifacts = opsGraphArtifacts();
    const gm = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
    const model = fromTfjs(gm, { disposeModel: false });
    expect(model.info.outputActivation).toEqual({ kind: 'softmax', layer: 'head', removed: true });
    expect(model.layers!().map((l) => `${l.name}:${l.kind}:${l.op}`)).toEqual([
      'pixels:input:InputLayer',
      'pre/sub:other:Sub',
      'pre:multiply:Mul',
      'conv/LeakyRelu/explicit_padding:other:Pad',
      'conv/LeakyRelu/pre_activation:conv:_FusedConv2D',
      'conv:activation:_FusedConv2D',
      'energy:other:Square',
      'pool:global-pool:Mean', // Mean with kept dims + Squeeze: one global pooling layer
      'head:dense:MatMul',
    ]);
    expect(model.warnings.join(' ')).toMatch(
      /Square at node energy\/Square .*run by the GraphModel executor/,
    );
    const x = randomTensor([3, 5, 5, 2], 6);
    const xt = tf.tensor(x.data, [...x.shape]);
    const logits = gm.execute(xt, 'head/BiasAdd') as tf.Tensor;
    expectClose((await noLeak(() => model.forward(x))).data, logits.dataSync(), 1e-5);
    // Plain gradients pass the opaque op with tfjs's own gradient.
    const cot = oneHot(3, 4, [0, 2, 3]);
    const ct = tf.tensor(cot.data, [...cot.shape]);
    const want = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gm.execute(t, 'head/BiasAdd') as tf.Tensor, ct)))(
      xt,
    );
    const got = await noLeak(() => model.backward!({ input: x, seed: { kind: 'output', cotangent: cot } }));
    expectClose(got.inputGradient!.data, want.dataSync(), 1e-4);
    // Rules whose backward pass crosses the opaque op name it; below it they are fine.
    const seed = { kind: 'output' as const, cotangent: cot };
    await expect(model.backward!({ input: x, seed, rules: { relu: 'guided' } })).rejects.toThrow(
      /cannot pass Square at node energy\/Square/,
    );
    const below = await noLeak(() =>
      model.backward!({
        input: x,
        seed: { kind: 'layer', layer: 'conv', cotangent: randomTensor([3, 3, 5, 5], 7) },
        rules: { linear: { 'conv/LeakyRelu/pre_activation': { kind: 'epsilon', epsilon: 0.01 } } },
      }),
    );
    expect(below.inputGradient!.shape).toEqual([3, 5, 5, 2]);
    await expect(model.derive!(() => undefined)).rejects.toThrow(/Square at node energy\/Square/);
    // Kept, the softmax makes the outputs probabilities again, equal to the graph's own.
    const kept = fromTfjs(gm, { stripSoftmax: false, disposeModel: false });
    expect(kept.info).toMatchObject({ outputKind: 'probabilities', outputActivation: { removed: false } });
    const probs = gm.execute(xt, 'Identity:0') as tf.Tensor;
    expectClose((await kept.forward(x)).data, probs.dataSync(), 1e-5);
    tf.dispose([xt, logits, ct, want, probs]);
    model.dispose();
    kept.dispose();
    gm.dispose();
  });
});
