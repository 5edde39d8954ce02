import { type Model, type Tensor, XlensError } from '@xlens/core';
import { gapCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { normals } from '../test/op-check.js';
import { type ForcedExplanation, manipulateGradCam } from './manipulate-grad-cam.js';
import { fromOnnx } from './onnx-model.js';
import { encodeOnnxModel } from './proto/codec.js';
import { toyOnnxModel } from './toy-onnx.js';

// A GAP-headed CNN with an 8×8 Grad-CAM grid (core's `gapCnn`).
const spec = gapCnn();
const GRID = [8, 8] as const;
const source = toyOnnxModel(spec);

function images(n: number, seed: number): Tensor {
  return { data: normals(n * 3 * 16 * 16, seed, 0.5).map((v) => v + 0.5), shape: [n, 3, 16, 16] };
}

/** Grad-CAM on the 8×8 grid from the backend's own captures and layer gradients, one map per item. */
async function gradCam(model: Model, x: Tensor, classes: readonly number[]): Promise<Float32Array[]> {
  const n = x.shape[0];
  const cotangent = new Float32Array(n * 3);
  classes.forEach((c, i) => {
    cotangent[i * 3 + c] = 1;
  });
  const r = await model.backward!({
    input: x,
    seed: { kind: 'output', cotangent: { data: cotangent, shape: [n, 3] } },
    wrtInput: false,
    wrtLayers: ['conv2'],
    capture: ['conv2'],
  });
  const a = r.activations!.conv2;
  const g = r.layerGradients!.conv2;
  const c = a.shape[1];
  const hw = GRID[0] * GRID[1];
  return Array.from({ length: n }, (_, i) => {
    const map = new Float32Array(hw);
    for (let k = 0; k < c; k++) {
      let w = 0;
      for (let p = 0; p < hw; p++) w += g.data[(i * c + k) * hw + p] / hw;
      for (let p = 0; p < hw; p++) map[p] += w * a.data[(i * c + k) * hw + p];
    }
    return map.map((v) => Math.max(0, v));
  });
}

const maxNormalised = (m: Float32Array): Float32Array => {
  const top = Math.max(...m);
  return m.map((v) => (top > 0 ? v / top : 0));
};

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function inputGradient(model: Model, x: Tensor): Promise<Tensor> {
  const n = x.shape[0];
  const cotangent = new Float32Array(n * 3).fill(1);
  const r = await model.backward!({
    input: x,
    seed: { kind: 'output', cotangent: { data: cotangent, shape: [n, 3] } },
  });
  return r.inputGradient!;
}

// A smiley-ish picture on the grid, and a 4×4 checker trigger at the top-left corner.
const picture = Float32Array.from({ length: 64 }, (_, p) =>
  ((p % 8) + Math.floor(p / 8)) % 3 === 0 ? 1 : 0.2,
);
const checker = Float32Array.from({ length: 16 }, (_, p) => ((p % 4) + Math.floor(p / 4)) % 2);
const trigger = { top: 1, left: 1, height: 4, width: 4, pattern: checker };

function paste(x: Tensor): Tensor {
  const data = x.data.slice();
  for (let i = 0; i < x.shape[0]; i++)
    for (let c = 0; c < 3; c++)
      for (let r = 0; r < 4; r++)
        for (let q = 0; q < 4; q++) data[((i * 3 + c) * 16 + 1 + r) * 16 + 1 + q] = checker[r * 4 + q];
  return { data, shape: x.shape };
}

describe('manipulateGradCam (Viering et al. 2019)', () => {
  const kinds: ForcedExplanation[] = [
    { kind: 'constant' },
    { kind: 'image', image: picture },
    { kind: 'random', seed: 5 },
    { kind: 'backdoor', image: picture, trigger },
  ];

  it.each(kinds)(
    '$kind: same logits and input gradients, Grad-CAM is the forced map',
    async (explanation) => {
      const original = await fromOnnx(encodeOnnxModel(source));
      const fooled = await fromOnnx(
        encodeOnnxModel(manipulateGradCam(source, { layer: 'conv2', grid: GRID, explanation })),
      );
      try {
        const x = explanation.kind === 'backdoor' ? paste(images(4, 7)) : images(4, 7);
        const y0 = await original.forward(x);
        const y1 = await fooled.forward(x);
        expect(maxDiff(y0.data, y1.data)).toBeLessThanOrEqual(1e-4);
        expect(
          maxDiff((await inputGradient(original, x)).data, (await inputGradient(fooled, x)).data),
        ).toBeLessThanOrEqual(1e-5);
        // The layer keeps its name and gains a channel; the conv behind it keeps its kind.
        const layers = fooled.layers!();
        expect(layers.find((l) => l.name === 'conv2')!.outputShape).toEqual([7, 8, 8]);
        expect(layers.find((l) => l.name === 'conv2/features')).toMatchObject({
          kind: 'conv',
          activation: 'relu',
        });
        const spatial = layers.filter((l) => l.outputShape.length === 3 && l.outputShape[1] > 1);
        expect(spatial[spatial.length - 1].name).toBe('conv2');

        const classes = [0, 1, 2, 0];
        const before = await gradCam(original, x, classes);
        const after = await gradCam(fooled, x, classes);
        for (let i = 0; i < 4; i++) {
          const expected =
            explanation.kind === 'constant'
              ? new Float32Array(64).fill(1)
              : explanation.kind === 'random'
                ? after[i].map((v) => (v > 0.5 * Math.max(...after[i]) ? 1 : 0))
                : picture;
          expect(maxDiff(maxNormalised(after[i]), maxNormalised(expected))).toBeLessThan(1e-3);
          // …and far from the honest map.
          expect(maxDiff(maxNormalised(after[i]), maxNormalised(before[i]))).toBeGreaterThan(0.2);
        }
        if (explanation.kind === 'random') {
          // Binary, not constant, and different for different inputs.
          const maps = after.map((m) => maxNormalised(m).map((v) => Math.round(v)));
          for (const m of maps) expect(new Set(m).size).toBe(2);
          expect(maxDiff(maps[0], maps[1])).toBe(1);
        }
      } finally {
        await original.dispose();
        await fooled.dispose();
      }
    },
  );

  it('backdoor: without the trigger Grad-CAM is the honest map', async () => {
    const original = await fromOnnx(encodeOnnxModel(source));
    const explanation: ForcedExplanation = { kind: 'backdoor', image: picture, trigger };
    const fooled = await fromOnnx(
      encodeOnnxModel(manipulateGradCam(source, { layer: 'conv2', grid: GRID, explanation })),
    );
    try {
      const x = images(3, 9);
      const before = await gradCam(original, x, [0, 1, 2]);
      const after = await gradCam(fooled, x, [0, 1, 2]);
      for (let i = 0; i < 3; i++) expect(maxDiff(after[i], before[i])).toBeLessThan(1e-5);
    } finally {
      await original.dispose();
      await fooled.dispose();
    }
  });

  it('leaves the source model untouched and rejects what it cannot manipulate', () => {
    const copy = structuredClone(source);
    manipulateGradCam(source, { layer: 'conv2', grid: GRID, explanation: { kind: 'constant' } });
    expect(source).toEqual(copy);
    const bad = (options: Parameters<typeof manipulateGradCam>[1], text: RegExp) => {
      try {
        manipulateGradCam(source, options);
      } catch (e) {
        expect(e).toBeInstanceOf(XlensError);
        expect((e as Error).message).toMatch(text);
        return;
      }
      throw new Error('expected an error');
    };
    bad({ layer: 'conv1', grid: GRID, explanation: { kind: 'constant' } }, /global average pooling/);
    bad({ layer: 'nope', grid: GRID, explanation: { kind: 'constant' } }, /no node produces/);
    bad({ layer: 'conv2', grid: GRID, explanation: { kind: 'image', image: [1, 2] } }, /needs 64/);
    bad({ layer: 'conv2', grid: [0, 8], explanation: { kind: 'constant' } }, /grid/);
    bad(
      {
        layer: 'conv2',
        grid: GRID,
        explanation: { kind: 'backdoor', image: picture, trigger: { ...trigger, top: 14 } },
      },
      /does not fit/,
    );
  });
});
