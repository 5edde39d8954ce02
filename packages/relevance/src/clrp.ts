import {
  defineExplainer,
  type ExplainContext,
  type OptionSpecs,
  TargetError,
  type Tensor,
} from '@xlens/core';
import { type LrpMethodOptions, lrpOptionSpecs } from './lrp-options.js';
import { cotangentForRelevance, relevanceRun } from './relevance-run.js';
import { deferRuleFile, lrpRuleDefaults, resolveLrpRules } from './resolve-rules.js';

/** Options of `clrp`. */
export interface ClrpOptions extends LrpMethodOptions {
  /** Keep only the positive part of `R − R_dual`, as in the paper. */
  readonly clamp: boolean;
}

/** Class targets of a relevance method that contrasts classes, or a target error. */
export function classTargets(ctx: ExplainContext<unknown>): Int32Array {
  if (!ctx.target.classes) {
    throw new TargetError(
      'invalid-target',
      `${ctx.method} contrasts the target class with the others, so it needs class targets, not a cotangent`,
    );
  }
  if (ctx.model.info.numClasses < 2)
    throw new TargetError(
      'invalid-target',
      `${ctx.method} needs at least 2 classes; ${ctx.model.info.name} has 1`,
    );
  return ctx.target.classes;
}

/** Element-wise `a − b`, optionally clamped at 0. */
export function difference(a: Tensor, b: Tensor, clamp: boolean): Tensor {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const d = a.data[i] - b.data[i];
    out[i] = clamp && d < 0 ? 0 : d;
  }
  return { data: out, shape: [...a.shape] };
}

/**
 * Gu, Yang & Tresp, 2018, "Understanding individual decisions of CNNs via contrastive
 * backpropagation", ACCV, arXiv:1812.02100.
 *
 * Contrastive LRP: the LRP map of the target minus the LRP map of a dual virtual class made of all
 * other classes, to which the target's logit is handed in equal shares (relevance `z_t/(K−1)` at
 * each non-target output); `max(0, R − R_dual)` with `clamp`. Both maps use the same rules.
 */
export const clrp = defineExplainer<
  ClrpOptions,
  { targetRelevance: number[]; dualRelevance: number[]; outputRelevance: number[] },
  'clrp'
>({
  id: 'clrp',
  family: 'relevance',
  title: 'Contrastive LRP',
  citation: 'Gu, Yang & Tresp, 2018, ACCV, arXiv:1812.02100',
  description:
    'Relevance for the target minus relevance for all other classes sharing the same logit: what speaks for the target and not for the rest.',
  requires: ['layers', 'gradients', 'linear-rules'],
  mapKind: 'input',
  defaults: { ...lrpRuleDefaults, composite: 'epsilon-plus', clamp: true },
  options: {
    ...lrpOptionSpecs,
    clamp: { type: 'boolean', doc: 'keep only the positive part of R − R_dual' },
  } satisfies OptionSpecs<ClrpOptions>,
  validate(options, model, input) {
    resolveLrpRules(model, deferRuleFile(options), input, 'clrp');
  },
  async attribute(ctx) {
    const classes = classTargets(ctx);
    const rules = resolveLrpRules(ctx.model, ctx.options, ctx.input, ctx.method, ctx.files);
    const [n, k] = [ctx.input.shape[0], ctx.model.info.numClasses];
    const oneHot = new Float32Array(n * k);
    for (let i = 0; i < n; i++) oneHot[i * k + classes[i]] = 1;
    const target = await relevanceRun(ctx, rules, { data: oneHot, shape: [n, k] });
    const dual = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const share = target.output.data[i * k + classes[i]] / (k - 1);
      for (let j = 0; j < k; j++) if (j !== classes[i]) dual[i * k + j] = share;
    }
    const other = await relevanceRun(ctx, rules, cotangentForRelevance(target.output, dual));
    return {
      map: difference(target.map, other.map, ctx.options.clamp),
      extras: { targetRelevance: target.total, dualRelevance: other.total, outputRelevance: target.seeded },
    };
  },
});
