import {
  argmaxRows,
  type Check,
  chunkRanges,
  defineCheck,
  imageDims,
  type Model,
  type Tensor,
} from '@xlens/core';
import { finiteMean, topKShare } from './internal/checks.js';
import { plane, spearman } from './internal/stats.js';

/** Options of `fragility`. */
export interface FragilityOptions {
  /** L∞ budget as a share of the input range's width (1 without a range): Ghorbani et al.'s 8/255. */
  readonly epsilon: number;
  /** Random-sign perturbations tried (each one explainer call over the batch). */
  readonly samples: number;
  /** Steps of the iterative attack. */
  readonly steps: number;
  /** Random-sign candidates per step (explained together, `N × candidates` rows). */
  readonly candidates: number;
  /** Share of the pixels in the top-k sets (at least one pixel). */
  readonly fraction: number;
}

/** Lower and upper bound of every value of one item (from `inputRange`, ±Infinity without one). */
function bounds(model: Model, input: Tensor): { lo: Float32Array; hi: Float32Array; width: number } {
  const per = input.data.length / input.shape[0];
  const lo = new Float32Array(per).fill(Number.NEGATIVE_INFINITY);
  const hi = new Float32Array(per).fill(Number.POSITIVE_INFINITY);
  const range = model.info.inputRange;
  if (!range) return { lo, hi, width: 1 };
  const { c, h, w } = imageDims(input.shape, model.info.layout);
  const pairs = (typeof range[0] === 'number' ? [range] : range) as readonly (readonly [number, number])[];
  let width = 0;
  for (let e = 0; e < per; e++) {
    const ch = model.info.layout === 'NCHW' ? Math.floor(e / (h * w)) : e % c;
    const [a, b] = pairs.length === 1 ? pairs[0] : pairs[ch];
    lo[e] = a;
    hi[e] = b;
    width = Math.max(width, b - a);
  }
  return { lo, hi, width };
}

/**
 * Ghorbani, Abid & Zou, 2019, "Interpretation of Neural Networks Is Fragile", AAAI,
 * arXiv:1710.10547 — fragility of maps under perturbations that keep the prediction. Two attacks
 * within an L∞ ball of radius ε (a share `epsilon` of the input range, clipped to the range):
 * *random sign* — x + ε·s for `samples` random sign images s, the paper's baseline; *iterative
 * top-k* — from each item's best random-sign point, `steps` steps of size ε/2, each trying
 * `candidates` random-sign directions (explained in one batched call) and moving to the one whose
 * map shares the fewest of the original top-k pixels, projected back onto the ball (so it is never
 * weaker than the random-sign attack). The paper's iterative attack follows the
 * gradient of the top-k mass, a second derivative the `Model` contract does not offer; this is a
 * random-search version of it, so it finds weaker attacks and bounds fragility from below.
 * Candidates whose top class changes are discarded. Draws are shared by all items (ADR 0003), so a
 * batch gives each item the result it gets alone.
 *
 * Reported per attack: top-k intersection with the original map (k a `fraction` of the pixels,
 * by magnitude) and Spearman rank correlation of magnitudes, for the perturbation with the
 * lowest intersection. Pass (the map is robust): mean top-k intersection after the iterative
 * attack above 0.5 — at least half of the most important pixels survive.
 */
export const fragility: Check<FragilityOptions> = defineCheck<FragilityOptions>({
  id: 'fragility',
  title: 'Fragility',
  citation:
    'Ghorbani, Abid & Zou, 2019, Interpretation of Neural Networks Is Fragile, AAAI, arXiv:1710.10547',
  description:
    'Perturbations of the input that keep the prediction but move the map: how many of the top-k pixels survive random-sign and iterative attacks.',
  needs: ['model', 'explainer'],
  requires: [],
  threshold: {
    statistic: 'top-k-intersection',
    pass: 'above',
    value: 0.5,
    rationale:
      'a robust map keeps at least half of its most important pixels under a perturbation that keeps the prediction',
  },
  stochastic: true,
  defaults: { epsilon: 8 / 255, samples: 8, steps: 8, candidates: 8, fraction: 0.05 },
  options: {
    epsilon: { type: 'number', doc: 'L∞ budget as a share of the input range width', min: 0, max: 1 },
    samples: { type: 'integer', doc: 'random-sign perturbations tried', min: 0 },
    steps: { type: 'integer', doc: 'steps of the iterative attack', min: 1 },
    candidates: { type: 'integer', doc: 'random directions tried per step', min: 1 },
    fraction: { type: 'number', doc: 'share of the pixels in the top-k sets', min: 0, max: 1 },
  },
  async compute(ctx) {
    const { samples, steps, candidates, fraction } = ctx.options;
    const { model, input } = ctx;
    const n = input.shape[0];
    const per = input.data.length / n;
    const { lo, hi, width } = bounds(model, input);
    const eps = ctx.options.epsilon * width;
    const classes = Array.isArray(ctx.target)
      ? (ctx.target as readonly number[])
      : Array.from(argmaxRows(await model.forward(input)));
    const original = (await ctx.explain(model, input)).maps;
    const hw = original.data.length / n;
    const k = Math.max(1, Math.round(fraction * hw));
    const total = samples + steps;
    let done = 0;

    /** Explain `rows` (item-major, `reps` rows per item) and score each row against its item's original map. */
    const attackRows = async (rows: Float32Array, reps: number) => {
      const x: Tensor = { data: rows, shape: [n * reps, ...input.shape.slice(1)] };
      const predicted = new Int32Array(n * reps);
      for (const [s, e] of chunkRanges(n * reps, ctx.batchSize)) {
        ctx.checkAborted();
        const out = await model.forward({
          data: rows.subarray(s * per, e * per),
          shape: [e - s, ...input.shape.slice(1)],
        });
        predicted.set(argmaxRows(out), s);
      }
      const target = Array.from({ length: n * reps }, (_, r) => classes[Math.floor(r / reps)]);
      const maps = (await ctx.explain(model, x, { target })).maps;
      return Array.from({ length: n * reps }, (_, r) => {
        const i = Math.floor(r / reps);
        const kept = predicted[r] === classes[i];
        const a = plane(original.data, i, hw);
        const b = plane(maps.data, r, hw);
        return {
          kept,
          topK: topKShare(a, b, k),
          rank: spearman(a.map(Math.abs), b.map(Math.abs)),
        };
      });
    };
    // Into the ball and the input range; an input value already outside the range bounds its side.
    const clip = (v: number, e: number, centre: number): number =>
      Math.min(
        Math.max(hi[e], centre),
        Math.max(Math.min(lo[e], centre), Math.min(centre + eps, Math.max(centre - eps, v))),
      );
    const signs = (stream: number, sample: number): Float32Array => {
      const rng = ctx.sampleRng(stream, sample);
      return Float32Array.from({ length: per }, () => (rng.uniform() < 0.5 ? -1 : 1));
    };

    // Random sign: every sample explained over the whole batch; keep each item's worst.
    const rsTopK = new Float64Array(n).fill(1);
    const rsRank = new Float64Array(n).fill(1);
    // Where the iterative attack starts: each item's best random-sign point (the input if none).
    const start = Float32Array.from(input.data);
    let keptRows = 0;
    let triedRows = 0;
    for (let s = 0; s < samples; s++) {
      const sign = signs(1, s);
      const rows = new Float32Array(n * per);
      for (let i = 0; i < n; i++)
        for (let e = 0; e < per; e++)
          rows[i * per + e] = clip(input.data[i * per + e] + eps * sign[e], e, input.data[i * per + e]);
      const scored = await attackRows(rows, 1);
      scored.forEach((r, i) => {
        triedRows++;
        if (!r.kept) return;
        keptRows++;
        if (r.topK < rsTopK[i] || (r.topK === rsTopK[i] && r.rank < rsRank[i])) {
          rsTopK[i] = r.topK;
          rsRank[i] = r.rank;
          start.set(rows.subarray(i * per, (i + 1) * per), i * per);
        }
      });
      ctx.progress(++done, total);
    }

    // Iterative random search: move each item to its best prediction-keeping candidate.
    const current = start;
    const itTopK = Float64Array.from(rsTopK);
    const itRank = Float64Array.from(rsRank);
    const step = eps / 2;
    for (let t = 0; t < steps; t++) {
      const rows = new Float32Array(n * candidates * per);
      for (let c = 0; c < candidates; c++) {
        const sign = signs(2, t * candidates + c);
        for (let i = 0; i < n; i++)
          for (let e = 0; e < per; e++) {
            const r = (i * candidates + c) * per + e;
            rows[r] = clip(current[i * per + e] + step * sign[e], e, input.data[i * per + e]);
          }
      }
      const scored = await attackRows(rows, candidates);
      for (let i = 0; i < n; i++) {
        let best = -1;
        for (let c = 0; c < candidates; c++) {
          const r = scored[i * candidates + c];
          triedRows++;
          if (!r.kept) continue;
          keptRows++;
          const b = best < 0 ? null : scored[i * candidates + best];
          if (!b || r.topK < b.topK || (r.topK === b.topK && r.rank < b.rank)) best = c;
        }
        if (best < 0) continue;
        const r = scored[i * candidates + best];
        if (r.topK < itTopK[i] || (r.topK === itTopK[i] && r.rank < itRank[i])) {
          itTopK[i] = r.topK;
          itRank[i] = r.rank;
          current.set(
            rows.subarray((i * candidates + best) * per, (i * candidates + best + 1) * per),
            i * per,
          );
        }
      }
      ctx.progress(++done, total);
    }
    let linf = 0;
    for (let e = 0; e < current.length; e++) linf = Math.max(linf, Math.abs(current[e] - input.data[e]));
    return {
      statistics: {
        'top-k-intersection': finiteMean(itTopK),
        'spearman-abs': finiteMean(itRank),
        'random-sign/top-k-intersection': samples > 0 ? finiteMean(rsTopK) : Number.NaN,
        'random-sign/spearman-abs': samples > 0 ? finiteMean(rsRank) : Number.NaN,
        'kept-prediction': triedRows > 0 ? keptRows / triedRows : Number.NaN,
        linf: linf,
        k,
      },
      perItem: {
        'top-k-intersection': itTopK,
        'spearman-abs': itRank,
        'random-sign/top-k-intersection': rsTopK,
        'random-sign/spearman-abs': rsRank,
      },
    };
  },
});
