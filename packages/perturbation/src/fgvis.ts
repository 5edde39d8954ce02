import {
  type BaselineSpec,
  type Capability,
  checkCapabilities,
  defineExplainer,
  type LayerInfo,
  type Model,
  OptionError,
} from '@xlens/core';
import { blurSigmaSpec, checkFill, fillSpec } from './internal/fill.js';
import { geometry } from './internal/image.js';
import { type MaskObjective, objectiveSpec } from './internal/mask-descent.js';
import { type MaskGameExtras, playMaskGame } from './internal/mask-game.js';

/** Options of `fgvis`. */
export interface FgvisOptions {
  /** `deletion` (smallest destroying mask) or `preservation` (smallest sufficient mask). */
  readonly objective: MaskObjective;
  /** Gradient steps. */
  readonly steps: number;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Weight of the mask's mean (the L1 sparsity term). */
  readonly area: number;
  /** Weight of the total variation (small: FGVis keeps masks fine-grained). */
  readonly tv: number;
  /** Exponent of the total variation. */
  readonly tvBeta: number;
  /** Filter the gradient at ReLU layers so the perturbed image cannot create evidence (the defence). */
  readonly filter: boolean;
  /** Layers whose cotangents are filtered; null: every layer with a ReLU output. */
  readonly layers: readonly string[] | null;
  /** What perturbed pixels become (core's baselines). */
  readonly fill: BaselineSpec;
  /** Standard deviation of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

const filterNeeds: Capability[] = ['layers', 'capture', 'layer-gradients'];

/** Whether a layer's output has passed a ReLU (or ReLU6, fused into convolutions by converted graphs). */
function isRelu(l: LayerInfo): boolean {
  return (l.kind === 'activation' && /relu/i.test(l.op)) || /^relu6?$/.test(l.activation ?? '');
}

/** The filtered layers from the output towards the input, checked against the model's layers. */
function filteredLayers(model: Model, chosen: readonly string[] | null): string[] {
  const all = model.layers?.() ?? [];
  const names = all.map((l) => l.name);
  const picked = chosen ?? all.filter(isRelu).map((l) => l.name);
  for (const name of picked)
    if (!names.includes(name))
      throw new OptionError(
        'invalid-option',
        `fgvis: option layers names '${name}', which ${model.info.name} does not have; it has ${names.join(', ')}`,
      );
  if (picked.length === 0)
    throw new OptionError(
      'invalid-option',
      `fgvis: ${model.info.name} has no ReLU layer to filter; name the layers or set filter: false`,
    );
  return [...picked].sort((a, b) => names.indexOf(b) - names.indexOf(a));
}

/**
 * Wagner, Köhler, Gindele, Hetzel, Wiedemer & Behnke, 2019, "Interpretable and Fine-Grained Visual
 * Explanations for Convolutional Neural Networks", CVPR, arXiv:1908.02686. FGVis learns a
 * per-pixel mask (no upsampling, a light TV term) in the deletion or preservation game of
 * meaningful perturbation, and defends against adversarial evidence by filtering the gradient:
 * at every ReLU layer the perturbed image's activations may not rise above the clean image's, so
 * a cotangent component whose descent step would raise an activation already at or above its
 * clean value is set to zero. The optimisation can then only remove evidence the image holds (or
 * keep it), not create new evidence with the mask. Here the filter runs as one streamed backward
 * pass per filtered layer: the first from the target to the top layer, each next one seeded with
 * the filtered cotangent of the layer above, the last to the input. `filter: false` is plain
 * per-pixel mask optimisation. Needs `layers`, `capture` and `layer-gradients` to filter.
 */
export const fgvis = defineExplainer<FgvisOptions, MaskGameExtras, 'fgvis'>({
  id: 'fgvis',
  family: 'perturbation',
  title: 'FGVis',
  citation:
    'Wagner, Köhler, Gindele, Hetzel, Wiedemer & Behnke, 2019, Interpretable and Fine-Grained Visual Explanations for Convolutional Neural Networks, CVPR, arXiv:1908.02686',
  description:
    'A per-pixel mask optimised with gradients filtered so that the perturbation cannot create evidence.',
  requires: ['gradients'],
  mapKind: 'pixel',
  defaults: {
    objective: 'deletion',
    steps: 300,
    learningRate: 0.1,
    area: 1,
    tv: 0.02,
    tvBeta: 3,
    filter: true,
    layers: null,
    fill: 'blur',
    blurSigma: 5,
  },
  options: {
    objective: objectiveSpec,
    steps: { type: 'integer', doc: 'gradient steps', min: 1 },
    learningRate: { type: 'number', doc: 'Adam learning rate', min: 0 },
    area: { type: 'number', doc: 'weight of the mask area (L1) term', min: 0 },
    tv: { type: 'number', doc: 'weight of the total-variation term', min: 0 },
    tvBeta: { type: 'number', doc: 'exponent of the total variation', min: 1 },
    filter: {
      type: 'boolean',
      doc: 'filter gradients at ReLU layers (the defence against adversarial evidence)',
    },
    layers: { type: 'json', doc: 'layers to filter (null: every ReLU layer)' },
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, model, input) {
    geometry(model, input, 'fgvis');
    checkFill(options.fill, model, input);
    if (
      options.layers !== null &&
      !(Array.isArray(options.layers) && options.layers.every((l) => typeof l === 'string'))
    )
      throw new OptionError('invalid-option', 'fgvis: option layers must be null or a list of layer names');
    if (options.filter) {
      checkCapabilities('fgvis (filter)', filterNeeds, model);
      filteredLayers(model, options.layers);
    }
  },
  async attribute(ctx) {
    const o = ctx.options;
    const g = geometry(ctx.model, ctx.input, ctx.method);
    let filter:
      | { layers: string[]; clean: Awaited<ReturnType<typeof ctx.capture>>['activations'] }
      | undefined;
    if (o.filter) {
      const layers = filteredLayers(ctx.model, o.layers);
      const clean = (await ctx.capture(ctx.input, layers)).activations;
      filter = { layers, clean };
    }
    return playMaskGame(ctx, {
      objective: o.objective,
      steps: o.steps,
      learningRate: o.learningRate,
      area: o.area,
      tv: o.tv,
      tvBeta: o.tvBeta,
      fill: o.fill,
      blurSigma: o.blurSigma,
      cells: [g.h, g.w],
      ...(filter ? { filter } : {}),
    });
  },
});
