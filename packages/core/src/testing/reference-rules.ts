/**
 * Validation of `BackwardRules` against a compiled toy network, before any compute, with the
 * errors every backend is expected to throw for the same mistakes.
 * @internal
 */
import { InputError, LayerError, OptionError, UnsupportedError } from '../errors.js';
import type { Layout } from '../model.js';
import {
  type BackwardRules,
  inputOnlyRuleKinds,
  type LinearRule,
  linearRuleKinds,
  type ReluRule,
  reluRuleKinds,
} from '../rules.js';
import { firstNonFinite, type Tensor } from '../tensor.js';
import { isInputFed, type Network } from './network.js';
import { permuteLayout } from './ops.js';

const maxPoolRules = ['winner', 'proportional'] as const;

/** Rules resolved to float64 data; the reference input is still to be run forward. */
export interface ResolvedRules {
  readonly relu: ReluRule;
  readonly linear: Readonly<Record<string, LinearRule>>;
  readonly maxPool: 'winner' | 'proportional';
  readonly foldBatchNorm: boolean;
  readonly ignoreBias: boolean;
  /** Reference batch, channels-first, `n` items (broadcast already), for `rescale`. */
  readonly reference?: Float64Array;
  readonly low?: Float64Array;
  readonly high?: Float64Array;
  readonly patterns: Readonly<Record<string, Float64Array>>;
}

/** Converts input-layout values of `items` items to a channels-first float64 batch. */
export type ToChannelsFirst = (data: Float32Array, items: number) => Float64Array;

/** A layout converter for a `[C, H, W]` item shape. */
export function channelsFirstConverter(
  layout: Layout,
  shape: readonly [number, number, number],
): ToChannelsFirst {
  const [c, h, w] = shape;
  return (data, items) =>
    layout === 'NCHW' ? Float64Array.from(data) : permuteLayout(data, items, c, h, w, false);
}

/** An input-shaped value given for one item or for all `n`, broadcast to `n` items, channels-first. */
function perItem(
  what: string,
  value: Tensor,
  n: number,
  itemSize: number,
  convert: ToChannelsFirst,
): Float64Array {
  const len = value?.data?.length;
  if (len !== itemSize && len !== n * itemSize) {
    throw new InputError(
      'invalid-shape',
      `${what} has ${len} values (shape [${value?.shape?.join(', ')}]); expected one input item (${itemSize}) or the whole batch (${n}×${itemSize}), in the input layout`,
    );
  }
  if (firstNonFinite(value.data) >= 0)
    throw new InputError('non-finite-input', `${what} contains NaN or infinite values`);
  const items = len === itemSize ? 1 : n;
  const cf = convert(value.data, items);
  if (items === n) return cf;
  const out = new Float64Array(n * itemSize);
  for (let b = 0; b < n; b++) out.set(cf, b * itemSize);
  return out;
}

function bound(
  what: string,
  value: number | Tensor,
  n: number,
  itemSize: number,
  convert: ToChannelsFirst,
): Float64Array {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new OptionError('invalid-option', `${what} = ${value} is not finite`);
    return new Float64Array(n * itemSize).fill(value);
  }
  return perItem(what, value, n, itemSize, convert);
}

function checkNumber(layer: string, rule: string, key: string, v: unknown, min = 0): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new OptionError(
      'invalid-option',
      `rule ${rule} on layer ${layer}: ${key} = ${JSON.stringify(v)} is invalid; expected a finite number ≥ ${min}`,
    );
  }
}

/** Validate `rules` for a backward pass over `n` items and resolve their data. */
export function resolveRules(
  net: Network,
  rules: BackwardRules | undefined,
  n: number,
  convert: ToChannelsFirst,
): ResolvedRules {
  const r = rules ?? {};
  const relu = r.relu ?? 'gradient';
  if (!reluRuleKinds.includes(relu)) {
    throw new UnsupportedError(
      'unsupported-rule',
      `relu rule ${JSON.stringify(relu)} is not one of ${reluRuleKinds.join(', ')}`,
    );
  }
  const maxPool = r.maxPool ?? 'winner';
  if (!maxPoolRules.includes(maxPool)) {
    throw new UnsupportedError(
      'unsupported-rule',
      `maxPool rule ${JSON.stringify(maxPool)} is not one of ${maxPoolRules.join(', ')}`,
    );
  }
  const [c, h, w] = net.spec.inputShape;
  const itemSize = c * h * w;
  let reference: Float64Array | undefined;
  if (relu === 'rescale') {
    if (!r.reference)
      throw new InputError('invalid-input', 'relu rule rescale needs rules.reference (the reference input)');
    reference = perItem('rules.reference', r.reference, n, itemSize, convert);
  }
  const linearNames = net.layers.filter((l) => l.linear).map((l) => l.spec.name);
  const linear: Record<string, LinearRule> = {};
  const patterns: Record<string, Float64Array> = {};
  let low: Float64Array | undefined;
  let high: Float64Array | undefined;
  for (const [name, rule] of Object.entries(r.linear ?? {})) {
    const index = net.layers.findIndex((l) => l.spec.name === name);
    if (index < 0) {
      throw new LayerError(
        'unknown-layer',
        `linear rule for layer ${JSON.stringify(name)}, which ${net.spec.name} does not have; its linear layers: ${linearNames.join(', ')}`,
      );
    }
    const layer = net.layers[index];
    if (!layer.linear) {
      throw new UnsupportedError(
        'unsupported-rule',
        `linear rule on layer ${name}, a ${layer.spec.type} layer; linear rules apply to conv and dense layers: ${linearNames.join(', ')}`,
      );
    }
    const kind = rule?.kind;
    if (!linearRuleKinds.includes(kind)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `linear rule ${JSON.stringify(kind)} on layer ${name} is not one of ${linearRuleKinds.join(', ')}`,
      );
    }
    if (inputOnlyRuleKinds.has(kind) && !isInputFed(net, index)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `rule ${kind} on layer ${name}: ${kind} is only allowed on a layer fed directly by the model input, and ${name} is not`,
      );
    }
    switch (rule.kind) {
      case 'epsilon':
        checkNumber(name, kind, 'epsilon', rule.epsilon);
        break;
      case 'gamma':
      case 'gamma-classic':
        checkNumber(name, kind, 'gamma', rule.gamma);
        if (rule.epsilon !== undefined) checkNumber(name, kind, 'epsilon', rule.epsilon);
        break;
      case 'alpha-beta':
        checkNumber(name, kind, 'alpha', rule.alpha);
        checkNumber(name, kind, 'beta', rule.beta);
        if (Math.abs(rule.alpha - rule.beta - 1) > 1e-9) {
          throw new OptionError(
            'invalid-option',
            `rule alpha-beta on layer ${name}: alpha = ${rule.alpha}, beta = ${rule.beta}; expected alpha − beta = 1`,
          );
        }
        break;
      case 'z-box':
        low = bound(`z-box low on layer ${name}`, rule.low, n, itemSize, convert);
        high = bound(`z-box high on layer ${name}`, rule.high, n, itemSize, convert);
        break;
      case 'pattern': {
        const want = layer.weight!.length;
        const got = rule.weight?.data?.length;
        if (got !== want) {
          throw new InputError(
            'invalid-shape',
            `pattern weight for layer ${name} has ${got} values; expected ${want} (shape [${layer.spec.type === 'conv' ? 'O, I, kH, kW' : 'out, in'}])`,
          );
        }
        patterns[name] = Float64Array.from(rule.weight.data);
        break;
      }
      default:
        break;
    }
    linear[name] = rule;
  }
  return {
    relu,
    linear,
    maxPool,
    foldBatchNorm: r.foldBatchNorm ?? false,
    ignoreBias: r.ignoreBias ?? false,
    reference,
    low,
    high,
    patterns,
  };
}
