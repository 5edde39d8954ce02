import type { Capability, Model } from './model.js';

/**
 * The `Model` member behind each capability: a model that claims a capability must also
 * implement this member, so checks test both (a claim alone is not enough to call it).
 */
export const capabilityMembers = {
  layers: 'layers',
  capture: 'capture',
  gradients: 'backward',
  'layer-gradients': 'backward',
  'relu-rules': 'backward',
  'linear-rules': 'backward',
  derive: 'derive',
  'forward-scaled': 'forwardScaled',
  weights: 'weights',
} as const satisfies Readonly<Record<Capability, keyof Model>>;

/** Every capability a model may offer, in the order of the `Capability` type. */
export const allCapabilities: readonly Capability[] = Object.keys(capabilityMembers) as Capability[];

/** The member each capability adds, as a required member. */
type MemberOf<C extends Capability> = (typeof capabilityMembers)[C] & keyof Model;

/** A model known to offer the capabilities `C`: their members are present (no `!` needed). */
export type ModelWith<C extends Capability> = Model & Required<Pick<Model, MemberOf<C>>>;

/**
 * Whether `model` offers every capability in `capabilities` (claimed and implemented); narrows it
 * so that `model.layers()`, `model.backward(...)` and the like need no `!`.
 */
export function hasCapabilities<C extends Capability>(
  model: Model,
  capabilities: readonly C[],
): model is ModelWith<C> {
  return capabilities.every(
    (c) => model.capabilities.has(c) && typeof model[capabilityMembers[c]] === 'function',
  );
}
