import { InputError, type Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { colorAt, getColormap } from './colormaps.js';
import {
  colorBar,
  colorize,
  createImage,
  heatAlpha,
  imageFromBytes,
  imageFromTensor,
  overlay,
  resizeMaps,
  resizeNearest,
  toPixelMap,
} from './image.js';

const solid = (w: number, h: number, rgb: [number, number, number]) => {
  const img = createImage(w, h);
  for (let p = 0; p < w * h; p++) img.data.set([...rgb, 255], p * 4);
  return img;
};

describe('colorize and overlay', () => {
  it('colours values through the colormap, opaque', () => {
    const cmap = getColormap('lagoon');
    const img = colorize([0, 0.5, 1, 0.25], 2, 2, cmap);
    expect(Array.from(img.data.subarray(8, 12))).toEqual([...colorAt(cmap, 1), 255]);
    expect(Array.from(img.data.subarray(4, 8))).toEqual([...colorAt(cmap, 0.5), 255]);
    expect(() => colorize([0, 1], 2, 2, cmap)).toThrow(InputError);
  });

  it('blends (1 − a)·grey(base) + a·heat, with per-pixel weights', () => {
    const base = solid(2, 1, [100, 100, 100]);
    const heat = solid(2, 1, [200, 0, 40]);
    const out = overlay(base, heat, { alpha: 0.5, weights: [1, 0] });
    expect(Array.from(out.data)).toEqual([150, 50, 70, 255, 100, 100, 100, 255]);
    const colour = solid(1, 1, [255, 0, 0]);
    expect(Array.from(overlay(colour, solid(1, 1, [0, 0, 0]), { alpha: 0 }).data)).toEqual([76, 76, 76, 255]);
    expect(Array.from(overlay(colour, solid(1, 1, [0, 0, 0]), { alpha: 0, desaturate: false }).data)).toEqual(
      [255, 0, 0, 255],
    );
  });

  it('rejects size mismatches and bad alpha', () => {
    expect(() => overlay(createImage(2, 2), createImage(3, 2))).toThrow(/resize the map/);
    expect(() => overlay(createImage(1, 1), createImage(1, 1), { alpha: 2 })).toThrow(/alpha = 2/);
  });

  it('heatAlpha is distance from neutral', () => {
    expect(Array.from(heatAlpha([0, 0.5, 1], false))).toEqual([0, 0.5, 1]);
    expect(Array.from(heatAlpha([0, 0.5, 1, 0.75], true))).toEqual([1, 0, 1, 0.5]);
  });
});

describe('images from data', () => {
  it('imageFromBytes expands grey and RGB', () => {
    expect(Array.from(imageFromBytes([9], 1, 1, 1).data)).toEqual([9, 9, 9, 255]);
    expect(Array.from(imageFromBytes([1, 2, 3, 4], 1, 1, 4).data)).toEqual([1, 2, 3, 255]);
  });

  it('imageFromTensor gives the same picture from NCHW and NHWC and min–max scales each item', () => {
    // one 2×1 image, channels r,g,b at pixel 0 = (0, 1, 2), pixel 1 = (3, 4, 5), values scaled by 51
    const nchw: Tensor = { data: Float32Array.from([0, 3, 1, 4, 2, 5]), shape: [1, 3, 1, 2] };
    const nhwc: Tensor = { data: Float32Array.from([0, 1, 2, 3, 4, 5]), shape: [1, 1, 2, 3] };
    const a = imageFromTensor(nchw, 'NCHW');
    expect(Array.from(a.data)).toEqual([0, 51, 102, 255, 153, 204, 255, 255]);
    expect(imageFromTensor(nhwc, 'NHWC')).toEqual(a);
    expect(Array.from(imageFromTensor(nhwc, 'NHWC', 0, true).data.subarray(0, 3))).toEqual([102, 51, 0]);
    const constant: Tensor = { data: new Float32Array(4).fill(3), shape: [1, 1, 2, 2] };
    expect(Array.from(imageFromTensor(constant, 'NCHW').data.subarray(0, 4))).toEqual([0, 0, 0, 255]);
    expect(() => imageFromTensor(nchw, 'NCHW', 1)).toThrow(/outside the batch/);
  });
});

describe('maps', () => {
  it('toPixelMap sums channels of input-shaped maps, keeps pixel maps', () => {
    const map: Tensor = { data: Float32Array.from([1, 2, -3, 4]), shape: [1, 2, 1, 2] };
    expect(Array.from(toPixelMap({ map, mapKind: 'input', layout: 'NCHW' }).data)).toEqual([-2, 6]);
    expect(Array.from(toPixelMap({ map, mapKind: 'input', layout: 'NCHW' }, 'abs-sum').data)).toEqual([4, 6]);
    const pix: Tensor = { data: Float32Array.from([5, 6]), shape: [1, 1, 2] };
    expect(toPixelMap({ map: pix, mapKind: 'pixel', layout: 'NHW' })).toBe(pix);
  });

  it('resizeMaps upsamples bilinearly and is a no-op at equal size', () => {
    const m: Tensor = { data: Float32Array.from([0, 4]), shape: [1, 1, 2] };
    expect(resizeMaps(m, 1, 2)).toBe(m);
    const up = resizeMaps(m, 1, 4);
    expect(Array.from(up.data)).toEqual([0, 1, 3, 4]);
    expect(() => resizeMaps({ data: new Float32Array(4), shape: [4] }, 2, 2)).toThrow(/N×h×w/);
  });

  it('colorBar runs through the colormap from left to right', () => {
    const cmap = getColormap('dusk');
    const bar = colorBar(cmap, 256, 2);
    for (const x of [0, 100, 255]) {
      expect(Array.from(bar.data.subarray(x * 4, x * 4 + 3))).toEqual(colorAt(cmap, x / 255));
      expect(Array.from(bar.data.subarray((256 + x) * 4, (256 + x) * 4 + 3))).toEqual(colorAt(cmap, x / 255));
    }
  });
});

describe('resizeNearest', () => {
  it('copies the covering source pixel and never blends', () => {
    const m: Tensor = { data: Float32Array.from([1, 5, 3, 7]), shape: [1, 2, 2] };
    const up = resizeNearest(m, 4, 4);
    expect(Array.from(up.data)).toEqual([1, 1, 5, 5, 1, 1, 5, 5, 3, 3, 7, 7, 3, 3, 7, 7]);
    expect(resizeNearest(m, 2, 2)).toBe(m);
    expect(Array.from(resizeNearest(up, 2, 2).data)).toEqual([1, 5, 3, 7]);
  });
});
