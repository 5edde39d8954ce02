import type { BackwardRequest } from '@xlens/core';
import { LayerError } from '@xlens/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildGraphFixture, fixtureTwin as twin } from '../test/graph-fixture.js';
import { expectClose, noLeak, oneHot, randomTensor, useWasm } from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';
import { itemBytes, memoryFactor } from './sub-batch.js';

// Every graph here fails to translate, so the GraphModel runs in its own executor (the fallback).
vi.mock('./graph-translate.js', () => ({
  translateGraph: () => {
    throw new Error('forced by the test');
  },
}));

beforeAll(useWasm);

describe('fromTfjs on a GraphModel that cannot be translated (executor fallback)', () => {
  it('lists graph nodes, forwards, captures and differentiates like its LayersModel twin', async () => {
    const f = await buildGraphFixture();
    const graph = fromTfjs(f.model, { name: 'fixture' });
    const layers = fromTfjs(twin(f));
    expect(graph.capabilities.has('relu-rules')).toBe(false);
    expect(graph.warnings.join(' ')).toMatch(/could not be translated into layers \(forced by the test\)/);
    expect(graph.info).toMatchObject({
      inputShape: [6, 6, 2],
      layout: 'NHWC',
      numClasses: 4,
      outputKind: 'logits',
    });
    const names = graph.layers!().map((l) => l.name);
    expect(names).toEqual([
      'image',
      'conv/Conv2D',
      'conv/BiasAdd',
      'conv/Relu',
      'pool',
      'gap',
      'fc/MatMul',
      'fc/BiasAdd',
    ]);
    expect(graph.layers!().find((l) => l.name === 'conv/Relu')).toMatchObject({
      kind: 'activation',
      outputShape: [3, 6, 6],
      inputs: ['conv/BiasAdd'],
    });
    const x = randomTensor([2, 6, 6, 2], 3);
    expectClose((await noLeak(() => graph.forward(x))).data, (await layers.forward(x)).data, 1e-5);
    const got = await noLeak(() => graph.capture!(x, ['conv/Relu', 'pool']));
    const want = await layers.capture!(x, ['conv', 'pool']);
    expectClose(got.activations['conv/Relu'].data, want.activations.conv.data, 1e-5);
    expectClose(got.activations.pool.data, want.activations.pool.data, 1e-5);
    const cot = oneHot(2, 4, [1, 3]);
    const request = { input: x, seed: { kind: 'output' as const, cotangent: cot } };
    const g = await noLeak(() =>
      graph.backward!({ ...request, wrtLayers: ['pool', 'conv/Relu'], capture: ['pool'], relevance: true }),
    );
    expectClose(
      g.inputRelevance!.data,
      g.inputGradient!.data.map((v, i) => v * x.data[i]),
      1e-6,
    );
    const h = await layers.backward!({ ...request, wrtLayers: ['pool', 'conv'], capture: ['pool'] });
    expectClose(g.inputGradient!.data, h.inputGradient!.data, 1e-4);
    expectClose(g.layerGradients!.pool.data, h.layerGradients!.pool.data, 1e-4);
    // Where the ReLU output is 0, max-pool windows tie and tfjs's own MaxPoolGrad (used inside a
    // GraphModel) breaks ties differently from the LayersModel path (first maximum): compare the rest.
    const act = want.activations.conv.data;
    const open = (t: Float32Array) => t.filter((_, i) => act[i] > 0);
    expectClose(open(g.layerGradients!['conv/Relu'].data), open(h.layerGradients!.conv.data), 1e-4);
    expectClose(g.activations!.pool.data, h.activations!.pool.data, 1e-5);
    // Layer seed and channel scaling.
    const seeded = await noLeak(() =>
      graph.backward!({
        input: x,
        seed: { kind: 'layer', layer: 'pool', cotangent: h.layerGradients!.pool },
      }),
    );
    expectClose(seeded.inputGradient!.data, h.inputGradient!.data, 1e-4);
    const scale = { data: Float32Array.of(1, 0, 2, 0.5, 1, 0), shape: [2, 3] };
    expectClose(
      (await noLeak(() => graph.forwardScaled!(x, { layer: 'conv/Relu', scale }))).data,
      (await layers.forwardScaled!(x, { layer: 'conv', scale })).data,
      1e-5,
    );
    graph.dispose();
    layers.dispose();
  });

  it('refuses rules and unknown nodes with clear errors', async () => {
    const f = await buildGraphFixture();
    const graph = fromTfjs(f.model);
    const x = randomTensor([1, 6, 6, 2], 3);
    const seed = { kind: 'output' as const, cotangent: oneHot(1, 4, [0]) };
    await expect(graph.backward!({ input: x, seed, rules: { relu: 'guided' } })).rejects.toThrow(
      /not supported on tfjs GraphModel .*could not be translated/,
    );
    await expect(graph.capture!(x, ['conv/Sigmoid'])).rejects.toThrow(LayerError);
    graph.dispose();
    await expect(graph.forward(x)).rejects.toMatchObject({ code: 'disposed' });
  });
});

describe('executor fallback: sub-batches', () => {
  it('splits GraphModel calls by the estimate, with the unsplit results', async () => {
    const n = 15;
    const f = await buildGraphFixture();
    const whole = fromTfjs(f.model, { maxBatchBytes: Number.POSITIVE_INFINITY, disposeModel: false });
    const floats = whole.layers!().reduce((a, l) => a + l.outputShape.reduce((x, y) => x * y, 1), 0);
    const split = fromTfjs(f.model, { maxBatchBytes: itemBytes(floats, 'backward') * 2 });
    const x = randomTensor([n, 6, 6, 2], 37);
    const expected = await whole.forward(x);
    split.layers!(); // its shapes come from one probe run
    const calls = vi.spyOn(f.model, 'execute');
    expectClose((await split.forward(x)).data, expected.data, 1e-6);
    // Forward room: 2 × (backward factor ÷ forward factor) items per call.
    const perForward = Math.floor((2 * memoryFactor.backward) / memoryFactor.forward);
    expect(calls).toHaveBeenCalledTimes(Math.ceil(n / perForward));
    const req: BackwardRequest = {
      input: x,
      seed: {
        kind: 'output',
        cotangent: oneHot(
          n,
          4,
          Array.from({ length: n }, (_, i) => i % 4),
        ),
      },
      // Before the ReLU: tfjs's MaxPoolGrad breaks ties among a window's zeros differently by batch.
      wrtLayers: ['conv/BiasAdd'],
      capture: ['gap'],
      relevance: true,
    };
    const a = await noLeak(() => split.backward!(req));
    const b = await whole.backward!(req);
    for (const [p, q] of [
      [a.inputGradient!, b.inputGradient!],
      [a.inputRelevance!, b.inputRelevance!],
      [a.layerGradients!['conv/BiasAdd'], b.layerGradients!['conv/BiasAdd']],
      [a.activations!.gap, b.activations!.gap],
    ])
      expectClose(p.data, q.data, 1e-5);
    split.dispose();
    whole.dispose();
  });
});
