import type { ExplainContext, Tensor } from '@xlens/core';

/**
 * Softmax of one output row, in float64 with the maximum subtracted (no overflow for large
 * logits).
 */
function softmax(row: Float32Array): Float64Array {
  let top = Number.NEGATIVE_INFINITY;
  for (const v of row) top = Math.max(top, v);
  const out = new Float64Array(row.length);
  let z = 0;
  for (let j = 0; j < row.length; j++) {
    out[j] = Math.exp(row[j] - top);
    z += out[j];
  }
  for (let j = 0; j < row.length; j++) out[j] /= z;
  return out;
}

/**
 * The target probability of each output row (rows belong to `items`): the softmax of the row at
 * the item's class — or the output itself when the model already outputs probabilities — and for
 * a cotangent target the cotangent-weighted sum of the probabilities. Methods whose papers weigh
 * by probabilities (RISE, LIME, prediction difference) use this instead of the run's score kind.
 */
export function probabilities(
  ctx: ExplainContext<unknown>,
  output: Tensor,
  items: ArrayLike<number>,
): Float64Array {
  const k = ctx.model.info.numClasses;
  const out = new Float64Array(items.length);
  const { classes, cotangent } = ctx.target;
  for (let r = 0; r < items.length; r++) {
    const row = output.data.subarray(r * k, (r + 1) * k);
    const p = ctx.model.info.outputKind === 'probabilities' ? Float64Array.from(row) : softmax(row);
    if (classes) out[r] = p[classes[items[r]]];
    else {
      let s = 0;
      for (let j = 0; j < k; j++) s += p[j] * cotangent!.data[items[r] * k + j];
      out[r] = s;
    }
  }
  return out;
}

/** Target scores of output rows: probabilities when asked for, else the run's score kind. */
export function rowScores(
  ctx: ExplainContext<unknown>,
  output: Tensor,
  items: Int32Array,
  probability: boolean,
): ArrayLike<number> {
  return probability ? probabilities(ctx, output, items) : ctx.scores(output, items);
}
