import * as tf from '@tensorflow/tfjs';
import type { BackwardRequest, BackwardResult, Model, Tensor } from '@xlens/core';
import { randomInput, tinyCnn } from '@xlens/core/testing';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectClose, maxAbs, noLeak, oneHot, randomTensor, useWasm } from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';
import { buildProgram } from './graph.js';
import {
  activationFloats,
  batchBudget,
  itemBytes,
  itemsPerCall,
  memoryFactor,
  sliceRequest,
  wasmBatchBytes,
  wasmItemCeiling,
} from './sub-batch.js';
import { buildResNet18Like } from './testing/nets.js';
import { buildToyModel } from './testing/toy.js';

beforeAll(useWasm);
afterEach(() => {
  vi.restoreAllMocks();
});

/** Activation values of one item, counted independently of the backend: Σ over `layers()`. */
function floatsOf(model: Model): number {
  return model.layers!().reduce((a, l) => a + l.outputShape.reduce((x, y) => x * y, 1), 0);
}

function expectSameTensors(a: Readonly<Record<string, Tensor>>, b: Readonly<Record<string, Tensor>>): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(b)) {
    expect(a[k].shape).toEqual(b[k].shape);
    expectClose(a[k].data, b[k].data, 1e-5);
  }
}

function expectSameBackward(a: BackwardResult, b: BackwardResult): void {
  const pick = (r: BackwardResult) => ({
    output: r.output,
    ...(r.inputGradient ? { inputGradient: r.inputGradient } : {}),
    ...(r.inputRelevance ? { inputRelevance: r.inputRelevance } : {}),
    ...Object.fromEntries(Object.entries(r.layerGradients ?? {}).map(([k, v]) => [`grad:${k}`, v])),
    ...Object.fromEntries(Object.entries(r.activations ?? {}).map(([k, v]) => [`act:${k}`, v])),
  });
  expectSameTensors(pick(a), pick(b));
}

describe('memory-bounded sub-batches', () => {
  const spec = tinyCnn();
  const n = 15;

  it('splits forward, capture and forwardScaled by the estimate, with the unsplit results', async () => {
    const whole = fromTfjs(buildToyModel(spec), { maxBatchBytes: Number.POSITIVE_INFINITY });
    const floats = floatsOf(whole);
    const tfModel = buildToyModel(spec);
    // Room for two items of a forward pass: batches of 15 run as 2 + 2 + … + 1, in 8 calls.
    const split = fromTfjs(tfModel, { maxBatchBytes: itemBytes(floats, 'forward') * 2.5 });
    const calls = vi.spyOn(tfModel.getLayer('gap'), 'apply');
    const x = randomInput(whole, n, 31);
    const scale = { layer: 'conv2', scale: randomTensor([n, 6], 32) };
    await noLeak(async () => {
      expectClose((await split.forward(x)).data, (await whole.forward(x)).data, 1e-6);
      expect(calls).toHaveBeenCalledTimes(8);
      const [a, b] = [await split.capture!(x, ['conv1', 'gap']), await whole.capture!(x, ['conv1', 'gap'])];
      expectSameTensors({ out: a.output, ...a.activations }, { out: b.output, ...b.activations });
      expect(calls).toHaveBeenCalledTimes(16);
      const scaled = await split.forwardScaled!(x, scale);
      expectClose(scaled.data, (await whole.forwardScaled!(x, scale)).data, 1e-6);
      expect(calls).toHaveBeenCalledTimes(24);
    });
    split.dispose();
    whole.dispose();
  });

  it('splits backward (rules, per-item references and bounds, layer gradients) with the unsplit results', async () => {
    const whole = fromTfjs(buildToyModel(spec), { maxBatchBytes: Number.POSITIVE_INFINITY });
    const tfModel = buildToyModel(spec);
    const split = fromTfjs(tfModel, { maxBatchBytes: itemBytes(floatsOf(whole), 'backward') * 2 });
    const calls = vi.spyOn(tfModel.getLayer('gap'), 'apply');
    const x = randomInput(whole, n, 33);
    const cot = oneHot(
      n,
      5,
      Array.from({ length: n }, (_, i) => i % 5),
    );
    const requests: BackwardRequest[] = [
      {
        input: x,
        seed: { kind: 'output', cotangent: cot },
        wrtLayers: ['conv1', 'relu2'],
        capture: ['pool1', 'fc'],
      },
      {
        input: x,
        seed: { kind: 'layer', layer: 'conv2', cotangent: randomTensor([n, 6, 4, 4], 34) },
        wrtLayers: ['conv1'],
      },
      {
        input: x,
        seed: { kind: 'output', cotangent: cot },
        relevance: true,
        rules: {
          relu: 'rescale',
          reference: randomInput(whole, n, 35, -0.5, 0.5),
          linear: {
            conv1: { kind: 'z-box', low: randomInput(whole, n, 36, -2, -1), high: 1 },
            conv2: { kind: 'epsilon', epsilon: 0.01 },
            fc: { kind: 'epsilon', epsilon: 0.01 },
          },
        },
      },
    ];
    for (const req of requests) {
      calls.mockClear();
      const got = await noLeak(() => split.backward!(req));
      // Two items per call: 8 calls; rescale adds one reference pass to each.
      expect(calls).toHaveBeenCalledTimes(req.rules?.relu === 'rescale' ? 16 : 8);
      expectSameBackward(got, await whole.backward!(req));
    }
    split.dispose();
    whole.dispose();
  });

  it('slices a request with core’s rulesForRows: per-item rule tensors by row, shared ones kept', () => {
    const x = randomTensor([4, 2, 2, 1], 41);
    const reference = randomTensor([4, 2, 2, 1], 42);
    const low = randomTensor([1, 2, 2, 1], 43);
    const high = randomTensor([4, 2, 2, 1], 44);
    const req: BackwardRequest = {
      input: x,
      seed: { kind: 'output', cotangent: oneHot(4, 3, [0, 1, 2, 0]) },
      rules: { relu: 'rescale', reference, linear: { conv: { kind: 'z-box', low, high } } },
    };
    const part = sliceRequest(req, 1, 3);
    expect(Array.from(part.input.data)).toEqual(Array.from(x.data.subarray(4, 12)));
    expect(part.seed.cotangent.shape).toEqual([2, 3]);
    expect(Array.from(part.rules!.reference!.data)).toEqual(Array.from(reference.data.subarray(4, 12)));
    const box = part.rules!.linear!.conv as { low: Tensor; high: Tensor };
    expect(box.low).toBe(low);
    expect(Array.from(box.high.data)).toEqual(Array.from(high.data.subarray(4, 12)));
  });

  it('resolves free input dimensions with the layers’ shape inference', () => {
    const build = (size: number | null) => {
      const input = tf.input({ shape: [size, size, 3] });
      const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(input);
      const gap = tf.layers.globalAveragePooling2d({}).apply(conv);
      return tf.model({
        inputs: input,
        outputs: tf.layers.dense({ units: 2 }).apply(gap) as tf.SymbolicTensor,
      });
    };
    const [free, fixed] = [build(null), build(10)];
    const floats = activationFloats(buildProgram(free), [10, 10, 3]);
    expect(floats).toBe(10 * 10 * 3 + 5 * 5 * 4 + 4 + 2);
    expect(floats).toBe(activationFloats(buildProgram(fixed), [10, 10, 3]));
    free.dispose();
    fixed.dispose();
  });

  it('throws UnsupportedError before any compute when one item exceeds the budget', async () => {
    const tfModel = buildToyModel(spec);
    const model = fromTfjs(tfModel, { name: 'toy', maxBatchBytes: 1000 });
    const calls = vi.spyOn(tfModel.getLayer('gap'), 'apply');
    const x = randomInput(model, 2, 38);
    const bytes = itemBytes(floatsOf(model), 'backward');
    const err = await model.backward!({
      input: x,
      seed: { kind: 'output', cotangent: oneHot(2, 5, [0, 1]) },
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'UnsupportedError', code: 'unsupported' });
    expect((err as Error).message).toContain('toy');
    expect((err as Error).message).toContain('maxBatchBytes');
    expect((err as Error).message).toContain(`${(bytes / 2 ** 20).toFixed(1)} MiB`);
    expect(calls).not.toHaveBeenCalled();
    model.dispose();
  });

  it('under the default wasm budget runs an item over it alone, up to the heap ceiling', () => {
    const plan = (gib: number, option?: number) => ({
      name: 'big',
      kind: 'backward' as const,
      n: 4,
      floats: (gib * 2 ** 30) / (4 * memoryFactor.backward),
      option,
    });
    expect(itemsPerCall(plan(0.2))).toBe(4);
    expect(itemsPerCall(plan(0.4))).toBe(2);
    // InceptionV3 at 299²: estimated 1.24 GiB per item, measured about 530 MB of heap.
    expect(itemsPerCall(plan(1.24))).toBe(1);
    expect(itemsPerCall(plan(3))).toBe(1);
    expect(() => itemsPerCall(plan(3.1))).toThrow(
      /one item of big .* more than the 3072\.0 MiB one item may take/,
    );
    // An explicit budget is a hard cap.
    expect(() => itemsPerCall(plan(1.24, 2 ** 30))).toThrow(/more than maxBatchBytes = 1024\.0 MiB/);
    expect(wasmItemCeiling).toBe(3 * 2 ** 30);
  });

  it('rejects an invalid maxBatchBytes and defaults by backend', async () => {
    for (const bad of [0, -1, Number.NaN, '1' as unknown as number]) {
      expect(() => fromTfjs(buildToyModel(spec), { maxBatchBytes: bad })).toThrow(/maxBatchBytes/);
    }
    expect(batchBudget(undefined)).toBe(wasmBatchBytes);
    expect(batchBudget(123)).toBe(123);
    await tf.setBackend('cpu');
    try {
      expect(batchBudget(undefined)).toBe(Number.POSITIVE_INFINITY);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('rethrows a wasm trap inside a call as an XlensError suggesting a smaller batch', async () => {
    const tfModel = buildToyModel(spec);
    const model = fromTfjs(tfModel);
    // The global is absent from this package's TypeScript lib; Node has it.
    const wasm = (globalThis as { WebAssembly?: { RuntimeError: new (m: string) => Error } }).WebAssembly!;
    const trap = new wasm.RuntimeError('memory access out of bounds');
    vi.spyOn(tfModel.getLayer('gap'), 'apply').mockImplementation(() => {
      throw trap;
    });
    const x = randomInput(model, 3, 39);
    const err = await noLeak(() =>
      model.backward!({ input: x, seed: { kind: 'output', cotangent: oneHot(3, 5, [0, 1, 2]) } }).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(err).toMatchObject({ name: 'XlensError', code: 'unsupported', cause: trap });
    expect((err as Error).message).toMatch(/smaller batch.*maxBatchBytes/);
    model.dispose();
  });

  it('runs a backward pass of a ResNet-18-like at 224² over 16 items on wasm', async () => {
    const tfModel = buildResNet18Like({ inputSize: 224 });
    const model = fromTfjs(tfModel);
    const per = Math.floor(wasmBatchBytes / (floatsOf(model) * 4 * memoryFactor.backward));
    expect(per).toBeGreaterThanOrEqual(1);
    expect(per).toBeLessThan(16);
    const calls = vi.spyOn(tfModel.getLayer('avgpool'), 'apply');
    const k = 16;
    const x = randomTensor([k, 224, 224, 3], 40);
    const cot = oneHot(
      k,
      1000,
      Array.from({ length: k }, (_, i) => i * 7),
    );
    const r = await noLeak(() => model.backward!({ input: x, seed: { kind: 'output', cotangent: cot } }));
    expect(calls).toHaveBeenCalledTimes(Math.ceil(k / per));
    expect(r.inputGradient!.shape).toEqual([k, 224, 224, 3]);
    expect(r.inputGradient!.data.every(Number.isFinite)).toBe(true);
    // Item 9 alone gives its row of the batched result (sub-batches are concatenated in order).
    const item = 224 * 224 * 3;
    const one = await model.backward!({
      input: { data: x.data.slice(9 * item, 10 * item), shape: [1, 224, 224, 3] },
      seed: { kind: 'output', cotangent: { data: cot.data.slice(9000, 10000), shape: [1, 1000] } },
    });
    const row = r.inputGradient!.data.subarray(9 * item, 10 * item);
    expect(maxAbs(one.inputGradient!.data)).toBeGreaterThan(0);
    expectClose(row, one.inputGradient!.data, 1e-4);
    model.dispose();
  });
});
