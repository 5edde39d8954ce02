import type { MetricContext, Tensor } from '@xlens/core';

/**
 * Builds row `step` of item `item` into `out` (one item's values). `previous` is row `step − 1` of
 * the same item when it was built just before in the same chunk (to extend it), else null.
 */
export type RowBuilder = (
  item: number,
  step: number,
  out: Float32Array,
  previous: Float32Array | null,
) => void;

/** Reads one value per row from a chunk's model outputs (default: the target's score). */
export type RowValue = (output: Tensor, items: Int32Array) => ArrayLike<number>;

/**
 * Run `steps` rows per item through the model on the metric's streaming context (ADR 0003): rows
 * are item-major (row r is step `r mod steps` of item `⌊r / steps⌋`), built one chunk at a time,
 * and each row's value lands at `[item][step]`. A row depends only on its item and step, so a
 * batch gives every item the values it gets alone.
 */
export async function streamSteps<O>(
  ctx: MetricContext<O>,
  steps: number,
  build: RowBuilder,
  value?: RowValue,
): Promise<Float64Array[]> {
  const stream = ctx.stream;
  const per = stream.input.data.length / ctx.n;
  const out = Array.from({ length: ctx.n }, () => new Float64Array(steps));
  await stream.streamForward(
    {
      rows: ctx.n * steps,
      items: (r) => Math.floor(r / steps),
      input: (start, end) => {
        const data = new Float32Array((end - start) * per);
        for (let r = start; r < end; r++) {
          const row = data.subarray((r - start) * per, (r - start + 1) * per);
          const step = r % steps;
          const previous =
            r > start && step > 0 ? data.subarray((r - start - 1) * per, (r - start) * per) : null;
          build(Math.floor(r / steps), step, row, previous);
        }
        return { data, shape: [end - start, ...stream.input.shape.slice(1)] };
      },
    },
    (chunk) => {
      const values = value ? value(chunk.output, chunk.items) : stream.scores(chunk.output, chunk.items);
      for (let r = chunk.start; r < chunk.end; r++)
        out[Math.floor(r / steps)][r % steps] = values[r - chunk.start];
    },
  );
  return out;
}
