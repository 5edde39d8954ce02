import {
  defineExplainer,
  type Extras,
  InputError,
  imageDims,
  type Layout,
  reduceChannels,
  type Tensor,
} from '@xlens/core';
import { type PlainGradient, plainAttribute } from './plain-gradient.js';

/** How `saliency` collapses the channels of the gradient at each pixel. */
export type SaliencyReduction = 'max-abs' | 'signed' | 'sum' | 'abs-sum' | 'l2';

/** Options of `saliency`. */
export interface SaliencyOptions {
  /**
   * Channel reduction: `max-abs` (Simonyan et al.: max over channels of |g|), `signed` (the
   * channel value of largest magnitude, sign kept), `sum` (raw signed sum), `abs-sum`, `l2`.
   * The raw input-shaped gradient is the `gradient` method.
   */
  readonly reduce: SaliencyReduction;
}

/** Per pixel, the channel value of largest magnitude with its sign. */
function signedMaxAbs(t: Tensor, layout: Layout): Tensor {
  const { n, c, h, w } = imageDims(t.shape, layout);
  const hw = h * w;
  const out = new Float32Array(n * hw);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < hw; p++) {
      let best = 0;
      for (let k = 0; k < c; k++) {
        const v = layout === 'NCHW' ? t.data[(b * c + k) * hw + p] : t.data[(b * hw + p) * c + k];
        if (Math.abs(v) > Math.abs(best)) best = v;
      }
      out[b * hw + p] = best;
    }
  }
  return { data: out, shape: [n, h, w] };
}

/** Saliency as a plain gradient method: the gradient reduced over channels. */
export const saliencyPlain: PlainGradient<SaliencyOptions> = {
  requires: ['gradients'],
  toMap: (_input, gradient, options, layout) =>
    options.reduce === 'signed'
      ? signedMaxAbs(gradient, layout)
      : reduceChannels(gradient, layout, options.reduce),
};

/**
 * Simonyan, Vedaldi & Zisserman, 2014, "Deep Inside Convolutional Networks", arXiv:1312.6034.
 * The image-specific class saliency map: per pixel, the maximum over channels of |∂f_c/∂x|
 * (`N×H×W`); signed and summed variants via `reduce`.
 */
export const saliency = defineExplainer<SaliencyOptions, Extras, 'saliency'>({
  id: 'saliency',
  family: 'gradients',
  title: 'Saliency',
  citation:
    'Simonyan, Vedaldi & Zisserman, 2014, Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps, ICLR workshop, arXiv:1312.6034',
  description: 'Per pixel, the largest absolute gradient of the target score over the channels.',
  requires: saliencyPlain.requires,
  mapKind: 'pixel',
  defaults: { reduce: 'max-abs' },
  options: {
    reduce: {
      type: 'enum',
      doc: 'channel reduction of the gradient: max-abs (paper), signed (largest-magnitude value with its sign), sum, abs-sum, l2',
      values: ['max-abs', 'signed', 'sum', 'abs-sum', 'l2'],
    },
  },
  validate(_options, model, input) {
    if (input.shape.length !== 4) {
      throw new InputError(
        'invalid-shape',
        `saliency makes a per-pixel map of image batches (rank 4, ${model.info.layout}); got shape [${input.shape.join(', ')}]. Use gradient for other inputs`,
      );
    }
  },
  attribute: plainAttribute(saliencyPlain),
});
