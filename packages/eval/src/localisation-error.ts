import { boxArea, boxIoU, defineMetric, type Metric } from '@xlens/core';
import { energyBox } from './internal/boxes.js';
import { plane } from './internal/stats.js';
import { modeValues, valueModeSpec } from './internal/values.js';

/** Options of `localisationError`. */
export interface LocalisationErrorOptions {
  /** Fraction of the map's energy the predicted box must hold. */
  readonly energy: number;
  /** IoU with the ground-truth box above which the box counts as correct. */
  readonly iou: number;
  /** Which values make up the energy. */
  readonly values: 'positive' | 'abs';
}

/**
 * The weakly supervised localisation protocol of Cao et al., 2015, "Look and Think Twice", ICCV,
 * doi:10.1109/ICCV.2015.338, as used for the review's Table 1 (Mohamed, Sirlantzis & Howells,
 * 2022, Displays). The most relevant pixels holding `energy`
 * (95%) of the map's energy form the object; the tightest box around them is correct when its IoU
 * with the ground-truth box exceeds `iou` (0.5). The score is the error: 0 correct, 1 wrong, so
 * the mean is the localisation error rate. Energy counts positive values by default (negative
 * evidence is not the object); `abs` counts magnitudes.
 */
export const localisationError: Metric<LocalisationErrorOptions> = defineMetric<LocalisationErrorOptions>({
  id: 'localisation-error',
  category: 'localisation',
  title: 'Localisation error',
  citation:
    'Cao et al., 2015, Look and Think Twice, ICCV, doi:10.1109/ICCV.2015.338 (protocol of the review’s Table 1)',
  description:
    'Whether the box around the pixels holding 95% of the energy misses the ground-truth box (IoU ≤ 0.5).',
  needs: ['maps', 'ground-truth'],
  requires: [],
  direction: 'lower',
  range: [0, 1],
  defaults: { energy: 0.95, iou: 0.5, values: 'positive' },
  options: {
    energy: { type: 'number', doc: 'fraction of the energy inside the predicted box', min: 0, max: 1 },
    iou: { type: 'number', doc: 'IoU above which the predicted box is correct', min: 0, max: 1 },
    values: valueModeSpec(['positive', 'abs'], 'values that make up the energy'),
  },
  async compute(ctx) {
    const { options, maps, boxes } = ctx;
    const hw = ctx.height * ctx.width;
    const scores = new Float64Array(ctx.n);
    const ious = new Float64Array(ctx.n);
    const areas = new Float64Array(ctx.n);
    const warnings: string[] = [];
    for (let i = 0; i < ctx.n; i++) {
      const v = modeValues(plane(maps.data, i, hw), options.values);
      const total = v.reduce((a, b) => a + b, 0);
      if (total <= 0 || boxArea(boxes[i]) === 0) {
        scores[i] = ious[i] = areas[i] = Number.NaN;
        warnings.push(
          `item ${i}: ${total <= 0 ? 'the map has no energy' : 'the ground truth is empty'}; no score`,
        );
        continue;
      }
      const box = energyBox(v, ctx.height, ctx.width, options.energy);
      ious[i] = boxIoU(box, boxes[i]);
      areas[i] = boxArea(box) / hw;
      scores[i] = ious[i] > options.iou ? 0 : 1;
    }
    return { scores, extras: { iou: ious, boxArea: areas }, warnings };
  },
});
