import { type LinearRule, linearRuleKinds, OptionError, type Tensor } from '@xlens/core';

/**
 * Typed constructors for the linear-layer rules of `@xlens/core`'s `LinearRule` (Bach et al.,
 * 2015, doi:10.1371/journal.pone.0130140; Montavon et al., 2019, "Layer-wise relevance propagation:
 * an overview", doi:10.1007/978-3-030-28954-6_10). Rules are data: a backend compiles them.
 * Activations need no rule: under the gradient convention a ReLU passes relevance through.
 */

/** LRP-0: relevance in proportion to the contributions `x_i w_ij`; the ε rule with ε = 0. */
export function lrp0Rule(): LinearRule {
  return { kind: 'epsilon', epsilon: 0 };
}

/** LRP-ε: denominator `z + ε·sign(z)` (sign(0) = +1) absorbs weak or contradictory contributions. */
export function epsilonRule(epsilon = 1e-6): LinearRule {
  checkNonNegative('epsilon', epsilon);
  return { kind: 'epsilon', epsilon };
}

/**
 * LRP-γ, generalised (Montavon et al., 2019; Andéol et al., 2021, arXiv:2106.04923; zennit's
 * `Gamma` since 0.5): a positive output shares its relevance with the positive contributions
 * boosted by γ (`x⁺·(w + γw⁺) + x⁻·(w + γw⁻)`, bias `b + γb⁺`), a negative output with the
 * negative ones boosted; so it stays stable on inputs and outputs of both signs (BatchNorm folded
 * into a conv, residual branches). `epsilon` (default 1e-6) stabilises the denominator.
 */
export function gammaRule(gamma = 0.25, epsilon?: number): LinearRule {
  checkNonNegative('gamma', gamma);
  if (epsilon !== undefined) checkNonNegative('epsilon', epsilon);
  return epsilon === undefined ? { kind: 'gamma', gamma } : { kind: 'gamma', gamma, epsilon };
}

/**
 * LRP-γ as first published (Montavon et al., 2019, doi:10.1007/978-3-030-28954-6_10): weights
 * `w + γ·w⁺`, bias `b + γb⁺`, whatever the signs. Sound only for non-negative inputs and positive
 * outputs, where it equals `gammaRule`; elsewhere its denominator can vanish. What `gamma` meant
 * before 0.2 (ADR 0005).
 */
export function gammaClassicRule(gamma = 0.25, epsilon?: number): LinearRule {
  checkNonNegative('gamma', gamma);
  if (epsilon !== undefined) checkNonNegative('epsilon', epsilon);
  return epsilon === undefined ? { kind: 'gamma-classic', gamma } : { kind: 'gamma-classic', gamma, epsilon };
}

/** LRP-αβ: `α·(positive contributions) − β·(negative contributions)`, with α − β = 1 and β ≥ 0. */
export function alphaBetaRule(alpha = 2, beta = 1): LinearRule {
  checkNonNegative('beta', beta);
  if (!Number.isFinite(alpha) || Math.abs(alpha - beta - 1) > 1e-9) {
    throw new OptionError(
      'invalid-option',
      `alpha-beta rule with alpha = ${alpha}, beta = ${beta} is invalid; expected alpha − beta = 1 (e.g. alpha 2, beta 1 or alpha 1, beta 0)`,
    );
  }
  return { kind: 'alpha-beta', alpha, beta };
}

/**
 * z⁺: only positive contributions (Deep Taylor's rule for ReLU layers, `x_i w⁺_ij` on x ≥ 0);
 * a negative input contributes positively through `w⁻` (alpha-beta with α = 1, β = 0, as
 * zennit's `ZPlus`).
 */
export function zPlusRule(): LinearRule {
  return { kind: 'z-plus' };
}

/**
 * z^B: the box rule for inputs bounded by `low ≤ x ≤ high` (numbers, or tensors shaped like the
 * input batch or one item). Only on layers fed by the model input.
 */
export function zBoxRule(low: number | Tensor, high: number | Tensor): LinearRule {
  if (typeof low === 'number' && typeof high === 'number' && !(low <= high)) {
    throw new OptionError(
      'invalid-option',
      `z-box rule bounds low = ${low}, high = ${high} are invalid; expected finite low ≤ high`,
    );
  }
  if (typeof low !== 'number' && typeof high !== 'number') {
    const n = Math.min(low.data.length, high.data.length);
    for (let i = 0; i < n; i++) {
      if (!(low.data[i] <= high.data[i]))
        throw new OptionError(
          'invalid-option',
          `z-box rule bounds: low[${i}] = ${low.data[i]} > high[${i}] = ${high.data[i]}`,
        );
    }
  }
  return { kind: 'z-box', low, high };
}

/** w²: relevance in proportion to squared weights, independent of the input (unbounded inputs). */
export function wSquareRule(): LinearRule {
  return { kind: 'w-square' };
}

/** Flat: relevance spread uniformly over each output's receptive field. */
export function flatRule(): LinearRule {
  return { kind: 'flat' };
}

/** Backpropagate through `weight` (canonical layout) instead of W: PatternNet / PatternAttribution. */
export function patternRule(weight: Tensor): LinearRule {
  return { kind: 'pattern', weight };
}

/** The ordinary gradient (LRP-0 without its name: the layer is left alone). */
export function gradientRule(): LinearRule {
  return { kind: 'gradient' };
}

function checkNonNegative(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new OptionError(
      'invalid-option',
      `rule parameter ${name} = ${JSON.stringify(value)} is invalid; expected a finite number ≥ 0`,
    );
  }
}

/** Defaults used when a rule is named without its parameters. */
export interface RuleDefaults {
  readonly epsilon: number;
  readonly gamma: number;
  readonly low?: number | Tensor;
  readonly high?: number | Tensor;
}

/** Rule names accepted in text form (`epsilon`, `epsilon:0.25`, `gamma:0.1`, `alpha2-beta1`, ...). */
export const ruleNames = [
  'lrp-0',
  'epsilon',
  'gamma',
  'gamma-classic',
  'alpha-beta',
  'alpha1-beta0',
  'alpha2-beta1',
  'z-plus',
  'z-box',
  'w-square',
  'flat',
  'gradient',
] as const;

const num = (text: string, what: string): number => {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v))
    throw new OptionError('invalid-option', `rule ${what}: ${JSON.stringify(text)} is not a number`);
  return v;
};

/**
 * A rule from its text form or a `LinearRule`-shaped object (as found in a JSON rule map), with
 * parameters checked. `where` names the source in error messages (e.g. `rules["conv1"]`).
 */
export function parseRule(spec: unknown, defaults: RuleDefaults, where = 'rule'): LinearRule {
  if (typeof spec === 'string') {
    const [name, ...params] = spec.trim().split(':');
    const p = params.map((t) => num(t, spec));
    const alphaBeta = /^alpha(\d+(?:\.\d+)?)-beta(\d+(?:\.\d+)?)$/.exec(name);
    if (alphaBeta) return alphaBetaRule(Number(alphaBeta[1]), Number(alphaBeta[2]));
    switch (name) {
      case 'lrp-0':
      case 'zero':
        return lrp0Rule();
      case 'epsilon':
        return epsilonRule(p[0] ?? defaults.epsilon);
      case 'gamma':
        return gammaRule(p[0] ?? defaults.gamma, p[1]);
      case 'gamma-classic':
        return gammaClassicRule(p[0] ?? defaults.gamma, p[1]);
      case 'alpha-beta':
        return alphaBetaRule(p[0] ?? 2, p[1] ?? (p[0] ?? 2) - 1);
      case 'z-plus':
        return zPlusRule();
      case 'z-box':
        return zBoxRule(p[0] ?? boundOrFail(defaults.low, where), p[1] ?? boundOrFail(defaults.high, where));
      case 'w-square':
        return wSquareRule();
      case 'flat':
        return flatRule();
      case 'gradient':
        return gradientRule();
    }
    throw new OptionError(
      'invalid-option',
      `${where} = ${JSON.stringify(spec)} is not a rule; expected one of ${ruleNames.join(', ')} (parameters after ':', e.g. epsilon:0.25)`,
    );
  }
  if (typeof spec === 'object' && spec !== null && 'kind' in spec) {
    const r = spec as Record<string, unknown> & { kind: unknown };
    if (!(linearRuleKinds as readonly unknown[]).includes(r.kind)) {
      throw new OptionError(
        'invalid-option',
        `${where} has kind ${JSON.stringify(r.kind)}; expected one of ${linearRuleKinds.join(', ')}`,
      );
    }
    switch (r.kind) {
      case 'epsilon':
        return epsilonRule((r.epsilon as number | undefined) ?? defaults.epsilon);
      case 'gamma':
        return gammaRule((r.gamma as number | undefined) ?? defaults.gamma, r.epsilon as number | undefined);
      case 'gamma-classic':
        return gammaClassicRule(
          (r.gamma as number | undefined) ?? defaults.gamma,
          r.epsilon as number | undefined,
        );
      case 'alpha-beta':
        return alphaBetaRule(r.alpha as number, r.beta as number);
      case 'z-box':
        return zBoxRule(
          (r.low as number | Tensor | undefined) ?? boundOrFail(defaults.low, where),
          (r.high as number | Tensor | undefined) ?? boundOrFail(defaults.high, where),
        );
      case 'pattern':
        if (!isTensor(r.weight))
          throw new OptionError('invalid-option', `${where}: a pattern rule needs weight: { data, shape }`);
        // JSON gives plain arrays; the contract wants Float32Array.
        return patternRule({
          data: Float32Array.from(r.weight.data as ArrayLike<number>),
          shape: [...r.weight.shape],
        });
      default:
        return { kind: r.kind } as LinearRule;
    }
  }
  throw new OptionError(
    'invalid-option',
    `${where} = ${JSON.stringify(spec)} is not a rule; expected a rule name (${ruleNames.join(', ')}) or { kind, ... }`,
  );
}

function boundOrFail(bound: number | Tensor | undefined, where: string): number | Tensor {
  if (bound === undefined) {
    throw new OptionError(
      'invalid-option',
      `${where}: the z-box rule needs input bounds; pass low and high (the model's info.inputRange is not set)`,
    );
  }
  return bound;
}

/** Whether a value looks like a `Tensor` (a Float32Array or number array plus a shape). */
export function isTensor(value: unknown): value is Tensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    'data' in value &&
    'shape' in value &&
    Array.isArray((value as Tensor).shape)
  );
}

/** A short human form of a rule for messages and reports (`epsilon(1e-6)`, `alpha-beta(2, 1)`). */
export function describeRule(rule: LinearRule): string {
  switch (rule.kind) {
    case 'epsilon':
      return rule.epsilon === 0 ? 'lrp-0' : `epsilon(${rule.epsilon})`;
    case 'gamma':
    case 'gamma-classic':
      return `${rule.kind}(${rule.gamma})`;
    case 'alpha-beta':
      return `alpha-beta(${rule.alpha}, ${rule.beta})`;
    case 'z-box':
      return `z-box(${typeof rule.low === 'number' ? rule.low : 'tensor'}, ${typeof rule.high === 'number' ? rule.high : 'tensor'})`;
    default:
      return rule.kind;
  }
}
