import {
  baselineNames,
  checkBaseline,
  type EvaluateRequest,
  isBaselinePath,
  type MetricContext,
  makeBaseline,
  type OptionSpec,
  type Tensor,
} from '@xlens/core';

/** RNG stream of the `uniform` fill (its one draw is sample 0, shared by every item). */
const fillStream = 71;

/** The option spec of a fill of perturbed pixels (core's baselines). */
export const fillSpec: OptionSpec = {
  type: 'json',
  doc: `values perturbed pixels take: ${baselineNames.join(', ')} (black/white/uniform noise from model.info.inputRange; mean = each item's channel means), a number, a .npy path or a tensor`,
};

/** The option spec of the `blur` fill's σ. */
export const blurSigmaSpec: OptionSpec = {
  type: 'number',
  doc: 'standard deviation of the Gaussian of the blur fill',
  min: 0,
  unit: 'pixels',
};

/** Check a fill against the request's model and input (paths are read when the metric runs). */
export function checkFill(fill: unknown, request: EvaluateRequest): void {
  if (request.model && request.input && !isBaselinePath(fill))
    checkBaseline(fill, request.model, request.input);
}

/** The fill of every item, in the input's shape. A `uniform` fill is one draw shared by every item. */
export function makeFill<O>(ctx: MetricContext<O>, fill: unknown, blurSigma: number): Tensor {
  const s = ctx.stream;
  return makeBaseline(fill as Parameters<typeof makeBaseline>[0], s.model, s.input, {
    blurSigma,
    rng: ctx.sampleRng(fillStream, 0),
    files: s.files,
  });
}
