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
  const out = new Float32Array(n * h * w);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < hw; p++) {
      let acc = how === 'max' || how === 'max-abs' ? Number.NEGATIVE_INFINITY : 0;
      for (let k = 0; k < c; k++) {
        const v = layout === 'NCHW' ? t.data[(b * c + k) * hw + p] : t.data[(b * hw + p) * c + k];
        switch (how) {
          case 'sum':
          case 'mean':
            acc += v;
            break;
          case 'max':
            acc = Math.max(acc, v);
            break;
          case 'max-abs':
            acc = Math.max(acc, Math.abs(v));
            break;
          case 'abs-sum':
          case 'sum-abs':
            acc += Math.abs(v);
            break;
          case 'l2':
            acc += v * v;
            break;
        }
      }
      if (how === 'mean') acc /= c;
      if (how === 'l2') acc = Math.sqrt(acc);
      out[b * hw + p] = acc;
    }
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
