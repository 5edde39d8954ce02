import { defineExplainer } from '@xlens/core';
import { blurSigmaSpec } from './internal/fill.js';
import { contextGeometry } from './internal/image.js';
import {
  checkSegmentOptions,
  makeSegmentFill,
  type SegmentExtras,
  type SegmentFill,
  type SegmentOptions,
  scoreDesigns,
  segmentDefaults,
  segmentFillSpec,
  segmentItems,
  segmentResult,
  segmentSpecs,
} from './internal/segments.js';
import { coalitions, shapleyValues } from './internal/shapley.js';

/** Options of `kernel-shap`. */
export interface KernelShapOptions extends SegmentOptions {
  /**
   * Coalitions evaluated per item besides the full and the empty one. With 2^M − 2 or more (M
   * segments) every coalition is evaluated and the values are the exact Shapley values.
   */
  readonly samples: number;
  /** What absent segments become (the reference input of the Shapley game): core's baselines or `segment-mean`. */
  readonly fill: SegmentFill;
  /** Standard deviation of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/** Extras of `kernel-shap`: the segmentation, the Shapley values and the game's two ends. */
export type KernelShapExtras = SegmentExtras & {
  /** f(fill): the score with every segment absent, per item. */
  readonly baseValue: number[];
  /** f(x), per item. */
  readonly fullValue: number[];
  /** 1 where every coalition was evaluated (exact Shapley values), else 0, per item. */
  readonly exact: number[];
};

/**
 * Lundberg & Lee, 2017, "A Unified Approach to Interpreting Model Predictions", NeurIPS,
 * arXiv:1705.07874. KernelSHAP on superpixels: the Shapley values of the game whose players are
 * an item's segments and whose value is the score with absent segments taken from `fill`,
 * estimated by Shapley-kernel-weighted least squares over coalitions chosen as the `shap` library
 * does, under the constraint Σφ = f(x) − f(fill). With `samples` ≥ 2^M − 2 all coalitions are
 * used and the values are exact (`extras.exact`). Scores are the run's (logit by default).
 * `extras`: the segmentation and the values as for LIME, `baseValue` f(fill) and `fullValue` f(x).
 */
export const kernelShap = defineExplainer<KernelShapOptions, KernelShapExtras, 'kernel-shap'>({
  id: 'kernel-shap',
  family: 'perturbation',
  title: 'KernelSHAP',
  citation:
    'Lundberg & Lee, 2017, A Unified Approach to Interpreting Model Predictions, NeurIPS, arXiv:1705.07874',
  description: 'Shapley values of superpixels, estimated by kernel-weighted regression on coalitions.',
  requires: [],
  mapKind: 'pixel',
  stochastic: true,
  defaults: { ...segmentDefaults, samples: 1000, fill: 'zero', blurSigma: 5 },
  options: {
    ...segmentSpecs,
    samples: { type: 'integer', doc: 'coalitions per item (all of them when ≥ 2^segments − 2)', min: 1 },
    fill: segmentFillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, model, input) {
    checkSegmentOptions('kernel-shap', options, model, input);
  },
  async attribute(ctx) {
    const { options } = ctx;
    const g = contextGeometry(ctx);
    const segs = segmentItems(ctx, options, g);
    const fill = makeSegmentFill(ctx, options.fill, options.blurSigma, g, segs);
    const designs = segs.map(({ count }) => coalitions(ctx, count, options.samples));
    const scores = await scoreDesigns(ctx, g, segs, fill, designs, (out, items) => ctx.scores(out, items));
    const values = designs.map((d, i) => shapleyValues(d, scores[i]));
    const { map, extras } = segmentResult(g, segs, values);
    return {
      map,
      extras: {
        ...extras,
        baseValue: scores.map((s) => s[1]),
        fullValue: scores.map((s) => s[0]),
        exact: designs.map((d) => (d.rows - 2 >= 2 ** d.count - 2 ? 1 : 0)),
      },
    };
  },
});
