import type { MetricContext, MetricResult, OptionSpecs } from '@xlens/core';
import { addScaledNoise, foldSamples, itemDistance, itemRanges } from './robust.js';

/** Options of `maxSensitivity` and `avgSensitivity`. */
export interface SensitivityOptions {
  /** Perturbed copies per item. */
  readonly samples: number;
  /** Half-width of the uniform noise, as a fraction of each item's value range (the ball's radius in L∞). */
  readonly radius: number;
  /** Divide by the norm of the unperturbed map (Quantus's choice). */
  readonly relative: boolean;
  /** Divide every map by its maximum |value| first (Quantus's choice). */
  readonly normalize: boolean;
}

export const sensitivityDefaults: SensitivityOptions = {
  samples: 10,
  radius: 0.2,
  relative: false,
  normalize: false,
};

export const sensitivitySpecs: OptionSpecs<SensitivityOptions> = {
  samples: { type: 'integer', doc: 'perturbed copies per item', min: 1 },
  radius: {
    type: 'number',
    doc: 'half-width of the uniform noise',
    min: 0,
    unit: 'fraction of each item’s value range',
  },
  relative: { type: 'boolean', doc: 'divide by the norm of the unperturbed map (Quantus)' },
  normalize: { type: 'boolean', doc: 'divide every map by its max |value| first (Quantus)' },
};

/** RNG stream of the noise images (sample = perturbation index). */
const noiseStream = 31;

function maxAbsScaled(maps: Float32Array, n: number): Float32Array {
  const per = maps.length / n;
  const out = new Float32Array(maps.length);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let e = 0; e < per; e++) m = Math.max(m, Math.abs(maps[i * per + e]));
    for (let e = 0; e < per; e++) out[i * per + e] = m > 0 ? maps[i * per + e] / m : 0;
  }
  return out;
}

/**
 * Max- or avg-sensitivity (Yeh et al. 2019): the largest or mean L2 change of the explainer's map
 * when the input is perturbed by uniform noise within the radius, over `samples` draws.
 */
export async function sensitivity(
  ctx: MetricContext<SensitivityOptions>,
  reduce: 'max' | 'mean',
): Promise<MetricResult> {
  const { options, n } = ctx;
  const input = ctx.stream.input;
  const hw = ctx.height * ctx.width;
  const per = input.data.length / n;
  const ranges = itemRanges(input, n);
  const prep = (t: { data: Float32Array; shape: readonly number[] }) =>
    options.normalize ? { data: maxAbsScaled(t.data, n), shape: t.shape } : t;
  const base = prep(await ctx.explain(input));
  const acc = new Float64Array(n).fill(reduce === 'max' ? Number.NEGATIVE_INFINITY : 0);
  await foldSamples(
    ctx,
    options.samples,
    (s) => {
      const z = ctx.sampleRng(noiseStream, s).fillUniform(new Float32Array(per), -1, 1);
      return addScaledNoise(input, z, options.radius, ranges);
    },
    (_s, _x, maps) => {
      const m = prep(maps);
      for (let i = 0; i < n; i++) {
        const d = itemDistance(m, base, i, hw);
        acc[i] = reduce === 'max' ? Math.max(acc[i], d) : acc[i] + d / options.samples;
      }
    },
  );
  const warnings: string[] = [];
  const scores = Float64Array.from(acc, (v, i) => {
    if (!options.relative) return v;
    const norm = itemDistance(base, null, i, hw);
    if (norm === 0) warnings.push(`item ${i}: the unperturbed map is zero; no relative score`);
    return norm > 0 ? v / norm : Number.NaN;
  });
  return { scores, warnings };
}
