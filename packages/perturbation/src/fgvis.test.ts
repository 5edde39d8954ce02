import { type Model, type Tensor, XlensError } from '@xlens/core';
import { referenceModel, type ToySpec } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { iou, squareRegion } from '../test/models.js';
import { fgvis } from './fgvis.js';

/**
 * A crafted toy on a bright 12×12 image. Class 0 = mean of relu(x) over region A (the evidence)
 * − 2·mean of relu(0.7 − x) over region B. On the clean image the B units are off (x = 1), so B
 * holds no evidence; but deleting B (x → 0) switches them on and drives the score down — evidence
 * created by the perturbation, which plain mask optimisation happily exploits.
 */
const size = 12;
const hw = size * size;
const A = squareRegion(size, 1, 1, 4);
const B = squareRegion(size, 6, 6, 5);
const sum = (r: Float32Array) => r.reduce((a, b) => a + b, 0);
function crafted(): ToySpec {
  const weight = new Array<number>(2 * 2 * hw).fill(0);
  for (let p = 0; p < hw; p++) {
    weight[p] = A[p] / sum(A); // class 0, channel 0
    weight[hw + p] = (-2 * B[p]) / sum(B); // class 0, channel 1
    weight[2 * hw + p] = 1 / hw; // class 1, channel 0
  }
  return {
    name: 'crafted',
    inputShape: [1, size, size],
    numClasses: 2,
    layers: [
      {
        type: 'conv',
        name: 'conv',
        inChannels: 1,
        outChannels: 2,
        kernel: 1,
        weight: [1, -1],
        bias: [0, 0.7],
        activation: 'relu',
      },
      { type: 'flatten', name: 'flat' },
      { type: 'dense', name: 'fc', inFeatures: 2 * hw, outFeatures: 2, weight },
    ],
  };
}
const model = referenceModel(crafted(), { inputRange: [0, 1] });
const image: Tensor = { data: new Float32Array(hw).fill(1), shape: [1, 1, size, size] };
const quick = { steps: 150, fill: 'zero' as const, tv: 0 };
const meanOver = (map: ArrayLike<number>, region: Float32Array) => {
  let s = 0;
  for (let p = 0; p < hw; p++) s += map[p] * region[p];
  return s / sum(region);
};

describe('fgvis', () => {
  it('plain mask optimisation deletes B, where the deletion itself creates the evidence', async () => {
    const a = await fgvis.explain(model, image, 0, { ...quick, filter: false });
    expect(meanOver(a.map.data, B)).toBeGreaterThan(0.5);
  });

  it('the gradient filter removes that adversarial evidence: only the real evidence A is deleted', async () => {
    const a = await fgvis.explain(model, image, 0, quick);
    expect(meanOver(a.map.data, B)).toBeLessThan(0.1);
    expect(iou(a.map.data, A)).toBeGreaterThan(0.7);
    // And deleting A alone still destroys the score.
    expect(a.extras.maskedScore[0]).toBeLessThan(0.2 * a.extras.cleanScore[0]);
  });

  it('filters layers with a fused ReLU6 as well (converted GraphModels fuse Relu6 into convolutions)', async () => {
    // Inputs in [0, 1] keep every unit below 6, so the toy computes the same with ReLU6.
    const relu6: Model = {
      ...model,
      layers: () => model.layers!().map((l) => (l.name === 'conv' ? { ...l, activation: 'relu6' } : l)),
    };
    const a = await fgvis.explain(relu6, image, 0, quick);
    expect(meanOver(a.map.data, B)).toBeLessThan(0.1);
  });

  it('checks the filtered layers before any pass', async () => {
    await expect(fgvis.explain(model, image, 0, { layers: ['nope'] })).rejects.toBeInstanceOf(XlensError);
  });
});
