import {
  type BackwardRequest,
  InputError,
  type ModelInfo,
  reluRuleKinds,
  sameShape,
  UnsupportedError,
} from '@xlens/core';
import { checkInput } from './convert.js';
import { channelsFirstShape, type Program, type Step } from './graph.js';
import { checkLinearRules } from './linear-rules.js';

const maxPoolRules = ['winner', 'proportional'];

/**
 * Validate a backward request on a LayersModel before any compute: input and cotangent shapes,
 * layer names (through `step`, which throws for unknown ones and returns null for the input),
 * and rules. Returns the batch size.
 * @internal
 */
export function checkBackwardRequest(
  program: Program,
  info: ModelInfo,
  req: BackwardRequest,
  step: (name: string) => Step | null,
): number {
  const itemShape = (s: Step | null): readonly number[] => (s ? s.itemShape : program.inputItemShape);
  const n = checkInput(info.name, req.input, info.inputShape, info.layout);
  const seed = req.seed;
  if (!seed || (seed.kind !== 'output' && seed.kind !== 'layer')) {
    throw new InputError(
      'invalid-input',
      `backward seed kind ${JSON.stringify((seed as { kind?: unknown })?.kind)} is invalid; expected output or layer`,
    );
  }
  const expected =
    seed.kind === 'output' ? [n, info.numClasses] : [n, ...channelsFirstShape(itemShape(step(seed.layer)))];
  const shape = seed.cotangent?.shape ?? [];
  const fits = shape.length === expected.length && expected.every((d, i) => d < 0 || d === shape[i]);
  if (!fits || seed.cotangent.data.length !== shape.reduce((a, b) => a * b, 1)) {
    throw new InputError(
      'invalid-shape',
      `backward ${seed.kind} cotangent has shape [${seed.cotangent.shape.join(', ')}]; expected [${expected.join(', ')}]`,
    );
  }
  for (const l of [...(req.wrtLayers ?? []), ...(req.capture ?? [])]) step(l);
  const rules = req.rules;
  if (rules) {
    if (rules.relu !== undefined && !reluRuleKinds.includes(rules.relu)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `relu rule ${JSON.stringify(rules.relu)} is unknown; allowed: ${reluRuleKinds.join(', ')}`,
      );
    }
    if (rules.maxPool !== undefined && !maxPoolRules.includes(rules.maxPool)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `maxPool rule ${JSON.stringify(rules.maxPool)} is unknown; allowed: ${maxPoolRules.join(', ')}`,
      );
    }
    if (rules.reference) {
      const item = [1, ...info.inputShape];
      if (!sameShape(rules.reference.shape, req.input.shape) && !sameShape(rules.reference.shape, item)) {
        throw new InputError(
          'invalid-shape',
          `rescale reference has shape [${rules.reference.shape.join(', ')}]; expected [${req.input.shape.join(', ')}] or [${item.join(', ')}]`,
        );
      }
    }
    checkLinearRules(program, rules.linear ?? {}, (name) => {
      const s = step(name);
      if (!s)
        throw new UnsupportedError('unsupported-rule', `a linear rule cannot sit on the model input ${name}`);
      return s;
    });
  }
  return n;
}
