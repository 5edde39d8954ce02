import { InputError, type Layout, type Tensor } from '@xlens/core';
import { decodePng, type RgbaImage } from '@xlens/viz';

/** Largest side accepted, in pixels. */
export const maxImageSide = 8192;
/** Largest image accepted, in pixels (40 megapixels: 160 MB of RGBA). */
export const maxImagePixels = 40_000_000;

/** Image formats recognised from their first bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp';

const u16be = (b: Uint8Array, i: number): number => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number): number =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const ascii = (b: Uint8Array, i: number, n: number): string => String.fromCharCode(...b.subarray(i, i + n));

/**
 * Format and declared size of an image file, read from its header only (nothing is decoded), or
 * undefined when the bytes are not a PNG, JPEG, GIF, WebP or BMP image.
 */
export function imageHeader(
  b: Uint8Array,
): { format: ImageFormat; width: number; height: number } | undefined {
  if (
    b.length >= 24 &&
    u32be(b, 0) === 0x89504e47 &&
    u32be(b, 4) === 0x0d0a1a0a &&
    ascii(b, 12, 4) === 'IHDR'
  )
    return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  if (b.length >= 10 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a'))
    return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
  if (b.length >= 26 && ascii(b, 0, 2) === 'BM') {
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return {
      format: 'bmp',
      width: Math.abs(view.getInt32(18, true)),
      height: Math.abs(view.getInt32(22, true)),
    };
  }
  if (b.length >= 30 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') {
    const chunk = ascii(b, 12, 4);
    if (chunk === 'VP8 ')
      return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
      return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8X') return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
    return undefined;
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    // Walk the JPEG segments to the first start-of-frame marker, which holds the size.
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1];
      if (marker === 0xff) {
        i++;
        continue;
      }
      const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
      if (isFrame) return { format: 'jpeg', width: u16be(b, i + 7), height: u16be(b, i + 5) };
      i += 2 + u16be(b, i + 2);
    }
    return { format: 'jpeg', width: 0, height: 0 };
  }
  return undefined;
}

/**
 * Check an image file before decoding it: a known format, a declared size within the limits.
 * Throws `InputError` with a message for the page.
 */
export function checkImage(
  name: string,
  bytes: Uint8Array,
): { format: ImageFormat; width: number; height: number } {
  if (bytes.length === 0) throw new InputError('invalid-input', `${name} is empty (0 bytes)`);
  const header = imageHeader(bytes);
  if (!header)
    throw new InputError(
      'invalid-input',
      `${name} is not an image this page reads (PNG, JPEG, GIF, WebP or BMP)`,
    );
  const { width, height, format } = header;
  if (width === 0 || height === 0)
    throw new InputError(
      'invalid-input',
      `${name} is a ${format.toUpperCase()} file without a valid size; it may be truncated`,
    );
  if (width > maxImageSide || height > maxImageSide || width * height > maxImagePixels) {
    throw new InputError(
      'invalid-input',
      `${name} declares ${width}×${height} pixels; images up to ${maxImageSide}×${maxImageSide} and ${maxImagePixels / 1e6} megapixels are accepted`,
    );
  }
  return header;
}

/** Decode an image file to RGBA (PNG in JS, byte-exact; other formats by the browser). */
export async function decodeImage(name: string, bytes: Uint8Array): Promise<RgbaImage> {
  const { format } = checkImage(name, bytes);
  if (format === 'png') {
    try {
      return decodePng(bytes);
    } catch {
      // 16-bit and palette PNGs: the browser decodes them below.
    }
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (error) {
    throw new InputError(
      'invalid-input',
      `${name} could not be decoded as ${format.toUpperCase()}: ${(error as Error).message || 'corrupt or unsupported'}`,
    );
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = canvas.getContext('2d')!;
  g.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
  return { width: canvas.width, height: canvas.height, data };
}

/**
 * The picture at the model's size: unchanged when the sizes match; otherwise scaled to cover the
 * target and centre-cropped (as the command line does), with the browser's high-quality filter.
 */
export async function fitImage(image: RgbaImage, width: number, height: number): Promise<RgbaImage> {
  if (image.width === width && image.height === height) return image;
  const scale = Math.max(width / image.width, height / image.height);
  const sw = width / scale;
  const sh = height / scale;
  const bitmap = await createImageBitmap(
    new ImageData(new Uint8ClampedArray(image.data), image.width, image.height),
  );
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'high';
  g.drawImage(bitmap, (image.width - sw) / 2, (image.height - sh) / 2, sw, sh, 0, 0, width, height);
  bitmap.close();
  return { width, height, data: g.getImageData(0, 0, width, height).data };
}

/** Height, width and channels of one model input item. */
export function inputDims(
  shape: readonly number[],
  layout: Layout,
): { height: number; width: number; channels: number } {
  if (shape.length !== 3)
    throw new InputError(
      'invalid-input',
      `the model takes inputs of shape [${shape.join(', ')}], not images`,
    );
  const [a, b, c] = shape;
  const dims =
    layout === 'NCHW' ? { channels: a, height: b, width: c } : { height: a, width: b, channels: c };
  if (dims.channels !== 1 && dims.channels !== 3)
    throw new InputError(
      'invalid-input',
      `the model takes ${dims.channels}-channel inputs; images give 1 or 3`,
    );
  return dims;
}

/**
 * A batch of one from an RGBA picture at model size: `(pixel / 255 − mean) / std` per channel, in
 * the model's layout; one-channel models get the grey value (R when the picture is grey).
 */
export function imageTensor(
  image: RgbaImage,
  shape: readonly number[],
  layout: Layout,
  mean: readonly number[] = [0],
  std: readonly number[] = [1],
): Tensor {
  const { height, width, channels } = inputDims(shape, layout);
  const per = (values: readonly number[], c: number) => values[values.length === 1 ? 0 : c];
  const data = new Float32Array(height * width * channels);
  const n = height * width;
  for (let p = 0; p < n; p++) {
    const [r, g, b] = [image.data[p * 4], image.data[p * 4 + 1], image.data[p * 4 + 2]];
    for (let c = 0; c < channels; c++) {
      const v = channels === 1 ? (r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b) : [r, g, b][c];
      const x = (v / 255 - per(mean, c)) / per(std, c);
      data[layout === 'NCHW' ? c * n + p : p * channels + c] = x;
    }
  }
  return { data, shape: [1, ...shape] };
}
