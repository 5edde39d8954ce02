import {
  type Check,
  type CheckComputeResult,
  defineCheck,
  type Model,
  type ModelInfo,
  OptionError,
  type Tensor,
  type WeightParam,
} from '@xlens/core';
import { finiteMean, relativeDifference, release } from './internal/checks.js';

/** Options of `inputInvariance`. */
export interface InputInvarianceOptions {
  /** The constant m added to every input value (Kindermans et al. map MNIST's [0, 1] to [−1, 0]). */
  readonly shift: number;
  /**
   * `shifted`: references move with the input — the shifted model's `inputRange` (so black,
   * white and uniform baselines and LRP/DTD box bounds), numeric baselines (`zero`, a number, a
   * tensor), an explicit `reference` tensor and numeric `low`/`high` bounds are shifted by m.
   * `fixed`: every reference keeps its value (a zero baseline stays 0, black stays the old minimum).
   */
  readonly reference: 'shifted' | 'fixed';
}

/** Largest relative logit difference of a pair accepted as functionally equivalent. */
const equivalenceTolerance = 1e-3;

type Deriving = Model & { derive: NonNullable<Model['derive']> };

/** The same model with other `info` (a view: every member but `info` is the model's own). */
function withInfo(model: Model, info: ModelInfo): Model {
  return new Proxy(model, {
    get(target, key) {
      if (key === 'info') return info;
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

function shiftRange(range: ModelInfo['inputRange'], m: number): ModelInfo['inputRange'] {
  if (!range) return range;
  if (typeof range[0] === 'number') {
    const [lo, hi] = range as readonly [number, number];
    return [lo + m, hi + m];
  }
  return (range as readonly (readonly [number, number])[]).map(([lo, hi]) => [lo + m, hi + m] as const);
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && (v as Tensor).data instanceof Float32Array;
}

const plus = (t: Tensor, m: number): Tensor => ({ data: t.data.map((v) => v + m), shape: [...t.shape] });

/** The explainer's reference options moved by m (the `shifted` mode), those it has. */
function shiftedReferences(options: Readonly<Record<string, unknown>>, m: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const b = options.baseline;
  if (b === 'zero') out.baseline = m;
  else if (typeof b === 'number') out.baseline = b + m;
  else if (isTensor(b)) out.baseline = plus(b, m);
  if (isTensor(options.reference)) out.reference = plus(options.reference, m);
  for (const key of ['low', 'high']) {
    const v = options[key];
    if (typeof v === 'number') out[key] = v + m;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) out[key] = v.map((x) => x + m);
  }
  return out;
}

/**
 * Kindermans, Hooker, Adebayo, Alber, Schütt, Dähne, Erhan & Kim, 2017/2019, "The (Un)reliability
 * of Saliency Methods", arXiv:1711.00867 — input invariance. A second model takes inputs shifted
 * by a constant m and absorbs the shift in the bias of its first conv/dense layer (b′ = b − m·ΣW,
 * built with `derive`), so f₂(x + m) = f₁(x) for every x; the explainer's map of f₁ at x is
 * compared with its map of f₂ at x + m. The gradient is identical by construction; Gradient⊙Input
 * differs by exactly m·∇f, so it fails; Integrated Gradients, DeepLIFT and LRP/DTD box rules pass
 * only when their reference moves with the input (`reference: 'shifted'`, the default) — the
 * paper's point that the verdict belongs to the method *and* its reference.
 *
 * The pair must be equivalent: a first convolution that pads with zeros sees m inside the image
 * and 0 at the border, which a bias cannot absorb, so when the logits differ by more than 1e-3
 * (relative to the largest logit) the verdict is `undecided` and says so.
 *
 * Pass: mean relative difference Σ|a − b| / max(Σ|a|, Σ|b|) of the pixel maps below 0.05.
 */
export const inputInvariance: Check<InputInvarianceOptions> = defineCheck<InputInvarianceOptions>({
  id: 'input-invariance',
  title: 'Input invariance',
  citation:
    'Kindermans, Hooker, Adebayo, Alber, Schütt, Dähne, Erhan & Kim, 2019, The (Un)reliability of Saliency Methods, in Explainable AI, LNCS 11700, arXiv:1711.00867',
  description:
    'Maps of a model at x vs maps of the same model with a constant input shift absorbed in its first bias, at x + m; a method that passes gives the same map.',
  needs: ['model', 'explainer'],
  requires: ['derive', 'layers'],
  threshold: {
    statistic: 'relative-difference',
    pass: 'below',
    value: 0.05,
    rationale:
      'the two maps explain the same function at corresponding inputs; beyond 5% they disagree visibly',
  },
  defaults: { shift: -1, reference: 'shifted' },
  options: {
    shift: { type: 'number', doc: 'constant added to every input value' },
    reference: {
      type: 'enum',
      doc: 'move the explainer’s references (baselines, input range, box bounds) with the input, or keep them',
      values: ['shifted', 'fixed'],
    },
  },
  validate(options) {
    if (!Number.isFinite(options.shift) || options.shift === 0)
      throw new OptionError(
        'invalid-option',
        `input-invariance: option shift = ${options.shift} is invalid; expected a non-zero number`,
      );
  },
  async compute(ctx): Promise<CheckComputeResult> {
    const model = ctx.model as Deriving;
    const m = ctx.options.shift;
    const first = (model.layers?.() ?? []).find((l) => l.kind === 'conv' || l.kind === 'dense');
    if (!first)
      return {
        statistics: { 'relative-difference': Number.NaN },
        undecided: `${model.info.name} has no conv or dense layer to absorb the shift`,
      };
    // Read the first layer's kernel and check it has a bias: `weights` when offered, else a
    // derive that records and keeps every value.
    let params: readonly WeightParam[];
    if (model.capabilities.has('weights') && model.weights) params = await model.weights([first.name]);
    else {
      const seen: WeightParam[] = [];
      await release(
        await model.derive((p) => {
          if (p.layer === first.name) seen.push(p);
          return undefined;
        }),
      );
      params = seen;
    }
    const weight = params.find((p) => p.layer === first.name && p.role === 'weight');
    const sawBias = params.some((p) => p.layer === first.name && p.role === 'bias');
    if (!weight || !sawBias)
      return {
        statistics: { 'relative-difference': Number.NaN },
        undecided: `the first layer ${first.name} has no bias to absorb the shift`,
      };
    const out = weight.shape[0];
    const per = weight.values.length / out;
    const sums = Float64Array.from({ length: out }, (_, o) => {
      let s = 0;
      for (let k = 0; k < per; k++) s += weight.values[o * per + k];
      return s;
    });
    const derived = await model.derive((p) =>
      p.layer === first.name && p.role === 'bias' ? p.values.map((b, o) => b - m * sums[o]) : undefined,
    );
    const shiftedMode = ctx.options.reference === 'shifted';
    const shiftedModel = shiftedMode
      ? withInfo(derived, { ...derived.info, inputRange: shiftRange(derived.info.inputRange, m) })
      : derived;
    try {
      const x2 = plus(ctx.input, m);
      const [y1, y2] = [await model.forward(ctx.input), await derived.forward(x2)];
      let scale = 1;
      let diff = 0;
      for (let k = 0; k < y1.data.length; k++) {
        scale = Math.max(scale, Math.abs(y1.data[k]));
        diff = Math.max(diff, Math.abs(y1.data[k] - y2.data[k]));
      }
      const logitDifference = diff / scale;
      ctx.progress(1, 3);
      if (logitDifference > equivalenceTolerance)
        return {
          statistics: { 'relative-difference': Number.NaN, 'logit-difference': logitDifference },
          undecided: `the shifted model is not equivalent (relative logit difference ${logitDifference.toPrecision(3)} > ${equivalenceTolerance}); a first convolution that pads with zeros cannot absorb a constant shift in its bias`,
        };
      const a = (await ctx.explain(model, ctx.input)).maps;
      ctx.progress(2, 3);
      const overrides = shiftedMode ? shiftedReferences(ctx.explainerOptions, m) : {};
      const b = (await ctx.explain(shiftedModel, x2, { options: overrides })).maps;
      ctx.progress(3, 3);
      const n = ctx.input.shape[0];
      const per = Array.from({ length: n }, (_, i) => relativeDifference(a, b, i));
      return {
        statistics: { 'relative-difference': finiteMean(per), 'logit-difference': logitDifference },
        perItem: { 'relative-difference': per },
      };
    } finally {
      await release(derived);
    }
  },
});
