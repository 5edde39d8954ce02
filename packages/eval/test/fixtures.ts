import {
  createRng,
  defineExplainer,
  type Explainer,
  type Layout,
  type Model,
  reduceChannels,
  type Tensor,
} from '@xlens/core';
import { referenceModel } from '@xlens/core/testing';

/** A linear model f_k(x) = w_k · x (no bias) with seeded weights, and its weights. */
export function linearModel(
  options: { c?: number; h?: number; w?: number; classes?: number; seed?: number; layout?: Layout } = {},
): { model: Model; weights: Float32Array; c: number; h: number; w: number } {
  const { c = 3, h = 6, w = 6, classes = 3, seed = 1, layout = 'NCHW' } = options;
  const size = c * h * w;
  const weights = createRng(seed, 5).fillNormal(new Float32Array(classes * size), 0, 1);
  const model = referenceModel(
    {
      name: 'linear',
      inputShape: [c, h, w],
      numClasses: classes,
      layers: [
        { type: 'flatten', name: 'flatten' },
        {
          type: 'dense',
          name: 'fc',
          inFeatures: size,
          outFeatures: classes,
          weight: Array.from(weights),
          bias: Array(classes).fill(0),
        },
      ],
    },
    { layout, inputRange: [0, 1] },
  );
  return { model, weights, c, h, w };
}

/** A seeded batch of `n` items in the model's input shape, values in [low, high). */
export function batch(model: Model, n: number, seed: number, low = 0, high = 1): Tensor {
  const shape = [n, ...model.info.inputShape];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  createRng(seed, 9).fillUniform(data, low, high);
  return { data, shape };
}

/** Seeded maps `N×H×W`. */
export function randomMaps(n: number, h: number, w: number, seed: number, low = -1, high = 1): Tensor {
  const data = new Float32Array(n * h * w);
  createRng(seed, 11).fillUniform(data, low, high);
  return { data, shape: [n, h, w] };
}

/**
 * The exact contribution of each pixel of a linear model's target to its logit against a zero
 * fill: Σ over channels of w ⊙ x (Gradient ⊙ Input, summed over channels), `N×H×W`.
 */
export function trueMaps(
  model: Model,
  weights: Float32Array,
  input: Tensor,
  targets: readonly number[],
): Tensor {
  const per = input.data.length / input.shape[0];
  const layout = model.info.layout;
  const [c, h, w] =
    layout === 'NCHW'
      ? model.info.inputShape
      : [model.info.inputShape[2], model.info.inputShape[0], model.info.inputShape[1]];
  const gi = new Float32Array(input.data.length);
  for (let i = 0; i < input.shape[0]; i++)
    for (let k = 0; k < c; k++)
      for (let p = 0; p < h * w; p++) {
        const e = layout === 'NCHW' ? k * h * w + p : p * c + k;
        // The reference model's dense weights index the channels-first flattening.
        gi[i * per + e] = input.data[i * per + e] * weights[targets[i] * per + k * h * w + p];
      }
  return reduceChannels({ data: gi, shape: input.shape }, layout, 'sum');
}

/** Gradient ⊙ Input as a test explainer (input-shaped map). */
export const gradientTimesInput: Explainer<Record<never, never>> = defineExplainer<Record<never, never>>({
  id: 'test-gradient-x-input',
  family: 'gradients',
  title: 'Gradient ⊙ Input (test)',
  citation: 'test',
  description: 'test',
  requires: ['gradients'],
  mapKind: 'input',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const g = await ctx.gradient({ input: ctx.input });
    const grad = g.inputGradient as Tensor;
    return { map: { data: grad.data.map((v, e) => v * ctx.input.data[e]), shape: grad.shape } };
  },
});

/** The raw input gradient as a test explainer. */
export const plainGradient: Explainer<Record<never, never>> = defineExplainer<Record<never, never>>({
  id: 'test-gradient',
  family: 'gradients',
  title: 'Gradient (test)',
  citation: 'test',
  description: 'test',
  requires: ['gradients'],
  mapKind: 'input',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const g = await ctx.gradient({ input: ctx.input });
    return { map: g.inputGradient as Tensor };
  },
});

/**
 * A seeded stochastic explainer for tests: the mean input gradient over `samples` noisy copies,
 * with sample s's noise drawn from (seed, s) only, as ADR 0003 asks (pixel map: channel sums).
 */
export const noisyGradient: Explainer<{ samples: number; sigma: number }> = defineExplainer<{
  samples: number;
  sigma: number;
}>({
  id: 'test-noisy-gradient',
  family: 'gradients',
  title: 'Noisy gradient (test)',
  citation: 'test',
  description: 'test',
  requires: ['gradients'],
  mapKind: 'input',
  stochastic: true,
  defaults: { samples: 2, sigma: 0.3 },
  options: {
    samples: { type: 'integer', doc: 'samples', min: 1 },
    sigma: { type: 'number', doc: 'noise', min: 0 },
  },
  async attribute(ctx) {
    const per = ctx.input.data.length / ctx.input.shape[0];
    const sum = new Float32Array(ctx.input.data.length);
    for (let s = 0; s < ctx.options.samples; s++) {
      const z = ctx.sampleRng(1, s).fillNormal(new Float32Array(per), 0, ctx.options.sigma);
      const x = ctx.input.data.map((v, e) => v + z[e % per]);
      const g = await ctx.gradient({ input: { data: x, shape: ctx.input.shape } });
      const grad = (g.inputGradient as Tensor).data;
      for (let e = 0; e < sum.length; e++) sum[e] += grad[e] / ctx.options.samples;
    }
    return { map: { data: sum, shape: ctx.input.shape } };
  },
});

/** An explainer whose map ignores the input (a constant ramp), for robustness tests. */
export const constantExplainer: Explainer<Record<never, never>> = defineExplainer<Record<never, never>>({
  id: 'test-constant',
  family: 'other',
  title: 'Constant (test)',
  citation: 'test',
  description: 'test',
  requires: [],
  mapKind: 'pixel',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const [n, ...rest] = ctx.input.shape;
    const layout = ctx.model.info.layout;
    const [h, w] = layout === 'NCHW' ? [rest[1], rest[2]] : [rest[0], rest[1]];
    return {
      map: { data: Float32Array.from({ length: n * h * w }, (_, e) => e % (h * w)), shape: [n, h, w] },
    };
  },
});

/** Items `[start, end)` of a batch (copied). */
export function slice(t: Tensor, start: number, end: number): Tensor {
  const per = t.data.length / t.shape[0];
  return { data: t.data.slice(start * per, end * per), shape: [end - start, ...t.shape.slice(1)] };
}

/** A smooth signed 24×24 map: a bright blob and a dimmer negative ridge. */
export function smoothMap(): Float32Array {
  const m = new Float32Array(24 * 24);
  for (let y = 0; y < 24; y++)
    for (let x = 0; x < 24; x++)
      m[y * 24 + x] = Math.exp(-((x - 8) ** 2 + (y - 10) ** 2) / 18) - 0.5 * Math.exp(-((x - 17) ** 2) / 6);
  return m;
}

/** `m` plus seeded Gaussian noise of standard deviation `level`. */
export function withNoise(m: Float32Array, level: number, seed: number): Float32Array {
  const z = createRng(seed).fillNormal(new Float32Array(m.length));
  return m.map((v, i) => v + level * z[i]);
}

/** One 24×24 map as a batch of one. */
export const oneMap = (m: Float32Array): Tensor => ({ data: m, shape: [1, 24, 24] });

/** Scores of a similarity metric for a map against itself, light noise and heavy noise. */
export async function selfAndNoise(
  metric: {
    evaluate(r: { maps: Tensor; reference: Tensor }, o?: object): Promise<{ scores: readonly number[] }>;
  },
  options: object = {},
): Promise<[number, number, number]> {
  const m = smoothMap();
  const score = async (ref: Float32Array) =>
    (await metric.evaluate({ maps: oneMap(m), reference: oneMap(ref) }, options)).scores[0];
  return [await score(m), await score(withNoise(m, 0.05, 1)), await score(withNoise(m, 1, 1))];
}
