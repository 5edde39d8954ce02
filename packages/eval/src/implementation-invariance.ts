import { type Check, defineCheck, type Model, type Tensor } from '@xlens/core';
import { referenceModel, type ToySpec } from '@xlens/core/testing';
import { finiteMean, relativeDifference, release } from './internal/checks.js';

/** Options of `implementationInvariance` (none: the pair and its inputs are fixed). */
export type ImplementationInvarianceOptions = Record<never, never>;

/**
 * One network of the pair: `input [1, 1, 2]` (x₁, x₂ as two pixels) → flatten → `hidden` dense 2→2
 * (ReLU) → `sum` dense 2→1 → `out-relu` → `logits` dense 1→2 (class 0 = the function, class 1 = 0).
 */
function pairNet(name: string, hiddenBias: readonly number[], sumBias: number): ToySpec {
  return {
    name,
    inputShape: [1, 1, 2],
    numClasses: 2,
    layers: [
      { type: 'flatten', name: 'flatten' },
      {
        type: 'dense',
        name: 'hidden',
        inFeatures: 2,
        outFeatures: 2,
        weight: [1, 0, 0, 1],
        bias: hiddenBias,
        activation: 'relu',
      },
      { type: 'dense', name: 'sum', inFeatures: 2, outFeatures: 1, weight: [1, -1], bias: [sumBias] },
      { type: 'relu', name: 'out-relu' },
      { type: 'dense', name: 'logits', inFeatures: 1, outFeatures: 2, weight: [1, 0], bias: [0, 0] },
    ],
  };
}

/**
 * The pair of Sundararajan et al. (2017, §2.2): f(x) = ReLU(ReLU(x₁) − 1 − ReLU(x₂)) and
 * g(x) = ReLU(ReLU(x₁ − 1) − ReLU(x₂)). Both are 0 for x₁ < 1 and x₁ − 1 − ReLU(x₂) clipped at 0
 * otherwise, so they are the same function; they differ only in where the −1 sits (the bias of
 * the sum in f, of the hidden unit in g). Input range [0, 5].
 */
export function implementationPair(): { f: Model; g: Model; input: Tensor } {
  const range = { inputRange: [0, 5] as const };
  const f = referenceModel(pairNet('sundararajan-f', [0, 0], -1), range);
  const g = referenceModel(pairNet('sundararajan-g', [-1, 0], 0), range);
  // Points where the function is positive (x₁ > 1 + x₂), so every method has something to explain.
  const input: Tensor = { data: Float32Array.from([3, 1, 2, 0.5, 4, 2, 1.5, 0.25]), shape: [4, 1, 1, 2] };
  return { f, g, input };
}

/**
 * Sundararajan, Taly & Yan, 2017, "Axiomatic Attribution for Deep Networks", ICML,
 * arXiv:1703.01365, §2.2 — implementation invariance: two functionally equivalent networks must
 * get the same attributions. The check runs the explainer on the paper's pair
 * (`implementationPair`) at four fixed points, class 0, and compares the maps. Attributions that
 * are functions of the gradient (gradient, Gradient⊙Input, Integrated Gradients, and LRP-0/ε,
 * which equals Gradient⊙Input on ReLU networks) pass; DeepLIFT's discrete gradients (Rescale, zero
 * baseline: (1.5, −0.5) on f and (2, −1) on g at x = (3, 1)) and LRP rules that treat biases or
 * signs apart (z⁺, αβ) fail. Rescaling units positively or splitting them cannot separate these
 * methods: ReLU is positively homogeneous, so DeepLIFT's multipliers and LRP's shares are unchanged
 * by such changes — which is why the pair moves a bias instead.
 *
 * Pass: mean relative difference Σ|a − b| / max(Σ|a|, Σ|b|) of the two maps below 0.05.
 */
export const implementationInvariance: Check<ImplementationInvarianceOptions> =
  defineCheck<ImplementationInvarianceOptions>({
    id: 'implementation-invariance',
    title: 'Implementation invariance',
    citation:
      'Sundararajan, Taly & Yan, 2017, Axiomatic Attribution for Deep Networks, ICML, arXiv:1703.01365',
    description:
      'Maps of two functionally equivalent networks that place a bias differently; a method that passes gives both the same map.',
    needs: ['explainer'],
    requires: [],
    threshold: {
      statistic: 'relative-difference',
      pass: 'below',
      value: 0.05,
      rationale: 'the networks compute the same function; maps more than 5% apart contradict the axiom',
    },
    defaults: {},
    options: {},
    async compute(ctx) {
      const { f, g, input } = implementationPair();
      try {
        const a = (await ctx.explain(f, input, { target: 0 })).maps;
        ctx.progress(1, 2);
        const b = (await ctx.explain(g, input, { target: 0 })).maps;
        ctx.progress(2, 2);
        const per = Array.from({ length: input.shape[0] }, (_, i) => relativeDifference(a, b, i));
        return {
          statistics: { 'relative-difference': finiteMean(per) },
          perItem: {
            'relative-difference': per,
            'f/x1': Array.from({ length: 4 }, (_, i) => a.data[2 * i]),
            'f/x2': Array.from({ length: 4 }, (_, i) => a.data[2 * i + 1]),
            'g/x1': Array.from({ length: 4 }, (_, i) => b.data[2 * i]),
            'g/x2': Array.from({ length: 4 }, (_, i) => b.data[2 * i + 1]),
          },
        };
      } finally {
        await release(f);
        await release(g);
      }
    },
  });
