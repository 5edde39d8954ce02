import { InputError, OptionError } from '../errors.js';
import type { Layout } from '../model.js';
import type { Tensor } from '../tensor.js';

/**
 * Separable Gaussian blur of the spatial axes of an image batch (`N×C×H×W` or `N×H×W×C` per
 * `layout`), each channel on its own. `sigma` is the standard deviation in pixels; the kernel has
 * radius ⌈3σ⌉ and is normalised to sum 1, and edges are replicated, so a constant image stays
 * constant. σ = 0 returns a copy. This is the blur of every `blur` baseline in xlens.
 */
export function gaussianBlur(input: Tensor, sigma: number, layout: Layout): Tensor {
  if (input.shape.length !== 4) {
    throw new InputError(
      'invalid-shape',
      `a Gaussian blur needs image batches (rank 4), got shape [${input.shape.join(', ')}]`,
    );
  }
  if (!Number.isFinite(sigma) || sigma < 0)
    throw new OptionError(
      'invalid-option',
      `blur sigma = ${sigma} is invalid; expected a number ≥ 0 (pixels)`,
    );
  if (sigma === 0) return { data: input.data.slice(), shape: [...input.shape] };
  const [n, a, b, d] = input.shape;
  const [c, h, w] = layout === 'NCHW' ? [a, b, d] : [d, a, b];
  // Strides of a pixel step and of a channel within one item, so both layouts blur in place.
  const step = layout === 'NCHW' ? 1 : c;
  const plane = layout === 'NCHW' ? h * w : 1;
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) {
    kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
    total += kernel[k + radius];
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] /= total;
  const tmp = new Float64Array(h * w);
  const out = new Float32Array(input.data.length);
  const src = input.data;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = i * c * h * w + ch * plane;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let k = -radius; k <= radius; k++) {
            const xx = Math.min(w - 1, Math.max(0, x + k));
            s += kernel[k + radius] * src[base + (y * w + xx) * step];
          }
          tmp[y * w + x] = s;
        }
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let k = -radius; k <= radius; k++)
            s += kernel[k + radius] * tmp[Math.min(h - 1, Math.max(0, y + k)) * w + x];
          out[base + (y * w + x) * step] = s;
        }
    }
  }
  return { data: out, shape: [...input.shape] };
}
