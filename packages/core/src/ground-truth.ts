import type { Box } from './metric.js';
import type { Tensor } from './tensor.js';

/**
 * The tightest box around the non-zero pixels of item `index` of an `N×H×W` mask, half-open;
 * `null` when the item's mask is empty.
 */
export function boxFromMask(masks: Tensor, index: number): Box | null {
  const [, h, w] = masks.shape;
  const plane = masks.data.subarray(index * h * w, (index + 1) * h * w);
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (plane[y * w + x] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

/** Masks `N×H×W` with 1 inside each item's box, 0 elsewhere. */
export function boxesToMasks(boxes: readonly Box[], height: number, width: number): Tensor {
  const n = boxes.length;
  const out = new Float32Array(n * height * width);
  for (let i = 0; i < n; i++) {
    const [x0, y0, x1, y1] = boxes[i];
    for (let y = y0; y < y1; y++)
      out.fill(1, i * height * width + y * width + x0, i * height * width + y * width + x1);
  }
  return { data: out, shape: [n, height, width] };
}

/** Area of a half-open box in pixels (0 for an empty one). */
export function boxArea(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/** Intersection over union of two half-open boxes; 0 when both are empty. */
export function boxIoU(a: Box, b: Box): number {
  const inter = boxArea([
    Math.max(a[0], b[0]),
    Math.max(a[1], b[1]),
    Math.min(a[2], b[2]),
    Math.min(a[3], b[3]),
  ]);
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}
