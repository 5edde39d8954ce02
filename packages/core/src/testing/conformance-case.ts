/**
 * The shape of a conformance case and the small helpers the case files share.
 * @internal
 */
import type { BackwardRequest, Capability, Model } from '../model.js';
import type { LinearRule } from '../rules.js';
import { oneHotRows, randomInput, requireCapabilities, requireSameInterface } from './compare.js';
import type { ToySpec } from './spec.js';

/**
 * One conformance case: a toy network and a check of a backend's model built from it against the
 * reference model of the same spec (`referenceModel(spec, { layout })`).
 */
export interface ConformanceCase {
  readonly name: string;
  readonly spec: ToySpec;
  /** Capabilities the case exercises; `check` throws if the model lacks one. */
  readonly requires: readonly Capability[];
  /** Throws an `Error` describing the first mismatch. */
  check(model: Model, reference: Model): Promise<void>;
}

export type Body = (model: Model, reference: Model, name: string) => Promise<void>;

export function makeCase(
  name: string,
  spec: ToySpec,
  requires: readonly Capability[],
  body: Body,
): ConformanceCase {
  return {
    name,
    spec,
    requires,
    async check(model, reference) {
      requireSameInterface(name, model, reference);
      requireCapabilities(name, model, requires);
      await body(model, reference, name);
    },
  };
}

export const linearNames = (spec: ToySpec): string[] =>
  spec.layers.filter((l) => l.type === 'conv' || l.type === 'dense').map((l) => l.name);
export const layerNames = (spec: ToySpec): string[] => spec.layers.map((l) => l.name);

/** A backward request with class targets over a fresh input. */
export function classRequest(
  model: Model,
  n: number,
  seed: number,
  extra: Partial<BackwardRequest> = {},
): BackwardRequest {
  return {
    input: randomInput(model, n, seed),
    seed: { kind: 'output', cotangent: oneHotRows(n, model.info.numClasses, seed) },
    ...extra,
  };
}

/** Rules on every linear layer of a spec: `first` on the input-fed one, `rest` on the others. */
export function rulesOn(spec: ToySpec, first: LinearRule, rest: LinearRule): Record<string, LinearRule> {
  const names = linearNames(spec);
  return Object.fromEntries(names.map((name, i) => [name, i === 0 ? first : rest]));
}
