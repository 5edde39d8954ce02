import {
  defineExplainer,
  type ExplainContext,
  type Extras,
  type Model,
  multiplicativeNoise,
} from '@xlens/core';
import {
  type BaseMethodOptions,
  type BasePlan,
  baseMethodOptionSpecs,
  checkBaseOptions,
  MapAccumulator,
  resolveBase,
  runBase,
} from './noise-tunnel.js';

/** Options of `noisegrad`. */
export interface NoiseGradOptions extends BaseMethodOptions {
  /** Number of models with noisy weights. */
  readonly models: number;
  /** Standard deviation of the multiplicative weight noise N(1, σ²). */
  readonly sigma: number;
}

/** Shared option specs of the weight-noise wrappers. */
export const weightNoiseOptionSpecs = {
  ...baseMethodOptionSpecs,
  models: { type: 'integer', doc: 'models with noisy weights', min: 1, max: 1_000 },
  sigma: { type: 'number', doc: 'standard deviation of the multiplicative weight noise N(1, σ²)', min: 0 },
} as const;

/** RNG stream of the weight noise of NoiseGrad and FusionGrad. */
export const weightNoiseStream = 2;

/**
 * Call `each` with `count` derived models whose weights (and biases) are multiplied by
 * N(1, σ²) noise, one at a time, disposing each before the next is made. Model m's noise is seeded
 * from `ctx.sampleRng(weightNoiseStream, m)`, so it depends on (seed, m) only. σ = 0 calls it once
 * with the model itself.
 */
export async function forEachNoisyModel(
  ctx: ExplainContext<unknown>,
  count: number,
  sigma: number,
  each: (model: Model, index: number) => Promise<void>,
): Promise<void> {
  if (sigma === 0) return each(ctx.model, 0);
  for (let m = 0; m < count; m++) {
    ctx.checkAborted();
    const seed = ctx.sampleRng(weightNoiseStream, m).int(2 ** 31);
    const derived = await ctx.model.derive!(multiplicativeNoise(sigma, seed));
    try {
      await each(derived, m);
    } finally {
      await derived.dispose();
    }
  }
}

/** Mean of the base maps over noisy models. */
async function meanOverModels(
  ctx: ExplainContext<NoiseGradOptions>,
  plan: BasePlan,
): Promise<MapAccumulator> {
  const acc = new MapAccumulator(ctx.input.shape[0], false);
  const total = ctx.options.sigma === 0 ? 1 : ctx.options.models;
  await forEachNoisyModel(
    ctx as ExplainContext<unknown>,
    ctx.options.models,
    ctx.options.sigma,
    async (model, m) => {
      acc.addResult(await runBase(ctx as ExplainContext<unknown>, plan, ctx.input, model));
      ctx.progress(m + 1, total);
    },
  );
  return acc;
}

/**
 * Bykov, Hedström, Nakajima & Höhne, 2022, "NoiseGrad — Enhancing Explanations by Introducing
 * Stochasticity to Model Weights", AAAI, arXiv:2106.10185. The mean of a base method's maps over
 * `models` copies of the model whose weights are multiplied by N(1, σ²) noise (core's
 * `multiplicativeNoise` through `model.derive`; each copy is disposed after use). Default base:
 * `gradient`; the map has the base's kind; σ = 0 returns the base map. Model m's noise depends on
 * (seed, m) only, so a batch equals its items one by one.
 */
export const noisegrad = defineExplainer<NoiseGradOptions, Extras, 'noisegrad'>({
  id: 'noisegrad',
  family: 'gradients',
  title: 'NoiseGrad',
  citation:
    'Bykov, Hedström, Nakajima & Höhne, 2022, NoiseGrad: Enhancing Explanations by Introducing Stochasticity to Model Weights, AAAI, arXiv:2106.10185',
  description: 'The mean of a base attribution over copies of the model with multiplicative weight noise.',
  requires: ['derive'],
  mapKind: 'input',
  stochastic: true,
  defaults: { base: 'gradient', baseOptions: {}, models: 10, sigma: 0.2 },
  options: weightNoiseOptionSpecs,
  validate: (options) => checkBaseOptions('noisegrad', options.baseOptions),
  async attribute(ctx) {
    const plan = resolveBase(ctx as ExplainContext<unknown>, ctx.options.base, ctx.options.baseOptions);
    if (ctx.options.sigma === 0) return runBase(ctx as ExplainContext<unknown>, plan, ctx.input, ctx.model);
    const acc = await meanOverModels(ctx, plan);
    return { map: acc.result('mean'), mapKind: acc.mapKind, warnings: [...acc.warnings] };
  },
});
