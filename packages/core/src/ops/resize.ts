import { InputError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/**
 * Bilinear resize of `N×h×w` maps (or `N×C×h×w`) to `height×width`.
 *
 * Pixel-centre convention (the one of PyTorch `align_corners=false`, OpenCV and tfjs
 * `halfPixelCenters`): output pixel `i` samples source coordinate `(i + 0.5)·h/H − 0.5`, clamped
 * to the edge. A map upsampled this way and averaged back over blocks keeps its mean.
 */
export function resizeBilinear(t: Tensor, height: number, width: number): Tensor {
  if (t.shape.length !== 3 && t.shape.length !== 4) {
    throw new InputError(
      'invalid-shape',
      `resizeBilinear expects N×h×w or N×C×h×w, got [${t.shape.join(', ')}]`,
    );
  }
  const h = t.shape[t.shape.length - 2];
  const w = t.shape[t.shape.length - 1];
  const planes = t.data.length / (h * w);
  const out = new Float32Array(planes * height * width);
  const sy = h / height;
  const sx = w / width;
  const y0s = new Int32Array(height);
  const y1s = new Int32Array(height);
  const fys = new Float32Array(height);
  for (let i = 0; i < height; i++) {
    const y = Math.min(Math.max((i + 0.5) * sy - 0.5, 0), h - 1);
    y0s[i] = Math.floor(y);
    y1s[i] = Math.min(y0s[i] + 1, h - 1);
    fys[i] = y - y0s[i];
  }
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const fxs = new Float32Array(width);
  for (let j = 0; j < width; j++) {
    const x = Math.min(Math.max((j + 0.5) * sx - 0.5, 0), w - 1);
    x0s[j] = Math.floor(x);
    x1s[j] = Math.min(x0s[j] + 1, w - 1);
    fxs[j] = x - x0s[j];
  }
  for (let p = 0; p < planes; p++) {
    const src = p * h * w;
    const dst = p * height * width;
    for (let i = 0; i < height; i++) {
      const r0 = src + y0s[i] * w;
      const r1 = src + y1s[i] * w;
      const fy = fys[i];
      for (let j = 0; j < width; j++) {
        const fx = fxs[j];
        const top = t.data[r0 + x0s[j]] * (1 - fx) + t.data[r0 + x1s[j]] * fx;
        const bottom = t.data[r1 + x0s[j]] * (1 - fx) + t.data[r1 + x1s[j]] * fx;
        out[dst + i * width + j] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { data: out, shape: [...t.shape.slice(0, -2), height, width] };
}
