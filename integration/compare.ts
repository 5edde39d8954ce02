import { sameShape, type Tensor } from '@xlens/core';

/** ‖a − b‖ / ‖b‖ over two tensors of one shape (‖a‖ when b is all zeros): how far a map is from a reference. */
export function relativeL2(a: Tensor, b: Tensor): number {
  if (!sameShape(a.shape, b.shape)) {
    throw new Error(`relativeL2: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i++) {
    d += (a.data[i] - b.data[i]) ** 2;
    n += b.data[i] ** 2;
  }
  return Math.sqrt(d / (n || 1));
}
