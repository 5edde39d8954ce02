import { defineExplainer, type ExplainContext, resizeBilinear, type Tensor } from '@xlens/core';
import { runChannelJobs } from './internal/channel-jobs.js';
import { finishCam, inputSize, isConstantChannel, weightedSum } from './internal/combine.js';
import {
  type CamCommonOptions,
  camCommonOptionSpecs,
  camDefaults,
  targetLayers,
  validateCam,
} from './internal/layers.js';

/** Options of Score-CAM (the common CAM options). */
export type ScoreCamOptions = CamCommonOptions;

/** Input item `b` multiplied by a `H×W` mask, broadcast over the channels in the model's layout. */
function maskItem(
  ctx: ExplainContext<unknown>,
  b: number,
  mask: Float32Array,
  out: Float32Array,
  offset: number,
): void {
  const [, d1, d2, d3] = ctx.input.shape;
  const per = d1 * d2 * d3;
  const hw = mask.length;
  const x = ctx.input.data;
  if (ctx.model.info.layout === 'NCHW') {
    for (let c = 0; c < d1; c++)
      for (let p = 0; p < hw; p++) out[offset + c * hw + p] = x[b * per + c * hw + p] * mask[p];
  } else {
    for (let p = 0; p < hw; p++)
      for (let c = 0; c < d3; c++) out[offset + p * d3 + c] = x[b * per + p * d3 + c] * mask[p];
  }
}

/**
 * Channel `k` of item `b` upsampled to the input size and min–max scaled to [0, 1], or null when
 * it is constant (max = min: no mask is defined).
 */
function channelMask(a: Tensor, b: number, k: number, height: number, width: number): Float32Array | null {
  const [, c, h, w] = a.shape;
  const plane = { data: a.data.subarray((b * c + k) * h * w, (b * c + k + 1) * h * w), shape: [1, h, w] };
  const up = resizeBilinear(plane, height, width).data;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of up) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(hi > lo)) return null;
  for (let i = 0; i < up.length; i++) up[i] = (up[i] - lo) / (hi - lo);
  return up;
}

/**
 * Score-CAM — Wang, Wang, Du, Yang, Zhang, Ding, Mardziel, Hu, 2020, "Score-CAM: Score-Weighted
 * Visual Explanations for Convolutional Neural Networks", CVPR Workshops, arXiv:1910.01279.
 *
 * Each channel, upsampled and min–max scaled, masks the input; the masked inputs are scored
 * (streamed by core, `ctx.streamForward`, in chunks of `batchSize`). Weights are the softmax over
 * channels of the score increase against a baseline, `M = ReLU(Σ_k w_k A^k)`. The softmax is
 * shift-invariant, so the baseline's score cancels exactly and is not computed. Constant channels
 * have no defined mask and get weight 0 (counted in `extras.constantChannels`). The score follows
 * the run's `score` option (logit by default; the paper scored with softmax probabilities).
 */
export const scoreCam = defineExplainer<ScoreCamOptions, { constantChannels: number[] }, 'score-cam', true>({
  id: 'score-cam',
  family: 'cam',
  title: 'Score-CAM',
  citation:
    'Wang et al., 2020, Score-CAM: Score-Weighted Visual Explanations for CNNs, CVPR Workshops; arXiv:1910.01279',
  description:
    'Channels weighted by how much the target score rises when the input is masked with them (no gradients).',
  requires: ['layers', 'capture'],
  mapKind: 'pixel',
  defaults: camDefaults(true),
  options: camCommonOptionSpecs,
  validate: validateCam('score-cam'),
  async attribute(ctx) {
    const layers = targetLayers(ctx.model, ctx.options);
    const { activations } = await ctx.capture(
      ctx.input,
      layers.map((l) => l.name),
    );
    const size = inputSize(ctx.model, ctx.input);
    const n = ctx.input.shape[0];
    const per = ctx.input.data.length / n;
    const acts = layers.map((layer) => activations[layer.name]);
    const scores = acts.map((a) => new Float64Array(n * a.shape[1]));
    const scored = acts.map((a) => new Uint8Array(n * a.shape[1]));
    const mask = (a: Tensor, b: number, k: number) => channelMask(a, b, k, size.height, size.width);
    // A mask is built for its row only: one H×W plane per job would otherwise be alive for the
    // whole layer. Bilinear upsampling keeps a non-constant channel non-constant, so only a layer
    // larger than the input (downsampled masks) needs the mask itself to tell.
    const keep = (a: Tensor, b: number, k: number) =>
      !isConstantChannel(a, b, k) &&
      ((a.shape[2] <= size.height && a.shape[3] <= size.width) || mask(a, b, k) !== null);
    await runChannelJobs(ctx, acts, keep, ({ layer: li, jobs, items, progress }) => {
      const a = acts[li];
      const c = a.shape[1];
      const input = (s: number, e: number): Tensor => {
        const rows = new Float32Array((e - s) * per);
        for (let r = s; r < e; r++)
          maskItem(ctx, jobs[r].b, mask(a, jobs[r].b, jobs[r].k)!, rows, (r - s) * per);
        return { data: rows, shape: [e - s, ...ctx.input.shape.slice(1)] };
      };
      return ctx.streamForward({ rows: jobs.length, items, progress, input }, (chunk) => {
        const got = ctx.scores(chunk.output, chunk.items);
        for (let r = chunk.start; r < chunk.end; r++) {
          const { b, k } = jobs[r];
          scores[li][b * c + k] = got[r - chunk.start];
          scored[li][b * c + k] = 1;
        }
      });
    });
    const constantChannels = new Array<number>(n).fill(0);
    const maps = layers.map((layer, li) => {
      const a = acts[li];
      const c = a.shape[1];
      const [sc, ok] = [scores[li], scored[li]];
      const weights = new Float64Array(n * c);
      for (let b = 0; b < n; b++) {
        let top = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < c; k++) if (ok[b * c + k]) top = Math.max(top, sc[b * c + k]);
        let z = 0;
        for (let k = 0; k < c; k++) if (ok[b * c + k]) z += Math.exp(sc[b * c + k] - top);
        for (let k = 0; k < c; k++) {
          if (ok[b * c + k]) weights[b * c + k] = Math.exp(sc[b * c + k] - top) / z;
          else constantChannels[b]++;
        }
      }
      return weightedSum(a, weights, layer.name);
    });
    return finishCam(maps, layers, ctx.options, size, { constantChannels });
  },
});
