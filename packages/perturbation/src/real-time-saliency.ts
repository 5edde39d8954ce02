import { defineExplainer, type Model, OptionError, resizeBilinear } from '@xlens/core';
import { contextGeometry, geometry } from './internal/image.js';

/** Options of `realTimeSaliency`. */
export interface RealTimeSaliencyOptions {
  /**
   * The trained masking model, a core `Model` on the classifier's input: its output holds one
   * s×s mask per class, NHWC-flattened (`s·s·numClasses` values, channel k the mask of class k).
   * The zoo's `shapes-masker` is one for the zoo `shapes` model; the CLI loads it by default for
   * that model, or any other given as `masker=path/model.json`. Null: none (an error names it).
   */
  readonly masker: Model | null;
}

/** Extras of `realTimeSaliency`: each item's mask area (mean of the map). */
export type RealTimeSaliencyExtras = { readonly maskArea: readonly number[] };

function maskerError(message: string): OptionError {
  return new OptionError('invalid-option', `real-time-saliency: ${message}`);
}

/** Side s of the masker's per-class grid, or an error explaining the mismatch. */
function maskerGrid(masker: Model, model: Model): number {
  const k = model.info.numClasses;
  const out = masker.info.numClasses;
  const s = Math.round(Math.sqrt(out / k));
  if (s * s * k !== out)
    throw maskerError(
      `the masker ${masker.info.name} outputs ${out} values per image; expected s·s·${k} (one s×s mask per class of ${model.info.name})`,
    );
  const a = masker.info.inputShape.join('×');
  const b = model.info.inputShape.join('×');
  if (a !== b || masker.info.layout !== model.info.layout)
    throw maskerError(
      `the masker ${masker.info.name} reads ${a} ${masker.info.layout} images; ${model.info.name} reads ${b} ${model.info.layout}`,
    );
  return s;
}

/**
 * Dabkowski & Gal, 2017, "Real Time Image Saliency for Black Box Classifiers", NeurIPS,
 * arXiv:1705.07857. A masking model, trained once against the classifier, predicts the saliency
 * mask of an image for a class in one forward pass. The paper's objective, which the model is
 * trained on, is λ_tv·TV(m) + λ_a·A(m) − log f_c(Φ(x, m)) + λ_d·f_c(Φ(x, 1−m))^λ_p: the preserved
 * region alone should keep the class (SSR) and its removal should destroy it (SDR), with a small,
 * smooth mask; wrong classes train to empty masks. (The zoo's shapes-masker takes the destroy term
 * as a hinge on the logit margin instead, as the authors' published code does; see its script.) The class selector is the model's per-class
 * output channel. The map is the target class's mask, upsampled bilinearly to the image. The
 * classifier itself is not run: any model with the masker's input and classes is explained by it.
 */
export const realTimeSaliency = defineExplainer<
  RealTimeSaliencyOptions,
  RealTimeSaliencyExtras,
  'real-time-saliency'
>({
  id: 'real-time-saliency',
  family: 'perturbation',
  title: 'Real-time saliency',
  citation:
    'Dabkowski & Gal, 2017, Real Time Image Saliency for Black Box Classifiers, NeurIPS, arXiv:1705.07857',
  description:
    'A trained masking model predicts the preservation mask of the target class in one forward pass.',
  requires: [],
  mapKind: 'pixel',
  defaults: { masker: null },
  options: {
    masker: {
      type: 'json',
      doc: 'the masking model (a Model; the CLI loads the zoo shapes-masker for shapes, or masker=path/model.json)',
    },
  },
  validate(options, model, input) {
    geometry(model, input, 'real-time-saliency');
    const m = options.masker;
    if (m === null || typeof m !== 'object' || typeof (m as Model).forward !== 'function')
      throw maskerError(
        'option masker is missing: pass the trained masking model as a Model (the CLI loads the zoo shapes-masker for the shapes model, or masker=path/model.json)',
      );
    maskerGrid(m, model);
  },
  async attribute(ctx) {
    const masker = ctx.options.masker as Model;
    const classes = ctx.target.classes;
    if (!classes)
      throw new OptionError(
        'invalid-option',
        'real-time-saliency: the masker predicts masks for classes; a cotangent target has none',
      );
    const g = contextGeometry(ctx);
    const { n, h, w } = g;
    const s = maskerGrid(masker, ctx.model);
    const k = ctx.model.info.numClasses;
    const out = await ctx.forward(ctx.input, masker);
    const per = s * s * k;
    const map = new Float32Array(n * h * w);
    const maskArea: number[] = [];
    for (let i = 0; i < n; i++) {
      const grid = new Float32Array(s * s);
      for (let q = 0; q < s * s; q++) grid[q] = out.data[i * per + q * k + classes[i]];
      const up = resizeBilinear({ data: grid, shape: [1, s, s] }, h, w);
      let area = 0;
      for (let p = 0; p < h * w; p++) {
        const v = Math.min(1, Math.max(0, up.data[p]));
        map[i * h * w + p] = v;
        area += v;
      }
      maskArea.push(area / (h * w));
    }
    // Results record the masker by name, not the model object.
    return {
      map: { data: map, shape: [n, h, w] },
      extras: { maskArea },
      resolvedOptions: { masker: masker.info.name },
    };
  },
});
