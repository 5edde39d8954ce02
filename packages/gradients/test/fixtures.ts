/** Shared test fixtures: small specs with hand-computable answers and tensor helpers. */
import { createRng, type Model, type Tensor, type WeightTransform } from '@xlens/core';
import type { ToySpec } from '@xlens/core/testing';

/**
 * input [2, 1, 1] → flatten → fc1 dense 2→3 (fused ReLU, no bias) → fc2 dense 3→2.
 * At x = [1, 0.25]: z1 = [1.5, −0.75, 0.25], so ReLU passes units 0 and 2; class 0 uses [2, 3, −1].
 */
export function twoLayerSpec(): ToySpec {
  return {
    name: 'two-layer',
    inputShape: [2, 1, 1],
    numClasses: 2,
    layers: [
      { type: 'flatten', name: 'flatten' },
      {
        type: 'dense',
        name: 'fc1',
        inFeatures: 2,
        outFeatures: 3,
        weight: [1, 2, -1, 1, 0.5, -1],
        activation: 'relu',
      },
      {
        type: 'dense',
        name: 'fc2',
        inFeatures: 3,
        outFeatures: 2,
        weight: [2, 3, -1, 1, 1, 1],
        activation: 'linear',
      },
    ],
  };
}

/** A ReLU-free (so smooth and affine) conv net: input [2, 4, 4] → conv 3×3 same → flatten → dense 32→3. */
export function linearCnn(seed = 7): ToySpec {
  const rng = createRng(seed, 1);
  const values = (n: number, std: number) => Array.from(rng.fillNormal(new Float32Array(n), 0, std));
  return {
    name: 'linear-cnn',
    inputShape: [2, 4, 4],
    numClasses: 3,
    layers: [
      {
        type: 'conv',
        name: 'conv',
        inChannels: 2,
        outChannels: 2,
        kernel: 3,
        padding: 'same',
        weight: values(36, 0.5),
        bias: values(2, 0.1),
      },
      { type: 'flatten', name: 'flatten' },
      {
        type: 'dense',
        name: 'fc',
        inFeatures: 32,
        outFeatures: 3,
        weight: values(96, 0.3),
        bias: values(3, 0.1),
      },
    ],
  };
}

/** A seeded normal tensor. */
export function randomTensor(shape: readonly number[], seed = 1, std = 1): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: createRng(seed, 3).fillNormal(new Float32Array(size), 0, std), shape: [...shape] };
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) throw new Error(`sizes differ: ${a.data.length} vs ${b.data.length}`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Largest absolute value. */
export function maxAbs(t: Tensor): number {
  let m = 0;
  for (const v of t.data) m = Math.max(m, Math.abs(v));
  return m;
}

/** Item `i` of a batch as a batch of one (copied). */
export function itemOf(t: Tensor, i: number): Tensor {
  const per = t.data.length / t.shape[0];
  return { data: t.data.slice(i * per, (i + 1) * per), shape: [1, ...t.shape.slice(1)] };
}

/** A model wrapper that counts `derive`, `dispose` of the derived models, and `weights` reads. */
export function countingModel(model: Model): {
  model: Model;
  derived: () => number;
  disposed: () => number;
  weightReads: () => number;
} {
  let derived = 0;
  let disposed = 0;
  let weightReads = 0;
  const wrapped: Model = {
    info: model.info,
    capabilities: model.capabilities,
    forward: (x) => model.forward(x),
    layers: () => model.layers!(),
    capture: (x, names) => model.capture!(x, names),
    backward: (r) => model.backward!(r),
    async derive(transform: WeightTransform) {
      derived++;
      const child = await model.derive!(transform);
      return {
        ...child,
        forward: (x) => child.forward(x),
        layers: () => child.layers!(),
        capture: (x, names) => child.capture!(x, names),
        backward: (r) => child.backward!(r),
        dispose() {
          disposed++;
          return child.dispose();
        },
      };
    },
    weights(names) {
      weightReads++;
      return model.weights!(names);
    },
    dispose: () => model.dispose(),
  };
  return { model: wrapped, derived: () => derived, disposed: () => disposed, weightReads: () => weightReads };
}

/** Bytes of a .npy file (format version 1 or 2) with the given header fields and raw data. */
export function npyBytes(
  descr: string,
  shape: readonly number[],
  data: ArrayBufferView,
  fortran = false,
  version = 1,
): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${dims}), }`;
  const pre = version === 1 ? 10 : 12;
  header += ' '.repeat(63 - ((pre + header.length) % 64)) + '\n';
  const out = new Uint8Array(pre + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), pre);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pre + header.length);
  return out;
}
