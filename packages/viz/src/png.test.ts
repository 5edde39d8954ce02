import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { createImage, imageFromBytes } from './image.js';
import { base64, decodePng, encodePng, pngDataUri } from './png.js';

const pattern = (w: number, h: number) => {
  const img = createImage(w, h);
  for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 37 + (i >> 2) * 11) % 256;
  return img;
};

describe('PNG', () => {
  it('round-trips RGBA bytes exactly through fast-png', () => {
    const img = pattern(7, 5);
    const bytes = encodePng(img);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const back = decode(bytes);
    expect([back.width, back.height, back.channels, back.depth]).toEqual([7, 5, 4, 8]);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
    expect(decodePng(bytes)).toEqual(img);
  });

  it('decodes grey and RGB PNGs to opaque RGBA', () => {
    const rgb = Uint8Array.from([10, 20, 30, 40, 50, 60]);
    const png = encodeRaw(rgb, 2, 1, 3);
    expect(decodePng(png)).toEqual(imageFromBytes(rgb, 2, 1, 3));
    const grey = decodePng(encodeRaw(Uint8Array.from([7, 200]), 2, 1, 1));
    expect(Array.from(grey.data)).toEqual([7, 7, 7, 255, 200, 200, 200, 255]);
  });

  it('makes a data URI whose payload is the PNG', () => {
    const img = pattern(3, 3);
    const uri = pngDataUri(img);
    expect(uri.startsWith('data:image/png;base64,')).toBe(true);
    const payload = Uint8Array.from(atob(uri.slice(22)), (c) => c.charCodeAt(0));
    expect(decodePng(payload)).toEqual(img);
  });

  it('base64 matches Node for sizes across the chunk boundary', () => {
    for (const n of [0, 1, 2, 3, 0x8000 + 5]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256);
      expect(base64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });
});

import { encode } from 'fast-png';

function encodeRaw(data: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  return encode({ width, height, data, channels, depth: 8 });
}
