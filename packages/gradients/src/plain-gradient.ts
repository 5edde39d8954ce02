import type { BackwardRules, Capability, ExplainContext, Layout, MethodResult, Tensor } from '@xlens/core';

/**
 * What makes a method a "plain gradient" method: one backward pass (optionally with backward
 * rules) followed by an element-wise or per-pixel post-processing of the input gradient. Knowing
 * this lets the SmoothGrad family batch noisy copies of every item into one stream of backward
 * passes instead of running the method once per sample.
 */
export interface PlainGradient<O> {
  /** Backward rules of the pass; absent for the ordinary gradient. */
  readonly rules?: BackwardRules;
  /** Capabilities the pass needs. */
  readonly requires: readonly Capability[];
  /** The map of rows `input` (`M×inputShape`) from their input gradient `gradient`. */
  toMap(input: Tensor, gradient: Tensor, options: Readonly<O>, layout: Layout): Tensor;
}

/** The map of `input`'s rows (of any model and item assignment) under a plain gradient method. */
export async function plainGradientMap<O>(
  ctx: ExplainContext<unknown>,
  plain: PlainGradient<O>,
  options: Readonly<O>,
  input: Tensor,
  extra: { items?: readonly number[]; model?: ExplainContext<unknown>['model'] } = {},
): Promise<Tensor> {
  const result = await ctx.gradient({ input, items: extra.items, model: extra.model, rules: plain.rules });
  return plain.toMap(input, result.inputGradient!, options, ctx.model.info.layout);
}

/** The `attribute` of a plain gradient method: its map of the context's own input. */
export function plainAttribute<O>(
  plain: PlainGradient<O>,
): (ctx: ExplainContext<O>) => Promise<MethodResult> {
  return async (ctx) => ({
    map: await plainGradientMap(ctx as ExplainContext<unknown>, plain, ctx.options, ctx.input),
  });
}
