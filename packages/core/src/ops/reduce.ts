import { InputError } from '../errors.js';
import type { Layout } from '../model.js';
import type { Tensor } from '../tensor.js';

/** How to collapse the channel axis of an input-shaped map into one value per pixel. */
export type ChannelReduction = 'sum' | 'mean' | 'max' | 'max-abs' | 'abs-sum' | 'l2' | 'sum-abs';

/** Height, width and channels of a 4-D batch in a given layout. */
export function imageDims(
  shape: readonly number[],
  layout: Layout,
): { n: number; c: number; h: number; w: number } {
  if (shape.length !== 4)
    throw new InputError('invalid-shape', `expected a 4-D image batch, got shape [${shape.join(', ')}]`);
  return layout === 'NCHW'
    ? { n: shape[0], c: shape[1], h: shape[2], w: shape[3] }
    : { n: shape[0], h: shape[1], w: shape[2], c: shape[3] };
}

/** Collapse channels of an `N×C×H×W` or `N×H×W×C` map to `N×H×W`. */
export function reduceChannels(t: Tensor, layout: Layout, how: ChannelReduction): Tensor {
  const { n, c, h, w } = imageDims(t.shape, layout);
  const hw = h * w;
  const out = new Float32Array(n * hw);
  const src = t.data;
  // Channel k of item b at pixel p sits at `base + k·channelStride + p·pixelStride`. One loop per
  // reduction over whole channel planes keeps the hot loop free of branches (it runs on every
  // gradient map, 3×224² values per item).
  const channelStride = layout === 'NCHW' ? hw : 1;
  const pixelStride = layout === 'NCHW' ? 1 : c;
  for (let b = 0; b < n; b++) {
    const base = b * c * hw;
    const o = b * hw;
    if (c === 0) continue;
    // Channel 0 initialises the accumulator in the reduction's own terms.
    const square = how === 'l2';
    const absolute = how === 'max-abs' || how === 'abs-sum' || how === 'sum-abs';
    for (let p = 0; p < hw; p++) {
      const v = src[base + p * pixelStride];
      out[o + p] = square ? v * v : absolute ? Math.abs(v) : v;
    }
    for (let k = 1; k < c; k++) {
      const at = base + k * channelStride;
      switch (how) {
        case 'sum':
        case 'mean':
          for (let p = 0; p < hw; p++) out[o + p] += src[at + p * pixelStride];
          break;
        case 'max':
          for (let p = 0; p < hw; p++) {
            const v = src[at + p * pixelStride];
            if (v > out[o + p] || Number.isNaN(v)) out[o + p] = v;
          }
          break;
        case 'max-abs':
          for (let p = 0; p < hw; p++) {
            const v = Math.abs(src[at + p * pixelStride]);
            if (v > out[o + p] || Number.isNaN(v)) out[o + p] = v;
          }
          break;
        case 'abs-sum':
        case 'sum-abs':
          for (let p = 0; p < hw; p++) out[o + p] += Math.abs(src[at + p * pixelStride]);
          break;
        case 'l2':
          for (let p = 0; p < hw; p++) {
            const v = src[at + p * pixelStride];
            out[o + p] += v * v;
          }
          break;
      }
    }
    if (how === 'mean') for (let p = 0; p < hw; p++) out[o + p] /= c;
    if (how === 'l2') for (let p = 0; p < hw; p++) out[o + p] = Math.sqrt(out[o + p]);
  }
  return { data: out, shape: [n, h, w] };
}

/** Reorder an NHWC batch to NCHW. */
export function toChannelsFirst(t: Tensor): Tensor {
  const [n, h, w, c] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++)
          out[((b * c + k) * h + y) * w + x] = t.data[((b * h + y) * w + x) * c + k];
  return { data: out, shape: [n, c, h, w] };
}

/** Reorder an NCHW batch to NHWC. */
export function toChannelsLast(t: Tensor): Tensor {
  const [n, c, h, w] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          out[((b * h + y) * w + x) * c + k] = t.data[((b * c + k) * h + y) * w + x];
  return { data: out, shape: [n, h, w, c] };
}
