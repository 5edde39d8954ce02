import { defineExplainer } from '@xlens/core';
import { blurSigmaSpec } from './internal/fill.js';
import { contextGeometry } from './internal/image.js';
import { weightedRidge } from './internal/linear.js';
import { rowScores } from './internal/scores.js';
import {
  checkSegmentOptions,
  type Design,
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

/** RNG stream of LIME's samples: sample s is drawn from `sampleRng(limeStream, s)`. */
const limeStream = 12;

/** Options of `lime`. */
export interface LimeOptions extends SegmentOptions {
  /** Perturbed samples per item (the first is the image itself). */
  readonly samples: number;
  /** Width of the exponential kernel on the cosine distance to the image (LIME's 0.25). */
  readonly kernelWidth: number;
  /** Ridge penalty α of the weighted linear fit (scikit-learn's default 1). */
  readonly alpha: number;
  /** What switched-off segments become: `segment-mean` (LIME's default) or core's baselines. */
  readonly fill: SegmentFill;
  /** Standard deviation of the `blur` fill, in pixels. */
  readonly blurSigma: number;
  /** Fit the target's softmax probability, as LIME does (true), or the run's score kind (false). */
  readonly probability: boolean;
}

/** Extras of `lime`: the segmentation, the coefficients and the quality of each item's fit. */
export type LimeExtras = SegmentExtras & {
  /** Intercept of the linear fit, per item. */
  readonly intercept: number[];
  /** Weighted R² of the linear fit on its samples, per item. */
  readonly r2: number[];
};

/**
 * Ribeiro, Singh & Guestrin, 2016, "“Why Should I Trust You?”: Explaining the Predictions of Any
 * Classifier", KDD, arXiv:1602.04938. Each item is cut into superpixels; sample s switches each
 * segment on with probability ½ (sample 0 keeps all); the scores of the samples are fitted by a
 * ridge regression weighted by √exp(−d²/width²), d the cosine distance of the on/off vector to
 * all-on — the choices of the reference `lime_image`. The map gives every pixel its segment's
 * coefficient; `extras` hold the segmentation (`segments`, N×H×W labels, `segmentCount` per item),
 * the coefficients (`segmentWeights`, item after item), `intercept` and the fit's weighted `r2`.
 */
export const lime = defineExplainer<LimeOptions, LimeExtras, 'lime'>({
  id: 'lime',
  family: 'perturbation',
  title: 'LIME',
  citation:
    'Ribeiro, Singh & Guestrin, 2016, "Why Should I Trust You?": Explaining the Predictions of Any Classifier, KDD, arXiv:1602.04938',
  description:
    'Coefficients of a locally weighted linear model of the score on superpixels switched on and off.',
  requires: [],
  mapKind: 'pixel',
  stochastic: true,
  defaults: {
    ...segmentDefaults,
    samples: 1000,
    kernelWidth: 0.25,
    alpha: 1,
    fill: 'segment-mean',
    blurSigma: 5,
    probability: true,
  },
  options: {
    ...segmentSpecs,
    samples: { type: 'integer', doc: 'perturbed samples per item', min: 2 },
    kernelWidth: { type: 'number', doc: 'width of the kernel on the cosine distance', min: 1e-6 },
    alpha: { type: 'number', doc: 'ridge penalty of the linear fit', min: 0 },
    fill: segmentFillSpec,
    blurSigma: blurSigmaSpec,
    probability: { type: 'boolean', doc: 'fit the softmax probability (LIME) rather than the run score' },
  },
  validate(options, model, input) {
    checkSegmentOptions('lime', options, model, input);
  },
  async attribute(ctx) {
    const { options } = ctx;
    const g = contextGeometry(ctx);
    const segs = segmentItems(ctx, options, g);
    const fill = makeSegmentFill(ctx, options.fill, options.blurSigma, g, segs);
    // Sample s draws its flags from its own RNG, so an item's samples depend on its segment count
    // only, never on the batch.
    const designs: Design[] = segs.map(({ count }) => {
      const z = new Uint8Array(options.samples * count).fill(1, 0, count);
      for (let s = 1; s < options.samples; s++) {
        const rng = ctx.sampleRng(limeStream, s);
        for (let j = 0; j < count; j++) z[s * count + j] = rng.uniform() < 0.5 ? 1 : 0;
      }
      return { rows: options.samples, count, z };
    });
    const scores = await scoreDesigns(ctx, g, segs, fill, designs, (out, items) =>
      rowScores(ctx, out, items, options.probability),
    );
    const intercept: number[] = [];
    const r2: number[] = [];
    const coefs = designs.map(({ rows, count, z }, i) => {
      const weights = new Float64Array(rows);
      for (let s = 0; s < rows; s++) {
        let on = 0;
        for (let j = 0; j < count; j++) on += z[s * count + j];
        const d = 1 - Math.sqrt(on / count);
        weights[s] = Math.sqrt(Math.exp(-(d * d) / options.kernelWidth ** 2));
      }
      const fit = weightedRidge((s, j) => z[s * count + j], scores[i], weights, count, options.alpha);
      intercept.push(fit.intercept);
      r2.push(fit.r2);
      return fit.coef;
    });
    const { map, extras } = segmentResult(g, segs, coefs);
    return { map, extras: { ...extras, intercept, r2 } };
  },
});
