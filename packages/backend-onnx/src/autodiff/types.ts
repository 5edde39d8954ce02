import type { ReluRule } from '@xlens/core';
import type { OnnxNode } from '../proto/types.js';
import type { Emitter } from './emitter.js';

/** The rules of one backward graph that op-level gradients consult. */
export interface OpRules {
  readonly relu: ReluRule;
  readonly maxPool: 'winner' | 'proportional';
}

/** Everything an op's backward rule sees. */
export interface BackwardContext {
  readonly e: Emitter;
  readonly node: OnnxNode;
  /** Cotangent tensor per output of the node; undefined means zero. */
  readonly g: readonly (string | undefined)[];
  /** Whether a cotangent is wanted for each input. */
  readonly wants: readonly boolean[];
  readonly rules: OpRules;
}

/** Emits the backward nodes of one forward node; returns the cotangent per input (undefined: none). */
export type BackwardFn = (ctx: BackwardContext) => (string | undefined)[];

/** The gradient definition of one op type. */
export interface OpGradient {
  /** Indices of inputs gradients can flow to. Others (shapes, axes, indices) are never differentiated. */
  readonly diff: readonly number[];
  readonly backward: BackwardFn;
  /**
   * Pure data movement (a permutation or reshape of its first input), through which an
   * input-only rule's relevance may travel back to the model input.
   */
  readonly layout?: boolean;
}
