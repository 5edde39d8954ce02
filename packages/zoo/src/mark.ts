import { InputError, type Tensor } from '@xlens/core';

/** A half-open pixel box `[x0, y0, x1, y1]`: columns `x0 ≤ x < x1`, rows `y0 ≤ y < y1`. */
export type Box = readonly [number, number, number, number];

/** Side of the square shapes images, in pixels. */
export const SHAPES_SIZE = 64;

/**
 * Where the shortcut mark sits in a shapes image: a 6×6 black-and-white checker of 2×2 cells near the
 * top-left corner. Shapes are never drawn over it (nor over a 2-pixel margin around it), so the mark
 * stays intact whenever it is present.
 */
export const MARK_BOX: Box = [2, 2, 8, 8];

/** Margin kept free of shapes around the mark box, in pixels. */
export const MARK_MARGIN = 2;

/** Paint the mark into one HWC image of side `size` (in place). */
export function paintMark(image: Float32Array, size: number, offset = 0): void {
  const [x0, y0, x1, y1] = MARK_BOX;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      // 2×2 cells alternating white and black: a high-contrast pattern no texture produces.
      const v = (((x - x0) >> 1) + ((y - y0) >> 1)) % 2 === 0 ? 1 : 0;
      const o = offset + 3 * (y * size + x);
      image[o] = v;
      image[o + 1] = v;
      image[o + 2] = v;
    }
  }
}

/** A `size×size` map that is 1 on the mark box and 0 elsewhere. */
export function markMaskMap(size = SHAPES_SIZE): Float32Array {
  const out = new Float32Array(size * size);
  const [x0, y0, x1, y1] = MARK_BOX;
  for (let y = y0; y < y1; y++) out.fill(1, y * size + x0, y * size + x1);
  return out;
}

/**
 * A copy of a batch of shapes images (`N×64×64×3`, NHWC) with the shortcut mark pasted on every
 * item — used to test whether a model predicts the shortcut class from the mark alone.
 */
export function pasteMark(images: Tensor): Tensor {
  const [n, h, w, c] = images.shape;
  if (images.shape.length !== 4 || h !== SHAPES_SIZE || w !== SHAPES_SIZE || c !== 3) {
    throw new InputError(
      'invalid-shape',
      `pasteMark needs shapes images of shape [N, ${SHAPES_SIZE}, ${SHAPES_SIZE}, 3], got [${images.shape.join(', ')}]`,
    );
  }
  const data = images.data.slice();
  const item = h * w * c;
  for (let i = 0; i < n; i++) paintMark(data, SHAPES_SIZE, i * item);
  return { data, shape: [...images.shape] };
}
