import type { Tensor } from './tensor.js';

/**
 * Backward rules: declarative descriptions of how some layers pass the backward signal, which a
 * backend compiles into its own graph machinery (tfjs custom gradients, ONNX backward nodes).
 * They are data, never callbacks, so that a backend can run them natively. See
 * `docs/adr/0001-model-contract.md` for the reasoning.
 *
 * **Convention.** What flows backward is always a gradient-like cotangent `g`. Relevance at a
 * tensor `x` is `x ⊙ g`. Ops without a rule use their ordinary gradient; under this convention
 * that already splits relevance in proportion to the addends at residual additions, passes it
 * through ReLU, max-pool (to the winner), concatenation and reshapes, and treats average pooling
 * with the LRP-0 rule.
 */

/**
 * How the backward pass crosses ReLU-like activations.
 * - `gradient`: the ordinary derivative, `g·[x>0]`.
 * - `guided`: Guided Backprop, `g·[x>0]·[g>0]` (Springenberg et al., 2015).
 * - `deconvnet`: DeconvNet, `relu(g)` regardless of the forward input (Zeiler & Fergus, 2014).
 * - `rescale`: DeepLIFT Rescale, `g·Δy/Δx` against the activations of `BackwardRules.reference`,
 *   falling back to the gradient where `|Δx|` is below 1e-7 (Shrikumar et al., 2017).
 */
export type ReluRule = 'gradient' | 'guided' | 'deconvnet' | 'rescale';

/**
 * How the backward pass crosses a linear layer `z = W x + b` (dense, convolution, including a
 * BatchNorm folded into it when `foldBatchNorm` is set). With `g` the cotangent at `z` and
 * `R = z ⊙ g` the relevance of the layer's outputs, the rule returns the cotangent at `x` such that
 * `x ⊙ g_in` is the rule's input relevance (Bach et al., 2015; Montavon et al., 2019):
 * - `epsilon`: `R_in = x ⊙ Wᵀ(R ⊘ (z + ε·sign(z)))`, with sign(0) = +1; ε = 0 is LRP-0.
 * - `gamma`: as epsilon with `W + γW⁺` and `b + γb⁺`.
 * - `alpha-beta`: `α·(positive contributions) − β·(negative contributions)`, α − β = 1.
 * - `z-plus`: only positive contributions (equals alpha-beta with α=1, β=0 on non-negative inputs).
 * - `z-box`, `w-square`, `flat`: rules whose relevance is not `x ⊙ something`; only allowed on
 *   layers fed directly by the model input, and reported in `BackwardResult.inputRelevance`.
 * - `pattern`: backpropagate through the given weights instead of W (PatternNet / PatternAttribution,
 *   Kindermans et al., 2018); `weight` is in the canonical layout of `WeightParam`.
 * - `gradient`: unchanged.
 */
export type LinearRule =
  | { readonly kind: 'gradient' }
  | { readonly kind: 'epsilon'; readonly epsilon: number }
  | { readonly kind: 'gamma'; readonly gamma: number; readonly epsilon?: number }
  | { readonly kind: 'alpha-beta'; readonly alpha: number; readonly beta: number }
  | { readonly kind: 'z-plus' }
  | { readonly kind: 'z-box'; readonly low: number | Tensor; readonly high: number | Tensor }
  | { readonly kind: 'w-square' }
  | { readonly kind: 'flat' }
  | { readonly kind: 'pattern'; readonly weight: Tensor };

/** The names of the linear rule kinds, for validation and listing. */
export const linearRuleKinds = ['gradient', 'epsilon', 'gamma', 'alpha-beta', 'z-plus', 'z-box', 'w-square', 'flat', 'pattern'] as const;

/** Linear rules whose relevance is not of the form `x ⊙ g` and so must sit on input-fed layers. */
export const inputOnlyRuleKinds: ReadonlySet<LinearRule['kind']> = new Set(['z-box', 'w-square', 'flat']);

/** A complete set of backward rules for one backward call. Everything is optional. */
export interface BackwardRules {
  /** Rule on every ReLU-like activation (ReLU, ReLU6's linear part, fused `activation: relu`). */
  readonly relu?: ReluRule;
  /** Rules for linear layers by layer name; layers not listed keep the ordinary gradient. */
  readonly linear?: Readonly<Record<string, LinearRule>>;
  /**
   * Max-pooling: `winner` (ordinary gradient, winner takes all) or `proportional` (relevance
   * shared over the window in proportion to the inputs, as average pooling under LRP-0).
   */
  readonly maxPool?: 'winner' | 'proportional';
  /**
   * Canonizer: treat an inference-mode BatchNorm that directly follows a linear layer as part of
   * it (W·γ/√(σ²+ε), (b−μ)·γ/√(σ²+ε)+β) when applying linear rules. Forward values do not change.
   */
  readonly foldBatchNorm?: boolean;
  /** Reference input for `relu: 'rescale'` (same shape as the input, or one item broadcast). */
  readonly reference?: Tensor;
}
