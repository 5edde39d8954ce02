import { defineExplainer, type ExplainContext, type Extras, type MethodResult } from '@xlens/core';
import {
  addNoisySamples,
  type BaseMethodOptions,
  baseMethodOptionSpecs,
  checkBaseOptions,
  inputNoiseStream,
  MapAccumulator,
  resolveBase,
  runBase,
} from './noise-tunnel.js';

/** Options of `smoothgrad` and `vargrad`. */
export interface SmoothGradOptions extends BaseMethodOptions {
  /** Noisy copies per item. */
  readonly samples: number;
  /** Noise standard deviation as a fraction of each item's value range (max − min). */
  readonly sigma: number;
}

/** Shared option specs of the noisy-input wrappers. */
export const noiseTunnelOptionSpecs = {
  ...baseMethodOptionSpecs,
  samples: { type: 'integer', doc: 'noisy copies of each item', min: 1, max: 10_000 },
  sigma: {
    type: 'number',
    doc: 'noise standard deviation as a fraction of each item’s value range (max − min)',
    min: 0,
    unit: 'fraction of range',
  },
} as const;

/** Mean (SmoothGrad) or variance (VarGrad) of the base maps over noisy copies of the input. */
export async function noisyInputAttribute(
  ctx: ExplainContext<SmoothGradOptions>,
  kind: 'mean' | 'variance',
): Promise<MethodResult> {
  const { options } = ctx;
  const plan = resolveBase(ctx as ExplainContext<unknown>, options.base, options.baseOptions);
  if (options.sigma === 0) {
    // No noise: every sample is the base map, so return it exactly (variance: exactly zero).
    const result = await runBase(ctx as ExplainContext<unknown>, plan, ctx.input, ctx.model);
    return kind === 'mean'
      ? result
      : {
          ...result,
          map: { data: new Float32Array(result.map.data.length), shape: result.map.shape },
          extras: {},
        };
  }
  const acc = new MapAccumulator(ctx.input.shape[0], kind === 'variance');
  const total = options.samples * ctx.input.shape[0];
  const run = {
    samples: options.samples,
    sigma: options.sigma,
    model: ctx.model,
    // FusionGrad draws from the same stream (model m's samples at m·samples + s): σ_w = 0 gives SmoothGrad.
    stream: inputNoiseStream,
    progress: (d: number) => ctx.progress(d, total),
  };
  await addNoisySamples(ctx as ExplainContext<unknown>, plan, run, acc);
  return { map: acc.result(kind), mapKind: acc.mapKind, warnings: [...acc.warnings] };
}

/**
 * Smilkov, Thorat, Kim, Viégas & Wattenberg, 2017, "SmoothGrad: removing noise by adding noise",
 * arXiv:1706.03825. The mean of a base method's maps over `samples` copies of each item with
 * Gaussian noise of standard deviation `sigma·(max − min)` of that item. Wraps any explainer
 * (default base: `gradient`, the paper's raw gradient); the map has the base's kind. σ = 0 returns
 * the base map exactly. Noise depends on (seed, sample) only, so a batch equals its items one by
 * one; plain gradient bases stream the samples × items rows in chunks of `batchSize`.
 */
export const smoothgrad = defineExplainer<SmoothGradOptions, Extras, 'smoothgrad'>({
  id: 'smoothgrad',
  family: 'gradients',
  title: 'SmoothGrad',
  citation:
    'Smilkov, Thorat, Kim, Viégas & Wattenberg, 2017, SmoothGrad: removing noise by adding noise, arXiv:1706.03825',
  description: 'The mean of a base attribution over noisy copies of the input.',
  requires: [],
  mapKind: 'input',
  stochastic: true,
  defaults: { base: 'gradient', baseOptions: {}, samples: 25, sigma: 0.15 },
  options: noiseTunnelOptionSpecs,
  validate: (options) => checkBaseOptions('smoothgrad', options.baseOptions),
  attribute: (ctx) => noisyInputAttribute(ctx, 'mean'),
});
