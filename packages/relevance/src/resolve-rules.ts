import {
  type BackwardRules,
  type FileSource,
  findLayer,
  type LinearRule,
  type Model,
  OptionError,
  readFileBytes,
  sizeOf,
  type Tensor,
} from '@xlens/core';
import { checkRules } from './check-rules.js';
import { type Composite, type CompositeParams, getComposite } from './composites.js';
import { layersOf, linearLayers } from './graph.js';
import { parseRule } from './rules.js';

/** A per-channel or global bound given as an option. */
export type BoundOption = number | readonly number[] | null;

/** How LRP rules are chosen; the options shared by `lrp`, `clrp`, `sglrp` and `deep-taylor`. */
export interface LrpRuleOptions {
  /** Composite id (see `compositeIds`) or a `Composite` made with `defineComposite`. */
  readonly composite: string | Composite;
  /** ε of the epsilon rule. */
  readonly epsilon: number;
  /** γ of the gamma rule. */
  readonly gamma: number;
  /** Lower input bound for the box rule, one number or one per channel; null: `info.inputRange`. */
  readonly low: BoundOption;
  /** Upper input bound for the box rule; null: `info.inputRange`. */
  readonly high: BoundOption;
  /**
   * Rules by layer name overriding the composite: a map, its JSON text, or a path to a JSON file
   * (read through the run option `files`).
   */
  readonly rules: Readonly<Record<string, unknown>> | string | null;
  /** Max-pooling: winner takes all, or proportional to the window's inputs. */
  readonly maxPool: 'winner' | 'proportional';
  /** Canonizer: rules see BatchNorm folded into the linear layer before it. */
  readonly foldBatchNorm: boolean;
  /**
   * How relevance crosses ReLU-like activations: `pass` hands it on unchanged (zennit's `Pass`,
   * so ReLU6's saturated units keep theirs), `gradient` multiplies by the derivative (drops it
   * where ReLU6 saturates). The two agree on plain ReLUs. `pass` needs the `relu-rules`
   * capability; on a model without it the gradient is used (ADR 0010).
   */
  readonly activations: 'pass' | 'gradient';
  /**
   * Rules see biases (folded BatchNorm shifts included) as zero, zennit's `zero_params=['bias']`:
   * no relevance is absorbed by biases, so the map sums to the explained logit when ε is small.
   * Off by default, as in zennit.
   */
  readonly ignoreBias: boolean;
}

/** Defaults of `LrpRuleOptions`. */
export const lrpRuleDefaults: LrpRuleOptions = {
  composite: 'epsilon-plus',
  epsilon: 1e-6,
  gamma: 0.25,
  low: null,
  high: null,
  rules: null,
  maxPool: 'winner',
  foldBatchNorm: true,
  activations: 'pass',
  ignoreBias: false,
};

function perChannel(model: Model, values: readonly number[], what: string): Tensor {
  const shape = model.info.inputShape;
  const channelsFirst = model.info.layout === 'NCHW';
  const c = shape.length === 3 ? (channelsFirst ? shape[0] : shape[2]) : 1;
  if (values.length !== c) {
    throw new OptionError(
      'invalid-option',
      `${what} has ${values.length} values; expected one number or ${c} (one per channel)`,
    );
  }
  const size = sizeOf(shape);
  const data = new Float32Array(size);
  const plane = shape.length === 3 ? shape[1] * shape[2] : size;
  for (let i = 0; i < size; i++) data[i] = values[channelsFirst ? Math.floor(i / plane) % c : i % c];
  return { data, shape: [1, ...shape] };
}

/**
 * The box bounds: the `low`/`high` options, else the model's `info.inputRange`; a number or a
 * one-item tensor in the input layout for per-channel bounds. Absent when neither is known.
 */
export function inputBounds(
  model: Model,
  low: BoundOption,
  high: BoundOption,
): { low?: number | Tensor; high?: number | Tensor } {
  const range = model.info.inputRange;
  const pick = (given: BoundOption, side: 0 | 1, what: string): number | Tensor | undefined => {
    const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    if (
      given !== null &&
      given !== undefined &&
      !isNumber(given) &&
      !(Array.isArray(given) && given.length > 0 && given.every(isNumber))
    ) {
      throw new OptionError(
        'invalid-option',
        `${what} = ${JSON.stringify(given)} is invalid; expected a finite number or one per channel`,
      );
    }
    if (isNumber(given)) return given;
    if (Array.isArray(given)) return given.length === 1 ? given[0] : perChannel(model, given, what);
    if (!range) return undefined;
    if (typeof range[0] === 'number') return (range as readonly [number, number])[side];
    return perChannel(
      model,
      (range as readonly (readonly [number, number])[]).map((r) => r[side]),
      'info.inputRange',
    );
  };
  return { low: pick(low, 0, 'low'), high: pick(high, 1, 'high') };
}

/** Whether a `rules` option is a path to a rule map file rather than a map or its JSON text. */
function isRuleFile(spec: unknown): spec is string {
  return typeof spec === 'string' && !spec.trim().startsWith('{');
}

/**
 * `options` with a rule map *file* left out, for `validate`, which has no run options and so no
 * `FileSource`: the file is read in `attribute` (through `ctx.files`) and its rules checked there,
 * before the first model pass.
 */
export function deferRuleFile<O extends LrpRuleOptions>(options: O): O {
  return isRuleFile(options.rules) ? { ...options, rules: null } : options;
}

/**
 * A rule map from an object, its JSON text or a JSON file path (read through `files`):
 * `{ "layerName": "epsilon:0.25", ... }`.
 */
export function loadRuleMap(
  spec: Readonly<Record<string, unknown>> | string,
  files?: FileSource,
): Readonly<Record<string, unknown>> {
  if (typeof spec !== 'string') return spec;
  const text = isRuleFile(spec)
    ? new TextDecoder().decode(readFileBytes(files, spec, 'rules: the rule map file'))
    : spec;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OptionError(
      'invalid-option',
      `rules: the rule map is not valid JSON (${(err as Error).message})`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OptionError(
      'invalid-option',
      'rules: the rule map must be a JSON object { "layerName": rule }',
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * Backward rules for LRP: the composite's rule on each conv/dense layer, overridden by the user's
 * rule map by layer name (a file is read through `files`), plus the max-pool and BatchNorm-folding
 * choices; then the compatibility check (`checkRules`). Throws before any compute.
 */
export function resolveLrpRules(
  model: Model,
  options: LrpRuleOptions,
  input?: Tensor,
  method = 'lrp',
  files?: FileSource,
): BackwardRules {
  const composite =
    typeof options.composite === 'string' ? getComposite(options.composite) : options.composite;
  const params: CompositeParams = {
    epsilon: options.epsilon,
    gamma: options.gamma,
    ...inputBounds(model, options.low, options.high),
  };
  const linear: Record<string, LinearRule> = {};
  for (const layer of linearLayers(layersOf(model, method))) {
    const rule = composite.rule(layer, params);
    if (rule) linear[layer.layer.name] = rule;
  }
  if (options.rules !== null && options.rules !== undefined) {
    for (const [name, spec] of Object.entries(loadRuleMap(options.rules, files))) {
      findLayer(model, name);
      linear[name] = parseRule(spec, params, `rules[${JSON.stringify(name)}]`);
    }
  }
  const pass = options.activations !== 'gradient' && model.capabilities.has('relu-rules');
  const rules: BackwardRules = {
    linear,
    maxPool: options.maxPool,
    foldBatchNorm: options.foldBatchNorm,
    ...(pass ? { relu: 'pass' as const } : {}),
    ...(options.ignoreBias ? { ignoreBias: true } : {}),
  };
  checkRules(model, rules, input, method);
  return rules;
}
