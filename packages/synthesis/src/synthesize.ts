import type { ExplainContext, MethodResult } from '@xlens/core';
import {
  clampToRange,
  type Geometry,
  geometryOf,
  itemChannelsFirst,
  rangeOf,
  toModelBatch,
} from './image-space.js';
import { objectiveGradients, objectiveValues } from './objective-pass.js';
import { createOptimizer } from './optimizer.js';
import { fourierParametrization, pixelParametrization } from './parametrization.js';
import {
  blurInPlace,
  clipLowContribution,
  clipLowNorm,
  decayTowardsCentre,
  normPrior,
  totalVariation,
} from './regularizers.js';
import type { SynthesisSettings } from './settings.js';
import type { Term } from './terms.js';
import { applyWarp, drawWarp, warpAdjoint } from './transforms.js';

/**
 * What synthesis methods report besides the images (ADR 0006): each image's final objective value
 * (no transformations, no priors); with `snapshotEvery`, the steps kept, the images then
 * (`[S, N, …item]`, model layout) and their objective values (`[S, N]`).
 */
export type SynthesisExtras = {
  readonly objective: number[];
  readonly snapshotSteps?: number[];
  readonly snapshots?: number[];
  readonly objectiveTrace?: number[];
};

/** Sample streams of `ctx.sampleRng` (ADR 0003): the start noise, and the per-step transformations. */
export const initStream = 41;
export const warpStream = 42;

/** Snapshots in `extras`: `snapshotSteps` and the images flattened as `[S, N, …item]` (model layout). */
function snapshotExtras(steps: number[], frames: Float32Array[][], g: Geometry): Record<string, number[]> {
  if (steps.length === 0) return {};
  const flat: number[] = [];
  for (const frame of frames) for (const v of toModelBatch(frame, g).data) flat.push(v);
  return { snapshotSteps: steps, snapshots: flat };
}

/**
 * The optimisation loop shared by the synthesis methods: gradient ascent of Σ terms − priors on a
 * parametrised image per batch item, with per-step random transformations and Yosinski's pixel
 * operators. Items are optimised independently (each has its own θ and optimiser state; a step's
 * random transformation is drawn from (seed, step) and shared), so a batch gives every item the
 * image it gets alone — except under a `diversity` term, which couples them by design. The map is
 * the final images in the model's layout; `extras.objective` their objective values (without
 * transformations or priors), `extras.objectiveTrace` the values at each snapshot (`[S, N]`).
 */
export async function synthesize(
  ctx: ExplainContext<unknown>,
  terms: readonly Term[],
  s: SynthesisSettings,
): Promise<MethodResult<SynthesisExtras>> {
  const g = geometryOf(ctx.model, ctx.input, ctx.method);
  const range = rangeOf(ctx.model, g.c, s.range, ctx.method);
  const param =
    s.parametrization === 'pixel'
      ? pixelParametrization(g, range)
      : fourierParametrization(g, range, s.decayPower, s.decorrelate);
  const shared =
    s.init === 'input'
      ? null
      : param.start(s.init === 'noise' ? ctx.sampleRng(initStream, 0) : null, s.initNoise);
  const thetas = Array.from({ length: g.n }, (_, i) =>
    shared ? shared.slice() : param.fromImage(itemChannelsFirst(ctx.input.data, i, g)),
  );
  const optimizer = createOptimizer(s.optimizer, s.learningRate, g.n, g.size);
  const pixel = s.parametrization === 'pixel';
  const snapSteps: number[] = [];
  const frames: Float32Array[][] = [];
  const trace: number[] = [];
  for (let step = 1; step <= s.steps; step++) {
    ctx.checkAborted();
    const images = thetas.map((t) => param.render(t));
    const warp = drawWarp(ctx.sampleRng(warpStream, step), g, s);
    const seen = warp ? images.map((x) => applyWarp(warp, x, g, range.centre)) : images;
    const grads = await objectiveGradients(ctx, terms, seen, g);
    for (let i = 0; i < g.n; i++) {
      const gObjective = warp ? warpAdjoint(warp, grads[i], g) : grads[i];
      const total = gObjective.slice();
      if (s.l2 > 0) normPrior(images[i], g, range, s.normPower, total, -s.l2);
      if (s.tv > 0) totalVariation(images[i], g, s.tvBeta, total, -s.tv);
      optimizer.ascend(i, thetas[i], param.backward(thetas[i], total, images[i]), step);
      if (!pixel) continue;
      // Yosinski et al. (2015) regularise by operators on the image after each step.
      const x = thetas[i];
      if (s.decay > 0) decayTowardsCentre(x, g, range, s.decay);
      if (s.blurEvery > 0 && step % s.blurEvery === 0) blurInPlace(x, g, s.blurSigma);
      clampToRange(x, g, range);
      if (s.normClip > 0) clipLowNorm(x, g, range, s.normClip);
      if (s.contributionClip > 0) clipLowContribution(x, gObjective, g, range, s.contributionClip);
    }
    if (s.snapshotEvery > 0 && (step % s.snapshotEvery === 0 || step === s.steps)) {
      const frame = thetas.map((t) => param.render(t).slice());
      snapSteps.push(step);
      frames.push(frame);
      trace.push(...(await objectiveValues(ctx, terms, frame, g)));
    }
    ctx.progress(step, s.steps);
  }
  const final = thetas.map((t) => param.render(t).slice());
  return {
    map: toModelBatch(final, g),
    extras: {
      objective: await objectiveValues(ctx, terms, final, g),
      ...(trace.length > 0 ? { objectiveTrace: trace } : {}),
      ...snapshotExtras(snapSteps, frames, g),
    },
  };
}
