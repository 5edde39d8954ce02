import * as tf from '@tensorflow/tfjs';
import { randomizeLayers, type WeightParam } from '@xlens/core';
import { referenceModel, type ToySpec, tinyCnn, tinyDense } from '@xlens/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, maxAbsDiff, randomTensor, useWasm } from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';
import { buildToyModel } from './testing/toy.js';

beforeAll(useWasm);

describe('derive', () => {
  it('hands weights over in the canonical layout (conv O×I×kH×kW, as in the ToySpec)', async () => {
    const spec = tinyCnn();
    const model = fromTfjs(buildToyModel(spec));
    const seen: WeightParam[] = [];
    const derived = await model.derive!((p) => {
      seen.push(p);
      return undefined;
    });
    const conv1 = spec.layers.find((l) => l.name === 'conv1')!;
    const w = seen.find((p) => p.layer === 'conv1' && p.role === 'weight')!;
    expect(conv1.type === 'conv' && w.shape).toEqual(
      conv1.type === 'conv' ? [conv1.outChannels, conv1.inChannels, conv1.kernel, conv1.kernel] : false,
    );
    expectClose(w.values, conv1.type === 'conv' ? conv1.weight : [], 1e-7);
    expect(seen.find((p) => p.layer === 'conv1' && p.role === 'bias')!.shape).toEqual([4]);
    expect(seen.find((p) => p.layer === 'fc')!.shape).toEqual([
      spec.numClasses,
      (spec.layers.find((l) => l.name === 'fc') as { inFeatures: number }).inFeatures,
    ]);
    expect(new Set(seen.map((p) => p.layer))).toEqual(new Set(['conv1', 'conv2', 'fc']));
    // An identity transform gives the same function.
    const x = randomTensor([2, 8, 8, 3], 4);
    expectClose((await derived.forward(x)).data, (await model.forward(x)).data, 1e-6);
    derived.dispose();
    model.dispose();
  });

  it('writes transformed weights back in tfjs layout and leaves the original untouched', async () => {
    const spec = tinyCnn();
    const model = fromTfjs(buildToyModel(spec));
    const x = randomTensor([2, 8, 8, 3], 5);
    const before = await model.forward(x);
    const tensors = tf.memory().numTensors;
    // Keep only output channel 0 of conv1 (canonical axis 0): checks the O axis lands on tfjs's last axis.
    const derived = await model.derive!((p) => {
      if (p.layer !== 'conv1' || p.role !== 'weight') return undefined;
      const per = p.values.length / p.shape[0];
      return p.values.map((v, i) => (i < per ? v : 0));
    });
    const caps = await derived.capture!(x, ['conv1']);
    const original = await model.capture!(x, ['conv1']);
    const plane = 8 * 8;
    for (let n = 0; n < 2; n++) {
      const base = n * 4 * plane;
      expectClose(
        caps.activations.conv1.data.subarray(base, base + plane),
        original.activations.conv1.data.subarray(base, base + plane),
        1e-6,
      );
    }
    expectClose((await model.forward(x)).data, before.data, 0);
    const randomized = await model.derive!(randomizeLayers(['fc'], 1));
    expect(maxAbsDiff((await randomized.forward(x)).data, before.data)).toBeGreaterThan(1e-3);
    derived.dispose();
    randomized.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  it('hands a Dense after a Flatten its weight with `in` in (C, H, W) order, exactly as the ToySpec', async () => {
    const spec = tinyDense();
    const model = fromTfjs(buildToyModel(spec));
    const fc1 = spec.layers.find((l) => l.name === 'fc1')!;
    let handed: WeightParam | undefined;
    const copy = await model.derive!((p) => {
      if (p.layer === 'fc1' && p.role === 'weight') handed = p;
      return p.values.slice();
    });
    expect(handed!.shape).toEqual([8, 32]);
    expect(Array.from(handed!.values)).toEqual(fc1.type === 'dense' ? fc1.weight : []);
    // A copy handed back is permuted back into tfjs's order: the same function.
    const x = randomTensor([3, 4, 4, 2], 6);
    expectClose((await copy.forward(x)).data, (await model.forward(x)).data, 1e-6);
    copy.dispose();
    model.dispose();
  });

  it('writes a Dense-after-Flatten weight back from (C, H, W) order (same function as the edited spec)', async () => {
    const spec = tinyDense();
    // Zero the inputs of channel 0 (canonical columns c·H·W + h·W + w with c = 0) and scale the rest.
    const edit = (values: ArrayLike<number>, inFeatures: number): Float32Array =>
      Float32Array.from(values, (v, i) => (i % inFeatures < 16 ? 0 : v * (1 + (i % inFeatures) / 32)));
    const edited: ToySpec = {
      ...spec,
      layers: spec.layers.map((l) =>
        l.type === 'dense' && l.name === 'fc1'
          ? { ...l, weight: Array.from(edit(l.weight, l.inFeatures)) }
          : l,
      ),
    };
    const model = fromTfjs(buildToyModel(spec));
    const derived = await model.derive!((p) =>
      p.layer === 'fc1' && p.role === 'weight' ? edit(p.values, p.shape[1]) : undefined,
    );
    const x = randomTensor([3, 4, 4, 2], 7);
    const expected = await referenceModel(edited, { layout: 'NHWC' }).forward(x);
    expectClose((await derived.forward(x)).data, expected.data, 1e-5);
    expect(maxAbsDiff((await model.forward(x)).data, expected.data)).toBeGreaterThan(1e-3);
    derived.dispose();
    model.dispose();
  });

  it('keeps (C, H, W) order through a per-feature layer between Flatten and Dense', async () => {
    const base = tinyDense(3);
    const spec: ToySpec = {
      ...base,
      layers: [base.layers[0], { type: 'relu', name: 'relu0' }, ...base.layers.slice(1)],
    };
    const model = fromTfjs(buildToyModel(spec));
    const ref = referenceModel(spec, { layout: 'NHWC' });
    const fc1 = spec.layers.find((l) => l.name === 'fc1')!;
    let handed: Float32Array | undefined;
    const derived = await model.derive!((p) => {
      if (p.layer === 'fc1' && p.role === 'weight') handed = p.values;
      return undefined;
    });
    expect(Array.from(handed!)).toEqual(fc1.type === 'dense' ? fc1.weight : []);
    const x = randomTensor([2, 4, 4, 2], 8);
    const [got, want] = [await model.capture!(x, ['relu0']), await ref.capture!(x, ['relu0'])];
    expectClose(got.activations.relu0.data, want.activations.relu0.data, 1e-6);
    derived.dispose();
    model.dispose();
  });

  it('rejects a transform that returns the wrong number of values', async () => {
    const model = fromTfjs(buildToyModel(tinyCnn()));
    const tensors = tf.memory().numTensors;
    await expect(model.derive!(() => new Float32Array(3))).rejects.toThrow(/expected a Float32Array of/);
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });
});
