import {
  defineMetric,
  type Metric,
  resizeBilinear,
  scoreOf,
  TargetError,
  toChannelsFirst,
  toChannelsLast,
} from '@xlens/core';
import { energyBox } from './internal/boxes.js';
import { geometryOf } from './internal/pixels.js';
import { streamSteps } from './internal/rows.js';
import { plane } from './internal/stats.js';
import { modeValues } from './internal/values.js';

/** Options of `ssrSaliency`. */
export interface SsrSaliencyOptions {
  /** Fraction of the map's positive energy the crop must hold (the salient region). */
  readonly energy: number;
  /** Smallest area fraction counted (the paper's 0.05), so tiny crops are not rewarded without bound. */
  readonly minArea: number;
}

/**
 * Dabkowski & Gal, 2017, "Real Time Image Saliency for Black Box Classifiers", NeurIPS,
 * arXiv:1705.07857. The tightest box around the salient region (here: the most relevant pixels
 * holding `energy` of the positive energy) is cropped, resized to the input size and classified;
 * the score is s = log(ã) − log(p), ã = max(area fraction, 0.05) and p the target's probability
 * on the crop. Lower is better: a small crop that keeps the class. Cropping, not masking, keeps
 * masking artefacts out of the measure. Needs class targets; the probability is read whatever the
 * `score` run option says.
 */
export const ssrSaliency: Metric<SsrSaliencyOptions> = defineMetric<SsrSaliencyOptions>({
  id: 'ssr-saliency',
  category: 'faithfulness',
  title: 'Saliency metric (smallest sufficient crop)',
  citation:
    'Dabkowski & Gal, 2017, Real Time Image Saliency for Black Box Classifiers, NeurIPS, arXiv:1705.07857',
  description:
    'log(area of the crop around the salient region) − log(probability of the target on the crop).',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'lower',
  range: [Math.log(0.05), Number.POSITIVE_INFINITY],
  score: 'softmax',
  defaults: { energy: 0.95, minArea: 0.05 },
  options: {
    energy: { type: 'number', doc: 'fraction of the positive energy the crop must hold', min: 0, max: 1 },
    minArea: { type: 'number', doc: 'smallest area fraction counted', min: 1e-6, max: 1 },
  },
  async compute(ctx) {
    const { options, maps } = ctx;
    const classes = ctx.stream.target.classes;
    if (!classes)
      throw new TargetError('invalid-target', 'ssr-saliency needs class targets, not a cotangent');
    const layout = ctx.stream.model.info.layout;
    const g = geometryOf(ctx.stream.input, layout);
    const boxes = Array.from({ length: ctx.n }, (_, i) =>
      energyBox(modeValues(plane(maps.data, i, g.hw), 'positive'), g.h, g.w, options.energy),
    );
    const y = await streamSteps(
      ctx,
      1,
      (i, _s, out) => {
        const [x0, y0, x1, y1] = boxes[i];
        const item = {
          data: plane(ctx.stream.input.data, i, g.per),
          shape: [1, ...ctx.stream.input.shape.slice(1)],
        };
        if (x1 <= x0) return out.set(item.data);
        const planes = layout === 'NCHW' ? item : toChannelsFirst(item);
        const crop = new Float32Array(g.c * (y1 - y0) * (x1 - x0));
        let o = 0;
        for (let k = 0; k < g.c; k++)
          for (let y = y0; y < y1; y++)
            for (let x = x0; x < x1; x++) crop[o++] = planes.data[k * g.hw + y * g.w + x];
        const resized = resizeBilinear({ data: crop, shape: [1, g.c, y1 - y0, x1 - x0] }, g.h, g.w);
        out.set(layout === 'NCHW' ? resized.data : toChannelsLast(resized).data);
      },
      (output, items) => {
        const k = output.shape[1];
        return Float64Array.from(items, (item, r) =>
          scoreOf(output.data.subarray(r * k, (r + 1) * k), classes[item], 'softmax'),
        );
      },
    );
    const warnings: string[] = [];
    const areas = boxes.map(([x0, y0, x1, y1]) => ((x1 - x0) * (y1 - y0)) / g.hw);
    const probabilities = y.map((v) => v[0]);
    const scores = areas.map((a, i) => {
      if (a === 0) {
        warnings.push(`item ${i}: the map has no positive energy; no score`);
        return Number.NaN;
      }
      return Math.log(Math.max(a, options.minArea)) - Math.log(probabilities[i]);
    });
    return { scores, extras: { area: areas, probability: probabilities }, warnings };
  },
});
