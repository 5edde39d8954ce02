import {
  type BaselineSpec,
  baselineNames,
  checkBaseline,
  type ExplainContext,
  isBaselinePath,
  type Model,
  makeBaseline,
  type OptionSpec,
  type Tensor,
} from '@xlens/core';

/** RNG stream of the `uniform` fill (one item-shaped draw, sample 0, shared by every item). */
const uniformFillStream = 7;

/** Option spec of `fill`: what replaces the perturbed pixels (core's baselines). */
export const fillSpec: OptionSpec = {
  type: 'json',
  doc: `what replaces perturbed pixels: ${baselineNames.join(', ')} (black/white/uniform from model.info.inputRange), a number, a .npy path (read through the run option files) or a tensor`,
};

/** Option spec of `blurSigma`, used by the `blur` fill. */
export const blurSigmaSpec: OptionSpec = {
  type: 'number',
  doc: 'Gaussian blur of the blur fill',
  min: 0,
  unit: 'pixels',
};

/**
 * Check a fill spec before compute. A `.npy` path needs the run option `files`, which `validate`
 * does not see, so paths are read and checked by `makeFill` before the first model pass.
 */
export function checkFill(spec: unknown, model: Model, input: Tensor): void {
  if (!isBaselinePath(spec)) checkBaseline(spec, model, input);
}

/** The fill of every item, `N×inputShape` in the input's layout (core's `makeBaseline`). */
export function makeFill(ctx: ExplainContext<unknown>, spec: BaselineSpec, blurSigma: number): Tensor {
  return makeBaseline(spec, ctx.model, ctx.input, {
    blurSigma,
    rng: ctx.sampleRng(uniformFillStream, 0),
    files: ctx.files,
  });
}
