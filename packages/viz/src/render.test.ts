import type { Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { colorAt, getColormap } from './colormaps.js';
import { createImage } from './image.js';
import { renderAttributions } from './render.js';

const grey = (w: number, h: number) => {
  const img = createImage(w, h);
  img.data.fill(128);
  return img;
};
const pixel = (values: number[], shape: number[]) => ({
  map: { data: Float32Array.from(values), shape } as Tensor,
  mapKind: 'pixel' as const,
  layout: 'NHW' as const,
});

describe('renderAttributions', () => {
  it('resizes a coarse map to the image, normalises, colours and overlays', () => {
    const coarse = pixel([0, 1, 2, 3], [1, 2, 2]);
    const [[r]] = renderAttributions([coarse], [grey(4, 4)], { colormap: 'gray', alpha: 1 });
    expect([r.raw.width, r.raw.height, r.overlay.width]).toEqual([4, 4, 4]);
    expect(r.scale).toMatchObject({ mode: 'abs', low: 0, high: 3 });
    // corners keep the coarse values (edge clamping): top-left 0 → black, bottom-right 3 → white
    expect(Array.from(r.raw.data.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(r.raw.data.subarray(15 * 4, 15 * 4 + 3))).toEqual([255, 255, 255]);
    expect(r.values[15]).toBe(3);
    // alpha 1 weighted by value: at value 0 the image shows, at the max the heat does
    expect(Array.from(r.overlay.data.subarray(0, 3))).toEqual([128, 128, 128]);
    expect(Array.from(r.overlay.data.subarray(60, 63))).toEqual([255, 255, 255]);
  });

  it('uses the diverging map for signed normalisation, zero white', () => {
    const [[r]] = renderAttributions([pixel([-1, 0, 1, 0], [1, 2, 2])], [grey(2, 2)], {
      normalize: 'signed',
    });
    expect(r.colormap.name).toBe('blue-red');
    expect(Array.from(r.raw.data.subarray(4, 7))).toEqual(colorAt(getColormap('blue-red'), 0.5));
    expect(Array.from(r.overlay.data.subarray(4, 7))).toEqual([128, 128, 128]);
  });

  it('collapses input-shaped maps and shares one scale when asked', () => {
    const input = {
      map: { data: Float32Array.from([1, 1, 1, 1]), shape: [1, 2, 1, 2] } as Tensor,
      mapKind: 'input' as const,
      layout: 'NCHW' as const,
    };
    const strong = pixel([10, 10], [1, 1, 2]);
    const own = renderAttributions([input, strong], [grey(2, 1)]);
    expect(own[0][0].scale.high).toBe(2);
    const shared = renderAttributions([input, strong], [grey(2, 1)], { shared: true });
    expect(shared[0][0].scale).toEqual(shared[1][0].scale);
    expect(shared[0][0].scale.high).toBe(10);
  });

  it('checks items and image sizes', () => {
    expect(() => renderAttributions([pixel([1, 2], [2, 1, 1])], [grey(1, 1)])).toThrow(
      /2 items but 1 images/,
    );
    expect(() => renderAttributions([pixel([1, 2], [2, 1, 1])], [grey(1, 1), grey(2, 1)])).toThrow(
      /one size/,
    );
  });
});
