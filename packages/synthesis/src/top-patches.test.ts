import { makeContext, resolveTarget } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { detectorNet, plusSquareScenes } from '../test/toys.js';
import { activationGrid } from './activation-grid.js';
import { filterImages } from './filter-images.js';
import { receptiveField, topPatches } from './top-patches.js';

const { images, labels } = plusSquareScenes(20);
const model = referenceModel(detectorNet());

describe('top-k data-set patches (Zeiler & Fergus, 2014)', () => {
  it("the plus unit's best patches are pluses, centred in its 5×5 receptive field", async () => {
    const [plus] = await topPatches(model, images, { layer: 'units', channels: [0], k: 5 });
    expect(plus.patches.shape).toEqual([5, 1, 5, 5]);
    for (const i of plus.items) expect(labels[i]).toBe(0);
    for (let j = 0; j < 5; j++) {
      const patch = Array.from(plus.patches.data.slice(j * 25, (j + 1) * 25));
      expect(patch).toEqual(
        Array.from({ length: 25 }, (_, p) => (Math.floor(p / 5) === 2 || p % 5 === 2 ? 1 : 0)),
      );
      expect(plus.scores[j]).toBeCloseTo(0.5, 6);
    }
  });

  it('measures receptive fields through gradients (3×3 conv, 2×2 pool, 3×3 conv: 10×10, clipped)', async () => {
    const cnn = referenceModel(tinyCnn());
    const x = {
      data: Float32Array.from({ length: 4 * 192 }, (_, i) => Math.sin(i * 0.9)),
      shape: [4, 3, 8, 8],
    };
    const ctx = makeContext<unknown>({
      method: 'test',
      model: cnn,
      input: x,
      target: resolveTarget(0, cnn.info, 4, 'logit'),
      options: {},
      run: {},
      reportProgress: false,
    });
    const field = await receptiveField(ctx, cnn.layers!().find((l) => l.name === 'conv2')!);
    expect(field.stride).toEqual([2, 2]);
    expect(field.centre).toEqual([2, 2]);
    // Unit (2, 2) of conv2 sees pool cells 1–3 = conv1 rows 2–7, which see input rows 1–8 (clipped at 7).
    expect(field.box).toEqual([1, 1, 7, 7]);
  });
});

describe('hidden-layer views', () => {
  it('activation grids give every channel of a layer for each image', async () => {
    const grid = await activationGrid(model, images, 'units');
    expect(grid.maps.shape).toEqual([20, 3, 16, 16]);
    expect(grid.channelMax[0]).toBeCloseTo(0.5, 6);
    expect(grid.channelMax[2]).toBe(1);
  });
  it('filter images are the first conv kernels scaled around 0.5', async () => {
    const f = await filterImages(model);
    expect(f.layer).toBe('units');
    expect(f.weights.shape).toEqual([3, 1, 5, 5]);
    // max |w| = 2 (the background unit's centre): w = 1 → 0.75, −2 → 0.
    expect(f.images.data[0]).toBe(0.25);
    expect(f.images.data[12]).toBe(0.75);
    expect(f.images.data[50 + 12]).toBe(0);
    const own = await filterImages(model, { perFilter: true });
    expect(own.images.data[0]).toBe(0);
  });
});
