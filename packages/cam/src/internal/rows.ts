import type { Tensor } from '@xlens/core';

/** Rows `[start, end)` of a repeated batch: row r is item `items[r]` of `input` (copied). */
export function gatherRows(input: Tensor, items: ArrayLike<number>, start: number, end: number): Tensor {
  const per = input.data.length / input.shape[0];
  const out = new Float32Array((end - start) * per);
  for (let r = start; r < end; r++)
    out.set(input.data.subarray(items[r] * per, (items[r] + 1) * per), (r - start) * per);
  return { data: out, shape: [end - start, ...input.shape.slice(1)] };
}
