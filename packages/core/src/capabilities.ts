import type { Capability, Model } from './model.js';

/**
 * The `Model` member behind each capability: a model that claims a capability must also
 * implement this member, so checks test both (a claim alone is not enough to call it).
 */
export const capabilityMembers: Readonly<Record<Capability, keyof Model>> = {
  layers: 'layers',
  capture: 'capture',
  gradients: 'backward',
  'layer-gradients': 'backward',
  'relu-rules': 'backward',
  'linear-rules': 'backward',
  derive: 'derive',
  'forward-scaled': 'forwardScaled',
  weights: 'weights',
};

/** Every capability a model may offer, in the order of the `Capability` type. */
export const allCapabilities: readonly Capability[] = Object.keys(capabilityMembers) as Capability[];
