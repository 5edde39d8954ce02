import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { detectorNet, plusSquareScenes } from '../test/toys.js';
import { conceptsFromLabels, dissect } from './dissection.js';

describe('dissection (Bau et al., 2017)', () => {
  const { images, masks, labels } = plusSquareScenes(40);
  const concepts = conceptsFromLabels(masks, labels, ['cross', 'square']);
  const model = referenceModel(detectorNet());

  it('labels units built to detect one shape (and the background) with that concept', async () => {
    const units = await dissect(model, images, { layer: 'units', concepts, quantile: 0.99 });
    expect(units.map((u) => u.label)).toEqual(['cross', 'square', 'background']);
    // The plus unit fires on one pixel of the nine of each plus; the block unit on 9 of 25 square pixels.
    expect(units[0].iou).toBeCloseTo(1 / 9, 6);
    expect(units[1].iou).toBeCloseTo(9 / 25, 6);
    expect(units[2].iou).toBeGreaterThan(0.9);
    expect(units[0].ious[1]).toBe(0);
  });

  it('says none below the IoU floor, and checks concept masks against the images', async () => {
    const units = await dissect(model, images, { layer: 'units', concepts, quantile: 0.99, minIoU: 0.2 });
    expect(units[0].label).toBe('none');
    await expect(
      dissect(model, images, {
        layer: 'units',
        concepts: [{ name: 'x', masks: { data: new Float32Array(4), shape: [1, 2, 2] } }],
      }),
    ).rejects.toMatchObject({ code: 'invalid-shape' });
  });

  it('builds concepts from masks and labels: one per class, plus the background', () => {
    expect(concepts.map((c) => c.name)).toEqual(['cross', 'square', 'background']);
    const at = (c: number, i: number) =>
      concepts[c].masks.data.slice(i * 256, (i + 1) * 256).reduce((a, b) => a + b, 0);
    expect([at(0, 0), at(1, 0), at(2, 0)]).toEqual([9, 0, 247]);
    expect([at(0, 1), at(1, 1), at(2, 1)]).toEqual([0, 25, 231]);
  });
});
