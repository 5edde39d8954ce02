import { InputError } from '@xlens/core';
import { decode, encode } from 'fast-png';
import { imageFromBytes, type RgbaImage } from './image.js';

/** Encode an RGBA image as PNG bytes (pure JS, works in browsers and Node). */
export function encodePng(image: RgbaImage): Uint8Array {
  return encode({ width: image.width, height: image.height, data: image.data, channels: 4, depth: 8 });
}

/** Decode 8-bit PNG bytes (grey, grey+alpha, RGB or RGBA; not palette) into an opaque-or-not RGBA image. */
export function decodePng(bytes: Uint8Array): RgbaImage {
  const png = decode(bytes);
  if (png.depth !== 8 || png.palette) {
    throw new InputError(
      'invalid-input',
      `decodePng supports 8-bit non-palette PNGs; got depth ${png.depth}${png.palette ? ' with a palette' : ''}`,
    );
  }
  if (png.channels === 4)
    return { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data) };
  return imageFromBytes(png.data, png.width, png.height, png.channels);
}

/** Base64 of bytes, chunked so large images do not overflow the argument list. */
export function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A `data:image/png;base64,…` URI of an image, for self-contained HTML. */
export function pngDataUri(image: RgbaImage): string {
  return `data:image/png;base64,${base64(encodePng(image))}`;
}
