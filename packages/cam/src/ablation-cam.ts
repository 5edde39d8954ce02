import { defineExplainer, type Tensor } from '@xlens/core';
import { runChannelJobs } from './internal/channel-jobs.js';
import { finishCam, inputSize, weightedSum } from './internal/combine.js';
import {
  type CamCommonOptions,
  camCommonOptionSpecs,
  camDefaults,
  targetLayers,
  validateCam,
} from './internal/layers.js';
import { gatherRows } from './internal/rows.js';

/** Options of Ablation-CAM (the common CAM options). */
export type AblationCamOptions = CamCommonOptions;

/** Whether channel `k` of item `b` is zero everywhere (ablating it changes nothing). */
function isZeroChannel(a: Tensor, b: number, k: number): boolean {
  const [, c, h, w] = a.shape;
  const base = (b * c + k) * h * w;
  for (let p = 0; p < h * w; p++) if (a.data[base + p] !== 0) return false;
  return true;
}

/**
 * Ablation-CAM — Desai & Ramaswamy, 2020, "Ablation-CAM: Visual Explanations for Deep
 * Convolutional Network via Gradient-free Localization", WACV, DOI 10.1109/WACV45572.2020.9093360.
 *
 * Weight of channel k: the relative drop of the target score when channel k of the layer is set
 * to zero, `w_k = (y − y_k) / |y|`, then `M = ReLU(Σ_k w_k A^k)`. The paper divides by `y`; the
 * absolute value keeps a negative score from flipping the map (with `y = 0` the plain drop is
 * used). Ablations run through `Model.forwardScaled`, one row per (item, channel), streamed by
 * core (`ctx.streamScaled`, chunks of `batchSize`). Channels that are zero everywhere are skipped:
 * ablating them is a no-op, so their weight is exactly 0 (`extras.zeroChannels` counts them).
 */
export const ablationCam = defineExplainer<
  AblationCamOptions,
  { zeroChannels: number[] },
  'ablation-cam',
  true
>({
  id: 'ablation-cam',
  family: 'cam',
  title: 'Ablation-CAM',
  citation:
    'Desai & Ramaswamy, 2020, Ablation-CAM: Visual Explanations for Deep CNNs via Gradient-free Localization, WACV; DOI 10.1109/WACV45572.2020.9093360',
  description:
    'Channels weighted by the relative drop of the target score when each is zeroed (no gradients).',
  requires: ['layers', 'capture', 'forward-scaled'],
  mapKind: 'pixel',
  defaults: camDefaults(true),
  options: camCommonOptionSpecs,
  validate(options, model) {
    validateCam('ablation-cam')(options, model);
  },
  async attribute(ctx) {
    const layers = targetLayers(ctx.model, ctx.options);
    const clean = await ctx.capture(
      ctx.input,
      layers.map((l) => l.name),
    );
    const n = ctx.input.shape[0];
    const base = ctx.scores(clean.output);
    const zeroChannels = new Array<number>(n).fill(0);
    const acts = layers.map((layer) => clean.activations[layer.name]);
    const weights = acts.map((a) => new Float64Array(n * a.shape[1]));
    const keep = (a: Tensor, b: number, k: number): boolean => {
      if (!isZeroChannel(a, b, k)) return true;
      zeroChannels[b]++;
      return false;
    };
    await runChannelJobs(ctx, acts, keep, ({ layer: li, jobs, items, progress }) => {
      const c = acts[li].shape[1];
      const stream = {
        rows: jobs.length,
        items,
        progress,
        input: (s: number, e: number) => gatherRows(ctx.input, items, s, e),
        layer: layers[li].name,
        // Row r keeps every channel but its job's.
        scale: (s: number, e: number) => {
          const scale = new Float32Array((e - s) * c).fill(1);
          for (let r = s; r < e; r++) scale[(r - s) * c + jobs[r].k] = 0;
          return { data: scale, shape: [e - s, c] };
        },
      };
      return ctx.streamScaled(stream, (chunk) => {
        const ablated = ctx.scores(chunk.output, chunk.items);
        for (let r = chunk.start; r < chunk.end; r++) {
          const { b, k } = jobs[r];
          const y = base[b];
          const drop = y - ablated[r - chunk.start];
          weights[li][b * c + k] = y !== 0 ? drop / Math.abs(y) : drop;
        }
      });
    });
    const maps = layers.map((layer, li) => weightedSum(acts[li], weights[li], layer.name));
    return finishCam(maps, layers, ctx.options, inputSize(ctx.model, ctx.input), { zeroChannels });
  },
});
