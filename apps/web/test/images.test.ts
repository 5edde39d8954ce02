import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '@xlens/viz';
import { describe, expect, it } from 'vitest';
import { checkImage, imageHeader, imageTensor } from '../src/images.js';
import { droppedFormat } from '../src/models.js';

const bytes = (...parts: (number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const le16 = (v: number) => [v & 0xff, v >> 8];

describe('image headers', () => {
  it('reads the declared size of PNG, GIF, BMP, WebP (lossy, lossless, extended) and JPEG files', () => {
    const png = encodePng({ width: 5, height: 3, data: new Uint8ClampedArray(5 * 3 * 4) });
    expect(imageHeader(png)).toEqual({ format: 'png', width: 5, height: 3 });
    expect(imageHeader(bytes('GIF89a', le16(300), le16(200), [0, 0, 0]))).toEqual({
      format: 'gif',
      width: 300,
      height: 200,
    });
    const bmp = new Uint8Array(54);
    bmp.set(bytes('BM'));
    new DataView(bmp.buffer).setInt32(18, 640, true);
    new DataView(bmp.buffer).setInt32(22, -480, true); // top-down rows
    expect(imageHeader(bmp)).toEqual({ format: 'bmp', width: 640, height: 480 });
    const riff = (chunk: string, body: number[]) =>
      bytes('RIFF', [0, 0, 0, 0], 'WEBP', chunk, [0, 0, 0, 0], body);
    expect(
      imageHeader(riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, ...le16(320), ...le16(240), 0, 0])),
    ).toMatchObject({
      width: 320,
      height: 240,
    });
    const bits = (100 - 1) | ((50 - 1) << 14);
    expect(
      imageHeader(
        riff('VP8L', [
          0x2f,
          bits & 0xff,
          (bits >> 8) & 0xff,
          (bits >> 16) & 0xff,
          (bits >> 24) & 0xff,
          0,
          0,
          0,
          0,
          0,
          0,
        ]),
      ),
    ).toMatchObject({
      width: 100,
      height: 50,
    });
    expect(imageHeader(riff('VP8X', [0, 0, 0, 0, 0x1f, 0x4e, 0, 0x1f, 0x4e, 0, 0]))).toMatchObject({
      width: 20000,
      height: 20000,
    });
    // SOI, an APP0 segment, then SOF0 with height 480 and width 640.
    const jpeg = bytes([
      0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 17, 8, 0x01, 0xe0, 0x02, 0x80, 3, 0, 0, 0, 0, 0, 0,
      0, 0, 0,
    ]);
    expect(imageHeader(jpeg)).toEqual({ format: 'jpeg', width: 640, height: 480 });
    expect(imageHeader(bytes('hello, not an image at all'))).toBeUndefined();
  });

  it('refuses empty files, non-images and declared sizes beyond 8192 pixels a side or 40 megapixels', () => {
    expect(() => checkImage('empty.png', new Uint8Array(0))).toThrow(/empty.png is empty/);
    expect(() => checkImage('notes.txt', bytes('just some text here, long enough'))).toThrow(
      /notes.txt is not an image this page reads \(PNG, JPEG, GIF, WebP or BMP\)/,
    );
    expect(() => checkImage('wide.gif', bytes('GIF89a', le16(9000), le16(10), [0, 0, 0]))).toThrow(
      /wide.gif declares 9000×10 pixels; images up to 8192×8192 and 40 megapixels are accepted/,
    );
    expect(checkImage('ok.gif', bytes('GIF89a', le16(8000), le16(5000), [0, 0, 0]))).toMatchObject({
      width: 8000,
    });
    expect(() => checkImage('big.gif', bytes('GIF89a', le16(8000), le16(5001), [0, 0, 0]))).toThrow(
      /8000×5001/,
    );
  });
});

describe('model inputs from pictures', () => {
  const image = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 51, 255, 0, 102, 204, 255]) };

  it('scales pixels to [0, 1], applies mean and std per channel, in NHWC and NCHW', () => {
    expect(Array.from(imageTensor(image, [1, 2, 3], 'NHWC').data)).toEqual(
      [1, 0, 0.2, 0, 0.4, 0.8].map(Math.fround),
    );
    const nchw = imageTensor(image, [3, 1, 2], 'NCHW', [0.5], [0.5, 1, 2]);
    expect(nchw.shape).toEqual([1, 3, 1, 2]);
    expect(Array.from(nchw.data)).toEqual([1, -1, -0.5, -0.1, -0.15, 0.15].map(Math.fround));
  });

  it('gives one-channel models the grey value', () => {
    const grey = { width: 1, height: 1, data: new Uint8ClampedArray([51, 51, 51, 255]) };
    expect(Array.from(imageTensor(grey, [1, 1, 1], 'NHWC').data)).toEqual([Math.fround(0.2)]);
  });

  it('refuses inputs that are not 1- or 3-channel images', () => {
    expect(() => imageTensor(image, [10], 'NCHW')).toThrow(/not images/);
    expect(() => imageTensor(image, [4, 1, 2], 'NCHW')).toThrow(/4-channel inputs/);
  });
});

describe('dropped model files', () => {
  it('are one .onnx file, or one model.json with shards (labels aside)', () => {
    expect(droppedFormat([{ name: 'net.onnx' }])).toBe('onnx');
    expect(
      droppedFormat([{ name: 'model.json' }, { name: 'group1-shard1of1.bin' }, { name: 'labels.json' }]),
    ).toBe('tfjs');
    expect(() => droppedFormat([{ name: 'notes.txt' }])).toThrow(/notes.txt is not a model this page reads/);
    expect(() => droppedFormat([{ name: 'a.onnx' }, { name: 'model.json' }])).toThrow(/drop one .onnx file/);
    expect(readFileSync(join(import.meta.dirname, '..', 'public', 'favicon.svg'), 'utf8')).toMatch(/<svg/);
  });
});
