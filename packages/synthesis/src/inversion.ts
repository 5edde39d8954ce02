import {
  batchStream,
  defineExplainer,
  type Explainer,
  findLayer,
  lastSpatialLayer,
  OptionError,
} from '@xlens/core';
import { validateSynthesis } from './activation-maximisation.js';
import { baseSettings, type SynthesisSettings, settingSpecs } from './settings.js';
import { type SynthesisExtras, synthesize } from './synthesize.js';
import type { Term } from './terms.js';

/** Options of `inversion`. */
export interface InversionOptions
  extends Pick<
    SynthesisSettings,
    | 'steps'
    | 'learningRate'
    | 'optimizer'
    | 'tv'
    | 'tvBeta'
    | 'l2'
    | 'normPower'
    | 'init'
    | 'initNoise'
    | 'range'
    | 'jitter'
    | 'snapshotEvery'
  > {
  /** The layer whose code is matched; empty: the last spatial layer. */
  readonly layer: string;
}

const keys = [
  'steps',
  'learningRate',
  'optimizer',
  'tv',
  'tvBeta',
  'l2',
  'normPower',
  'init',
  'initNoise',
  'range',
  'jitter',
  'snapshotEvery',
] as const;

/** −‖Φ(x) − Φ₀‖² / ‖Φ₀‖² per item, Φ₀ the item's code: the normalised reconstruction loss, negated. */
function matchTerm(layer: string, shape: readonly number[], codes: readonly Float32Array[]): Term {
  const norms = codes.map((c) =>
    Math.max(
      c.reduce((s, v) => s + v * v, 0),
      1e-12,
    ),
  );
  return {
    site: layer,
    shape,
    needsActivation: true,
    value(act, item) {
      let s = 0;
      for (let q = 0; q < act.length; q++) s += (act[q] - codes[item][q]) ** 2;
      return -s / norms[item];
    },
    addCotangent(out, act, item) {
      for (let q = 0; q < out.length; q++) out[q] -= (2 * (act![q] - codes[item][q])) / norms[item];
    },
  };
}

/**
 * Mahendran & Vedaldi, 2015, "Understanding Deep Image Representations by Inverting Them", CVPR,
 * arXiv:1412.0035. Representation inversion: the image x whose code Φ(x) at `layer` matches the
 * code Φ₀ of each input item, min ‖Φ(x) − Φ₀‖²/‖Φ₀‖² + λ_α‖x − centre‖_α^α + λ_TV·TV^β(x) (α = 6,
 * β = 2 by default, as in the paper), by gradient descent in pixel space from shared noise, with
 * optional jitter (their 2016 follow-up). `extras.objective` is minus the final normalised loss.
 * Invert several layers (one call each) to see what each keeps.
 */
export const inversion: Explainer<InversionOptions, SynthesisExtras, 'inversion'> = defineExplainer<
  InversionOptions,
  SynthesisExtras,
  'inversion'
>({
  id: 'inversion',
  family: 'synthesis',
  title: 'Representation inversion',
  citation:
    'Mahendran & Vedaldi, 2015, Understanding Deep Image Representations by Inverting Them, CVPR, arXiv:1412.0035',
  description: "The image whose code at a layer matches the input's, under total-variation and norm priors.",
  requires: ['gradients', 'layers', 'layer-gradients', 'capture'],
  mapKind: 'input',
  stochastic: true,
  defaults: {
    layer: '',
    steps: 300,
    learningRate: 0.02,
    optimizer: 'adam',
    tv: 0.002,
    tvBeta: 2,
    l2: 0,
    normPower: 6,
    init: 'noise',
    initNoise: 0.1,
    range: [],
    jitter: 0,
    snapshotEvery: 0,
  },
  options: {
    ...(Object.fromEntries(keys.map((k) => [k, settingSpecs[k]])) as Explainer<InversionOptions>['options']),
    layer: { type: 'string', doc: 'layer whose code is matched (empty: the last spatial layer)' },
  },
  validate(options, model, input) {
    if (options.init === 'input')
      throw new OptionError(
        'invalid-option',
        'inversion: init input would start at the answer; use noise or centre',
      );
    validateSynthesis('inversion', { ...baseSettings, ...options }, model, input);
    if (options.layer) findLayer(model, options.layer);
  },
  async attribute(ctx) {
    const layer = ctx.options.layer ? findLayer(ctx.model, ctx.options.layer) : lastSpatialLayer(ctx.model);
    const codes: Float32Array[] = [];
    await ctx.streamCapture({ ...batchStream(ctx.input), layers: [layer.name], progress: false }, (c) => {
      const a = c.activations[layer.name].data;
      const per = a.length / (c.end - c.start);
      for (let r = 0; r < c.end - c.start; r++) codes.push(a.slice(r * per, (r + 1) * per));
    });
    const result = await synthesize(ctx, [matchTerm(layer.name, layer.outputShape, codes)], {
      ...baseSettings,
      ...ctx.options,
      parametrization: 'pixel',
    });
    return { ...result, resolvedOptions: { layer: layer.name } };
  },
});
