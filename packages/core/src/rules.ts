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
 * - `pass`: LRP's pass-through for activations (zennit's `Pass`): the relevance `y ⊙ g` at the
 *   output reaches the input unchanged, so `g_in = g·y/x` where `x > 0` and 0 elsewhere. On a
 *   plain ReLU (`y = x` where `x > 0`) it is the gradient; on ReLU6 it also carries the relevance
 *   of saturated units (`x > 6`), which the gradient drops (ADR 0010).
 */
export type ReluRule = 'gradient' | 'guided' | 'deconvnet' | 'rescale' | 'pass';

/** The ReLU rules, for validation and listing (the one list every package checks against). */
export const reluRuleKinds = [
  'gradient',
  'guided',
  'deconvnet',
  'rescale',
  'pass',
] as const satisfies readonly ReluRule[];

/**
 * How the backward pass crosses a linear layer `z = W x + b` (dense, convolution, including a
 * BatchNorm folded into it when `foldBatchNorm` is set). With `g` the cotangent at `z` and
 * `R = z ⊙ g` the relevance of the layer's outputs, the rule returns the cotangent at `x` such that
 * `x ⊙ g_in` is the rule's input relevance (Bach et al., 2015; Montavon et al., 2019):
 * - `epsilon`: `R_in = x ⊙ Wᵀ(R ⊘ (z + ε·sign(z)))`, with sign(0) = +1; ε = 0 is LRP-0.
 * - `gamma`: the generalised γ rule (Montavon et al., 2019; Andéol et al., 2021, as zennit ≥ 0.5
 *   implements it), which boosts the contributions that share the sign of the output. With
 *   `W↑ = W + γW⁺`, `W↓ = W + γW⁻`, `x⁺ = max(x, 0)`, `x⁻ = min(x, 0)`:
 *   `z↑ = W↑x⁺ + W↓x⁻ + b + γb⁺` (positive contributions boosted) and
 *   `z↓ = W↓x⁺ + W↑x⁻ + b + γb⁻` (negative ones boosted); `s↑ = [z > 0]·R ⊘ (z↑ + ε·sign(z↑))`,
 *   `s↓ = [z < 0]·R ⊘ (z↓ + ε·sign(z↓))`; the cotangent is `W↑ᵀs↑ + W↓ᵀs↓` where `x ≥ 0` and
 *   `W↓ᵀs↑ + W↑ᵀs↓` where `x < 0`. `z↑ ≥ z` where `z > 0` and `z↓ ≤ z` where `z < 0`, so the
 *   denominators never cross 0: the rule stays stable on inputs and outputs of both signs
 *   (BatchNorm folded into a conv, a residual branch that is negative under a positive sum).
 *   On non-negative inputs and positive outputs it equals `gamma-classic`. `epsilon` defaults to
 *   1e-6 (zennit's stabiliser).
 * - `gamma-classic`: the original γ rule (Montavon et al., 2019), meant for non-negative inputs
 *   and positive outputs: with `W' = W + γW⁺`, `b' = b + γb⁺`, `z' = W'x + b'`:
 *   `R_in = x ⊙ W'ᵀ(R ⊘ (z' + ε·sign(z')))`; `epsilon` defaults to 1e-6. Elsewhere `z'` can
 *   vanish or change sign where `z` does not, and relevance explodes. Meaning of `gamma` before
 *   0.2 (ADR 0005).
 * - `alpha-beta`: `α·(positive contributions) − β·(negative contributions)`, α − β = 1, each
 *   normalised by its own sum with the bias counted on its sign's side (`Σ(x w)⁺ + b⁺`,
 *   `Σ(x w)⁻ + b⁻`). Positive contributions of an input `x ≥ 0` come through `W⁺`, of `x < 0`
 *   through `W⁻`, so the cotangent is `α·W⁺ᵀs⁺ − β·W⁻ᵀs⁻` where `x ≥ 0` and `α·W⁻ᵀs⁺ − β·W⁺ᵀs⁻`
 *   where `x < 0` (`s± = R ⊘ z±`). This is zennit's `AlphaBeta` without its 1e-6 stabiliser.
 * - `z-plus`: alpha-beta with α = 1, β = 0: `R_in = x⁺ ⊙ W⁺ᵀs + x⁻ ⊙ W⁻ᵀs` with
 *   `s = R ⊘ (W⁺x⁺ + W⁻x⁻ + b⁺)`, zennit's `ZPlus`. On non-negative inputs (after a ReLU) it is
 *   Deep Taylor's z⁺ rule `x ⊙ W⁺ᵀ(R ⊘ (W⁺x + b⁺))`; on negative inputs it keeps their positive
 *   contributions (through `W⁻`) instead of their negative ones (before 0.2 it used `W⁺`
 *   whatever the sign of x; ADR 0005).
 * - `z-box`, `w-square`, `flat`: rules whose relevance is not `x ⊙ something`; only allowed on
 *   layers fed directly by the model input (reshapes in between are fine), and reported in
 *   `BackwardResult.inputRelevance` (`inputGradient` is then backend-defined; compare relevance).
 *   z-box: `R_in = x ⊙ Wᵀs − l ⊙ W⁺ᵀs − h ⊙ W⁻ᵀs` with `s = R ⊘ (Wx − W⁺l − W⁻h)` (no bias, so
 *   it conserves relevance); `low`/`high` are numbers or tensors in the input's layout holding one
 *   item or the whole batch. w-square: `R_in = V ᵀ(R ⊘ V·1)` with `V = W∘W`; flat: the same with
 *   `V` all ones (sums over the receptive field, padding excluded; biases ignored).
 * - `pattern`: backpropagate through the given weights instead of W (PatternNet / PatternAttribution,
 *   Kindermans et al., 2018); `weight` is in the canonical layout of `WeightParam`.
 * - `gradient`: unchanged.
 *
 * Wherever a denominator is exactly 0 (ε = 0, an all-zero receptive field) the share is 0.
 */
export type LinearRule =
  | { readonly kind: 'gradient' }
  | { readonly kind: 'epsilon'; readonly epsilon: number }
  | { readonly kind: 'gamma'; readonly gamma: number; readonly epsilon?: number }
  | { readonly kind: 'gamma-classic'; readonly gamma: number; readonly epsilon?: number }
  | { readonly kind: 'alpha-beta'; readonly alpha: number; readonly beta: number }
  | { readonly kind: 'z-plus' }
  | { readonly kind: 'z-box'; readonly low: number | Tensor; readonly high: number | Tensor }
  | { readonly kind: 'w-square' }
  | { readonly kind: 'flat' }
  | { readonly kind: 'pattern'; readonly weight: Tensor };

/** The names of the linear rule kinds, for validation and listing. */
export const linearRuleKinds = [
  'gradient',
  'epsilon',
  'gamma',
  'gamma-classic',
  'alpha-beta',
  'z-plus',
  'z-box',
  'w-square',
  'flat',
  'pattern',
] as const satisfies readonly LinearRule['kind'][];

/** Linear rules whose relevance is not of the form `x ⊙ g` and so must sit on input-fed layers. */
export const inputOnlyRuleKinds: ReadonlySet<LinearRule['kind']> = new Set(['z-box', 'w-square', 'flat']);

/** A complete set of backward rules for one backward call. Everything is optional. */
export interface BackwardRules {
  /** Rule on every ReLU-like activation (ReLU, ReLU6's linear part, fused `activation: relu`). */
  readonly relu?: ReluRule;
  /** Rules for linear layers by layer name; layers not listed keep the ordinary gradient. */
  readonly linear?: Readonly<Record<string, LinearRule>>;
  /**
   * Max-pooling: `winner` (ordinary gradient, winner takes all; ties go to the first maximum in
   * row-major window order) or `proportional` (relevance `y·g` of each window shared over the
   * window in proportion to the inputs, as average pooling under LRP-0: `g_in = y·g / Σ_window x`).
   * Part of the `linear-rules` capability.
   */
  readonly maxPool?: 'winner' | 'proportional';
  /**
   * Canonizer: treat an inference-mode BatchNorm that directly follows a linear layer (with no
   * fused activation) as part of it (W·γ/√(σ²+ε), (b−μ)·γ/√(σ²+ε)+β) when applying that layer's
   * linear rule, seeded with the cotangent at the BatchNorm's output. Forward values and the
   * cotangent reported at the linear layer's own output do not change. Part of `linear-rules`.
   */
  readonly foldBatchNorm?: boolean;
  /**
   * Rules see every linear layer's bias (a folded BatchNorm's shift included) as zero in their
   * denominators and sign tests (zennit's `zero_params=['bias']`); they still distribute the
   * relevance `z ⊙ g` of the actual output. A bias otherwise absorbs its share of the relevance, so
   * with this set `epsilon` (ε → 0), `z-plus`, `alpha-beta` and `gamma` conserve relevance layer by
   * layer (ADR 0010). Part of `linear-rules`.
   */
  readonly ignoreBias?: boolean;
  /**
   * Reference input for `relu: 'rescale'`, in the input's layout: the whole batch, or one item
   * broadcast to every item. Required with `rescale`; its activations come from an ordinary forward.
   */
  readonly reference?: Tensor;
}
