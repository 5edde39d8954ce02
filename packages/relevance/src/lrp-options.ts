import type { OptionSpec } from '@xlens/core';
import { compositeIds } from './composites.js';
import type { LrpRuleOptions } from './resolve-rules.js';

/** LRP rule options as a method sees them: the composite is named by id. */
export type LrpMethodOptions = Omit<LrpRuleOptions, 'composite'> & { readonly composite: string };

/** Option specs shared by the LRP-family methods. */
export const lrpOptionSpecs: { readonly [K in keyof LrpMethodOptions]-?: OptionSpec } = {
  composite: {
    type: 'enum',
    doc: 'which rule goes on which layer (see the composites table)',
    values: compositeIds,
  },
  epsilon: { type: 'number', doc: 'ε of the epsilon rule (stabiliser added to |z|)', min: 0 },
  gamma: {
    type: 'number',
    doc: 'γ of the gamma rule (how much the contributions sharing the output sign are boosted)',
    min: 0,
  },
  low: {
    type: 'json',
    doc: 'lower input bound of the box rule: a number or one per channel; default info.inputRange',
  },
  high: {
    type: 'json',
    doc: 'upper input bound of the box rule: a number or one per channel; default info.inputRange',
  },
  rules: {
    type: 'json',
    doc: 'rules by layer name overriding the composite: an object, JSON text or a JSON file path (read through the files run option)',
  },
  maxPool: {
    type: 'enum',
    doc: 'max-pooling: winner takes all, or proportional to the inputs',
    values: ['winner', 'proportional'],
  },
  foldBatchNorm: {
    type: 'boolean',
    doc: 'canonizer: fold BatchNorm into the preceding conv/dense layer for the rules',
  },
  activations: {
    type: 'enum',
    doc: 'ReLU-like activations: pass relevance on unchanged (keeps ReLU6 saturated units), or multiply by the gradient',
    values: ['pass', 'gradient'],
  },
  ignoreBias: {
    type: 'boolean',
    doc: 'rules see biases (and folded BatchNorm shifts) as zero, so none absorbs relevance (zennit zero_params=bias)',
  },
};
