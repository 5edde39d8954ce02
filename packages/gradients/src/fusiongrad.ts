import { defineExplainer, type ExplainContext, type Extras } from '@xlens/core';
import {
  addNoisySamples,
  checkBaseOptions,
  inputNoiseStream,
  MapAccumulator,
  resolveBase,
  runBase,
} from './noise-tunnel.js';
import { forEachNoisyModel, type NoiseGradOptions, weightNoiseOptionSpecs } from './noisegrad.js';

/** Options of `fusiongrad`: NoiseGrad's plus SmoothGrad's input noise. */
export interface FusionGradOptions extends NoiseGradOptions {
  /** Noisy input copies per item and model. */
  readonly samples: number;
  /** Input noise standard deviation as a fraction of each item's value range (max − min). */
  readonly inputSigma: number;
}

/**
 * Bykov, Hedström, Nakajima & Höhne, 2022, "NoiseGrad — Enhancing Explanations by Introducing
 * Stochasticity to Model Weights", AAAI, arXiv:2106.10185. FusionGrad: the mean of a base method's
 * maps over `models` copies of the model with N(1, σ²) weight noise and, for each, `samples` noisy
 * copies of the input (SmoothGrad noise of `inputSigma`·(max − min)). Default base: `gradient`.
 * With both σ = 0 it returns the base map. Model m's weight noise is NoiseGrad's (seeded from
 * `sampleRng(weightNoiseStream, m)`); its input sample s is SmoothGrad's sample m·samples + s
 * (`sampleRng(inputNoiseStream, m·samples + s)`), so every (model, sample) pair has its own input
 * noise, σ = 0 gives SmoothGrad and `inputSigma` = 0 gives NoiseGrad for the same seed, and a batch
 * equals its items one by one.
 */
export const fusiongrad = defineExplainer<FusionGradOptions, Extras, 'fusiongrad'>({
  id: 'fusiongrad',
  family: 'gradients',
  title: 'FusionGrad',
  citation:
    'Bykov, Hedström, Nakajima & Höhne, 2022, NoiseGrad: Enhancing Explanations by Introducing Stochasticity to Model Weights, AAAI, arXiv:2106.10185',
  description:
    'The mean of a base attribution over noisy-weight copies of the model and noisy copies of the input.',
  requires: ['derive'],
  mapKind: 'input',
  stochastic: true,
  defaults: { base: 'gradient', baseOptions: {}, models: 10, sigma: 0.2, samples: 10, inputSigma: 0.15 },
  options: {
    ...weightNoiseOptionSpecs,
    samples: { type: 'integer', doc: 'noisy input copies per item and model', min: 1, max: 10_000 },
    inputSigma: {
      type: 'number',
      doc: 'input noise standard deviation as a fraction of each item’s value range (max − min)',
      min: 0,
      unit: 'fraction of range',
    },
  },
  validate: (options) => checkBaseOptions('fusiongrad', options.baseOptions),
  async attribute(ctx) {
    const { options } = ctx;
    const plain = ctx as ExplainContext<unknown>;
    const plan = resolveBase(plain, options.base, options.baseOptions);
    if (options.sigma === 0 && options.inputSigma === 0) return runBase(plain, plan, ctx.input, ctx.model);
    const n = ctx.input.shape[0];
    const models = options.sigma === 0 ? 1 : options.models;
    const samples = options.inputSigma === 0 ? 1 : options.samples;
    const total = models * samples * n;
    const acc = new MapAccumulator(n, false);
    await forEachNoisyModel(plain, options.models, options.sigma, async (model, m) => {
      const progress = (done: number) => ctx.progress(m * samples * n + done, total);
      if (options.inputSigma === 0) {
        acc.addResult(await runBase(plain, plan, ctx.input, model));
        progress(n);
      } else {
        await addNoisySamples(
          plain,
          plan,
          {
            samples,
            sigma: options.inputSigma,
            model,
            stream: inputNoiseStream,
            firstSample: m * samples,
            progress,
          },
          acc,
        );
      }
    });
    return { map: acc.result('mean'), mapKind: acc.mapKind, warnings: [...acc.warnings] };
  },
});
