import {
  type BackwardRules,
  CapabilityError,
  findLayer,
  inputOnlyRuleKinds,
  type LayerInfo,
  type LinearRule,
  type Model,
  OptionError,
  reluRuleKinds,
  sizeOf,
  type Tensor,
  UnsupportedError,
} from '@xlens/core';
import { isInputFed, layersOf, linearKinds } from './graph.js';
import { describeRule } from './rules.js';

/**
 * The compatibility check: refuse, before any compute, rules that cannot apply where they are put.
 * - a linear rule on a layer that is not conv or dense (activations pass relevance through and need
 *   none; a BatchNorm is folded into the linear layer before it with `foldBatchNorm`);
 * - `z-box`, `w-square` or `flat` on a layer not fed by the model input (their relevance is not of
 *   the form `x ⊙ g`, so only the input layer can carry it);
 * - box bounds or pattern weights whose shapes do not fit;
 * - rules the model's backend does not offer (`linear-rules`, `relu-rules`).
 * Throws `UnsupportedError('unsupported-rule')` naming layer and rule, `unknown-layer` for names the
 * model does not have, `invalid-option` for malformed values.
 */
export function checkRules(model: Model, rules: BackwardRules, input?: Tensor, method = 'lrp'): void {
  const linear = Object.entries(rules.linear ?? {});
  const needs: string[] = [];
  const linearNeeded = linear.some(([, r]) => r.kind !== 'gradient') || rules.maxPool === 'proportional';
  if (linearNeeded && !model.capabilities.has('linear-rules')) needs.push('linear-rules');
  if (rules.relu !== undefined && rules.relu !== 'gradient' && !model.capabilities.has('relu-rules'))
    needs.push('relu-rules');
  if (needs.length > 0) {
    throw new CapabilityError(
      `${method} needs ${needs.join(' and ')}, which ${model.info.name} does not offer (it has: ${[...model.capabilities].join(', ') || 'forward only'})`,
    );
  }
  if (rules.relu !== undefined && !reluRuleKinds.includes(rules.relu)) {
    throw new OptionError(
      'invalid-option',
      `relu rule ${JSON.stringify(rules.relu)} is unknown; expected one of ${reluRuleKinds.join(', ')}`,
    );
  }
  if (rules.maxPool !== undefined && rules.maxPool !== 'winner' && rules.maxPool !== 'proportional') {
    throw new OptionError(
      'invalid-option',
      `maxPool ${JSON.stringify(rules.maxPool)} is unknown; expected winner or proportional`,
    );
  }
  if (rules.relu === 'rescale' && !rules.reference) {
    throw new OptionError('invalid-option', `${method}: relu rule rescale needs a reference input`);
  }
  if (rules.reference && input) checkBatchShaped(rules.reference, input, 'reference input');
  if (linear.length === 0) return;
  const layers = layersOf(model, method);
  const byName = new Map(layers.map((l) => [l.name, l]));
  for (const [name, rule] of linear) {
    const layer = findLayer(model, name);
    const what = `rule ${describeRule(rule)} on layer ${JSON.stringify(name)} (${layer.kind}, ${layer.op})`;
    if (!linearKinds.has(layer.kind)) {
      const hint =
        layer.kind === 'batchnorm'
          ? 'put it on the conv or dense layer the BatchNorm follows and set foldBatchNorm'
          : layer.kind === 'activation'
            ? 'activations pass relevance through and take no linear rule'
            : 'linear rules apply to conv and dense layers only';
      throw new UnsupportedError('unsupported-rule', `${what} cannot apply: ${hint}`);
    }
    if (inputOnlyRuleKinds.has(rule.kind) && !isInputFed(layer, byName)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `${what} cannot apply: ${rule.kind} gives relevance that is not x ⊙ gradient, so it may only sit on a layer fed by the model input, and ${name} reads ${layer.inputs.join(', ')}`,
      );
    }
    if (rule.kind === 'z-box' && input) {
      for (const [key, bound] of [['low', rule.low] as const, ['high', rule.high] as const]) {
        if (typeof bound !== 'number') checkBatchShaped(bound, input, `z-box ${key} bound of ${name}`);
      }
    }
    if (rule.kind === 'pattern') checkPattern(rule, layer, inputSize(model, layer, byName), what);
  }
}

/** A tensor must hold one input item or one per batch item. */
function checkBatchShaped(t: Tensor, input: Tensor, what: string): void {
  const item = sizeOf(input.shape.slice(1));
  if (t.data.length !== item && t.data.length !== input.data.length) {
    throw new OptionError(
      'invalid-option',
      `${what} has shape [${t.shape.join(', ')}]; expected one input item [${input.shape.slice(1).join(', ')}] or the whole batch [${input.shape.join(', ')}]`,
    );
  }
}

/** Number of values a layer reads: its source layer's output, or the model input. */
function inputSize(model: Model, layer: LayerInfo, byName: ReadonlyMap<string, LayerInfo>): number {
  const source = byName.get(layer.inputs[0] ?? '');
  return source && source.kind !== 'input' ? sizeOf(source.outputShape) : sizeOf(model.info.inputShape);
}

function checkPattern(
  rule: Extract<LinearRule, { kind: 'pattern' }>,
  layer: LayerInfo,
  inSize: number,
  what: string,
): void {
  const shape = rule.weight.shape;
  const out = layer.outputShape[0];
  const expected = layer.kind === 'dense' ? [out, inSize] : [out, -1, -1, -1];
  const ok =
    shape.length === expected.length &&
    expected.every((d, i) => d < 0 || d === shape[i]) &&
    rule.weight.data.length === sizeOf(shape);
  if (!ok) {
    throw new UnsupportedError(
      'unsupported-rule',
      `${what}: pattern weight shape [${shape.join(', ')}] does not fit; expected [${expected.map((d) => (d < 0 ? '?' : d)).join(', ')}] (canonical layout)`,
    );
  }
}
