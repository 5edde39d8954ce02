import {
  type BaselineSpec,
  checkBaseline,
  defineExplainer,
  InputError,
  imageDims,
  isBaselinePath,
  OptionError,
  reduceChannels,
  type Tensor,
  toChannelsFirst,
} from '@xlens/core';
import { integratedGradients } from './integrated-gradients.js';
import { greedyRegions, xraiRegions } from './xrai-regions.js';

/** Options of `xrai`. */
export interface XraiOptions {
  /** Integrated Gradients steps per baseline (the authors' code uses 100). */
  readonly steps: number;
  /**
   * IG baselines whose maps are averaged: core baseline specs. Default black and white (from
   * `model.info.inputRange`), as in the paper; the authors' code defaults to constant images at the
   * item's minimum and maximum value instead.
   */
  readonly baselines: readonly BaselineSpec[];
  /** Felzenszwalb scales k of the over-segmentation, one segmentation each. */
  readonly scales: readonly number[];
  /** Felzenszwalb smallest segment, in pixels of the segmentation size. */
  readonly minSize: number;
  /** Side the image is resized to before segmenting, pixels (0: its own size). */
  readonly segmentationSize: number;
  /** Radius of the disk each segment is dilated by, image pixels. */
  readonly dilation: number;
  /** Stop adding regions once this fraction of the image is covered (1: cover it all). */
  readonly area: number;
  /** Drop regions that would add fewer new pixels than this. */
  readonly minPixels: number;
}

/** Extras of `xrai`: regions added per item. */
export type XraiExtras = { readonly regions: number[] };

/**
 * Kapishnikov, Bolukbasi, Viégas & Terry, 2019, "XRAI: Better Attributions Through Regions", ICCV,
 * arXiv:1906.02825. Integrated Gradients (averaged over the black and white baselines, maximum
 * over channels) are summed over the regions of several Felzenszwalb over-segmentations, and
 * regions are added greedily by gain density (mean IG of the pixels they add); a pixel's value is
 * the density of the region that added it, so the highest values mark the first regions. IG runs
 * through this package's `integrated-gradients` (`ctx.run`); segments come from core's
 * `felzenszwalb`, with the authors' settings (image in [−1, 1] resized to 224², σ 0.8, scales
 * 50–1200, min size 150, dilation 5 px, regions adding < 50 px dropped). `extras.regions`: regions
 * added per item.
 */
export const xrai = defineExplainer<XraiOptions, XraiExtras, 'xrai'>({
  id: 'xrai',
  family: 'gradients',
  title: 'XRAI',
  citation:
    'Kapishnikov, Bolukbasi, Viégas & Terry, 2019, XRAI: Better Attributions Through Regions, ICCV, arXiv:1906.02825',
  description:
    'Integrated Gradients summed over over-segmented regions, regions ranked greedily by gain density.',
  requires: ['gradients'],
  mapKind: 'pixel',
  defaults: {
    steps: 50,
    baselines: ['black', 'white'],
    scales: [50, 100, 150, 250, 500, 1200],
    minSize: 150,
    segmentationSize: 224,
    dilation: 5,
    area: 1,
    minPixels: 50,
  },
  options: {
    steps: { type: 'integer', doc: 'Integrated Gradients steps per baseline', min: 1 },
    baselines: { type: 'json', doc: 'IG baselines averaged (core baseline specs)' },
    scales: { type: 'numbers', doc: 'Felzenszwalb scales, one segmentation each' },
    minSize: { type: 'integer', doc: 'Felzenszwalb smallest segment (segmentation pixels)', min: 1 },
    segmentationSize: {
      type: 'integer',
      doc: 'side the image is resized to for segmenting (0: none)',
      min: 0,
    },
    dilation: { type: 'number', doc: 'radius of the segment dilation', min: 0, unit: 'pixels' },
    area: { type: 'number', doc: 'covered fraction at which to stop adding regions', min: 0, max: 1 },
    minPixels: { type: 'integer', doc: 'fewest new pixels a region must add', min: 0 },
  },
  validate(options, model, input) {
    imageDims(input.shape, model.info.layout);
    if (!Array.isArray(options.baselines) || options.baselines.length === 0)
      throw new OptionError(
        'invalid-option',
        `xrai: option baselines = ${JSON.stringify(options.baselines)} is invalid; expected a non-empty list of baselines`,
      );
    for (const b of options.baselines) if (!isBaselinePath(b)) checkBaseline(b, model, input);
    if (options.scales.length === 0 || options.scales.some((s) => s < 0))
      throw new OptionError(
        'invalid-option',
        `xrai: option scales = [${options.scales.join(', ')}] is invalid; expected scales ≥ 0`,
      );
  },
  async attribute(ctx) {
    const { input, model, options } = ctx;
    const { n, c, h, w } = imageDims(input.shape, model.info.layout);
    const hw = h * w;
    // The mean of the baselines' IG maps, then its maximum over channels (as the authors' code).
    const mean = new Float32Array(input.data.length);
    // Progress counts IG runs (nested runs report nothing themselves) and then items segmented.
    const total = options.baselines.length + n;
    for (const [b, baseline] of options.baselines.entries()) {
      const ig = await ctx.run(integratedGradients, input, { steps: options.steps, baseline });
      for (let e = 0; e < mean.length; e++) mean[e] += ig.map.data[e] / options.baselines.length;
      ctx.progress(b + 1, total);
    }
    const attr = Float64Array.from(
      reduceChannels({ data: mean, shape: input.shape }, model.info.layout, 'max').data,
    );
    const planes = model.info.layout === 'NCHW' ? input : toChannelsFirst(input);
    const map = new Float32Array(n * hw);
    const regions: number[] = [];
    for (let i = 0; i < n; i++) {
      ctx.checkAborted();
      const image: Tensor = { data: planes.data.subarray(i * c * hw, (i + 1) * c * hw), shape: [c, h, w] };
      const candidates = xraiRegions(image, options);
      if (candidates.length === 0)
        throw new InputError('invalid-input', 'xrai: the segmentation found no region');
      const result = greedyRegions(
        attr.subarray(i * hw, (i + 1) * hw),
        candidates,
        options.area,
        options.minPixels,
      );
      map.set(result.map, i * hw);
      regions.push(result.regions);
      ctx.progress(options.baselines.length + i + 1, total);
    }
    return { map: { data: map, shape: [n, h, w] }, extras: { regions } };
  },
});
