import { concatBatch, sliceBatch, type Tensor } from './tensor.js';

/** `[start, end)` ranges covering `total` in steps of `size`. */
export function chunkRanges(total: number, size: number): Array<[number, number]> {
  const step = Math.max(1, Math.floor(size));
  const out: Array<[number, number]> = [];
  for (let s = 0; s < total; s += step) out.push([s, Math.min(total, s + step)]);
  return out;
}

/** Run `fn` over chunks of the first axis and stack the results. */
export async function mapChunks(
  input: Tensor,
  size: number,
  fn: (chunk: Tensor, start: number) => Promise<Tensor>,
): Promise<Tensor> {
  const parts: Tensor[] = [];
  for (const [s, e] of chunkRanges(input.shape[0], size)) parts.push(await fn(sliceBatch(input, s, e), s));
  return concatBatch(parts);
}
