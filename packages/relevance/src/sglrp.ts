import { defineExplainer, type OptionSpecs } from '@xlens/core';
import { classTargets, difference } from './clrp.js';
import { type LrpMethodOptions, lrpOptionSpecs } from './lrp-options.js';
import { cotangentForRelevance, relevanceRun } from './relevance-run.js';
import { deferRuleFile, lrpRuleDefaults, resolveLrpRules } from './resolve-rules.js';

/** Options of `sglrp`. */
export interface SglrpOptions extends LrpMethodOptions {
  /** Keep only positive relevance. */
  readonly clamp: boolean;
}

/**
 * Iwana, Kuroki & Uchida, 2019, "Explaining convolutional neural networks using softmax gradient
 * layer-wise relevance propagation", ICCVW, arXiv:1908.04351.
 *
 * Softmax-gradient LRP: the relevance put at the outputs is the gradient of the target's softmax
 * probability with respect to the logits, `p_t(1 − p_t)` at the target and `−p_t p_n` at every
 * other class n, so non-target classes are subtracted in proportion to their probability. The
 * output relevance sums to 0, and so does the map for conservative rules.
 */
export const sglrp = defineExplainer<
  SglrpOptions,
  { relevanceSum: number[]; outputRelevance: number[] },
  'sglrp'
>({
  id: 'sglrp',
  family: 'relevance',
  title: 'Softmax-Gradient LRP',
  citation: 'Iwana, Kuroki & Uchida, 2019, ICCVW, arXiv:1908.04351',
  description:
    'LRP started from the softmax gradient: positive where the input supports the target, negative where it supports likely competing classes.',
  requires: ['layers', 'gradients', 'linear-rules'],
  mapKind: 'input',
  defaults: { ...lrpRuleDefaults, composite: 'epsilon-plus', clamp: false },
  options: {
    ...lrpOptionSpecs,
    clamp: { type: 'boolean', doc: 'keep only positive relevance' },
  } satisfies OptionSpecs<SglrpOptions>,
  validate(options, model, input) {
    resolveLrpRules(model, deferRuleFile(options), input, 'sglrp');
  },
  async attribute(ctx) {
    const classes = classTargets(ctx);
    const rules = resolveLrpRules(ctx.model, ctx.options, ctx.input, ctx.method, ctx.files);
    const output = await ctx.forward(ctx.input);
    const [n, k] = output.shape;
    const seed = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      const row = output.data.subarray(i * k, (i + 1) * k);
      const max = Math.max(...row);
      const e = Array.from(row, (v) => Math.exp(v - max));
      const total = e.reduce((a, b) => a + b, 0);
      const pt = e[classes[i]] / total;
      for (let j = 0; j < k; j++) seed[i * k + j] = j === classes[i] ? pt * (1 - pt) : (-pt * e[j]) / total;
    }
    const run = await relevanceRun(ctx, rules, cotangentForRelevance(output, seed));
    const map = ctx.options.clamp
      ? difference(run.map, { data: new Float32Array(run.map.data.length), shape: run.map.shape }, true)
      : run.map;
    return { map, extras: { relevanceSum: run.total, outputRelevance: run.seeded } };
  },
});
