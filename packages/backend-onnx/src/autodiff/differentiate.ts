import { type LinearRule, UnsupportedError } from '@xlens/core';
import type { OnnxGraphBuilder } from '../builder.js';
import { type GraphInfo, isFloatType } from '../graph/graph-info.js';
import type { OnnxNode } from '../proto/types.js';
import { Emitter } from './emitter.js';
import { foldFollowingBatchNorm, inputChain, type LinearLayer, resolveLinearRule } from './linear-plan.js';
import { emitLinearRule } from './linear-rules.js';
import { differentiableOpTypes, nonDifferentiableOps, opGradients } from './registry.js';
import type { OpRules } from './types.js';

/** What to differentiate. */
export interface DiffRequest {
  /** The model input tensor. */
  readonly input: string;
  /** Tensor the seed cotangent sits on, and the graph input that carries the seed. */
  readonly seedTensor: string;
  readonly seedInput: string;
  /** Tensors whose cotangents are wanted (the input and/or layer tensors). */
  readonly targets: readonly string[];
  readonly rules: OpRules;
  readonly linear: Readonly<Record<string, LinearRule>>;
  readonly foldBatchNorm: boolean;
  /** Linear rules see biases as zero (`BackwardRules.ignoreBias`). */
  readonly ignoreBias?: boolean;
  /** Graph inputs with the z-box bounds, in the model input's layout. */
  readonly low?: string;
  readonly high?: string;
}

/** Cotangent tensors (undefined: identically zero) and the input relevance of input-only rules. */
export interface DiffResult {
  readonly cotangents: ReadonlyMap<string, string | undefined>;
  readonly relevance?: string;
}

function opLabel(node: OnnxNode): string {
  return `op ${node.opType} (node ${node.name || node.output[0]})`;
}

/** Indices of a node's inputs that gradients may flow to. */
function diffInputs(info: GraphInfo, node: OnnxNode): number[] {
  const known = !node.domain || node.domain === 'ai.onnx' ? opGradients[node.opType] : undefined;
  const candidates = known ? known.diff : node.input.map((_, i) => i);
  return candidates.filter(
    (i) => i < node.input.length && node.input[i] && isFloatType(info.dtype(node.input[i])),
  );
}

/**
 * Reverse-mode differentiation of an ONNX graph into the same graph: appends backward nodes in
 * standard ONNX ops to `builder` (which extends a copy of the forward model) and returns the
 * names of the cotangent tensors at the targets. Only the nodes between the targets and the
 * seed are differentiated; tensors that do not depend on the targets (shape plumbing,
 * constants, integer tensors) are skipped. An op outside the supported set on that path throws
 * `unsupported-op` naming it.
 */
export function differentiate(info: GraphInfo, builder: OnnxGraphBuilder, request: DiffRequest): DiffResult {
  const nodes = info.nodes;
  const isFloat = (t: string) => isFloatType(info.dtype(t));
  // Forward: tensors depending on a target (through any float input).
  const active = new Set<string>(request.targets);
  for (const node of nodes) {
    if (nonDifferentiableOps.has(node.opType)) continue;
    if (node.input.some((x) => x && active.has(x)))
      for (const y of node.output) if (y && isFloat(y)) active.add(y);
  }
  // Backward: tensors the seed depends on (through differentiable inputs).
  const reaches = new Set<string>([request.seedTensor]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.output.some((y) => reaches.has(y)) || nonDifferentiableOps.has(node.opType)) continue;
    for (const k of diffInputs(info, node)) reaches.add(node.input[k]);
  }
  const onPath = (t: string) => active.has(t) && reaches.has(t);

  // Linear rules: which nodes they replace, and whose cotangent seeds them.
  const plans = new Map<number, { layer: LinearLayer; rule: LinearRule }>();
  const skip = new Set<number>();
  for (const [name, rule] of Object.entries(request.linear)) {
    let layer = resolveLinearRule(info, request.input, name, rule);
    if (rule.kind === 'gradient' && !request.foldBatchNorm) continue;
    if (request.foldBatchNorm) {
      const folded = foldFollowingBatchNorm(info, layer);
      if (folded && onPath(folded.layer.z)) {
        layer = folded.layer;
        skip.add(folded.bnIndex);
      }
    }
    if (layer.biasAddIndex !== undefined) skip.add(layer.biasAddIndex);
    plans.set(layer.nodeIndex, { layer, rule });
  }

  // Check every node on the path before emitting anything.
  const work: number[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (!node.output.some((y) => y && onPath(y))) continue;
    const wanted = node.input.filter((x) => x && onPath(x));
    if (wanted.length === 0) continue;
    const known = !node.domain || node.domain === 'ai.onnx' ? opGradients[node.opType] : undefined;
    if (!known) {
      throw new UnsupportedError(
        'unsupported-op',
        `${opLabel(node)} lies on the gradient path and xlens has no backward rule for it; forward and captures still work. Differentiable ops: ${differentiableOpTypes.join(', ')}`,
      );
    }
    const allowed = new Set(diffInputs(info, node).map((k) => node.input[k]));
    const blocked = node.input.find((x) => x && active.has(x) && !allowed.has(x));
    if (blocked) {
      throw new UnsupportedError(
        'unsupported-op',
        `${opLabel(node)}: its input ${blocked} depends on the differentiated input, and xlens differentiates this op only through inputs ${[...allowed].join(', ')}`,
      );
    }
    work.push(i);
  }

  const e = new Emitter(builder, info);
  const contributions = new Map<string, string[]>();
  const relContributions = new Map<string, string[]>();
  const push = (map: Map<string, string[]>, t: string, g: string | undefined) => {
    if (!g) return;
    const list = map.get(t);
    if (list) list.push(g);
    else map.set(t, [g]);
  };
  const totals = new Map<string, string | undefined>();
  const total = (map: Map<string, string[]>, t: string): string | undefined => {
    const list = map.get(t);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    const s = e.op('Sum', list);
    map.set(t, [s]);
    return s;
  };
  const cotangent = (t: string) => {
    if (!totals.has(t)) totals.set(t, total(contributions, t));
    return totals.get(t);
  };
  push(contributions, request.seedTensor, request.seedInput);

  const bounds = (chainFor: string) => {
    const chain = inputChain(info, request.input, chainFor) ?? [];
    const through = (t: string | undefined) => {
      let cur = t;
      for (const n of chain) if (cur) cur = e.replay(n, [cur, ...n.input.slice(1)])[0];
      return cur;
    };
    return { low: through(request.low), high: through(request.high) };
  };

  for (let w = work.length - 1; w >= 0; w--) {
    const i = work[w];
    if (skip.has(i)) continue;
    const node = nodes[i];
    const plan = plans.get(i);
    if (plan) {
      const g = cotangent(plan.layer.z);
      if (!g) continue;
      const result = emitLinearRule(e, plan.layer, plan.rule, g, bounds(plan.layer.x), request.ignoreBias);
      push(contributions, plan.layer.x, result.gradient);
      push(relContributions, plan.layer.x, result.relevance);
      continue;
    }
    const g = node.output.map((y) => (y ? cotangent(y) : undefined));
    const rel = node.output.map((y) => (y ? total(relContributions, y) : undefined));
    const def = opGradients[node.opType];
    const wants = node.input.map((x) => !!x && onPath(x));
    if (g.some((t) => t)) {
      const grads = def.backward({ e, node, g, wants, rules: request.rules });
      node.input.forEach((x, k) => {
        if (wants[k]) push(contributions, x, grads[k]);
      });
    }
    if (rel.some((t) => t)) {
      if (!def.layout) {
        throw new UnsupportedError(
          'unsupported-rule',
          `the relevance of an input-only rule cannot pass ${opLabel(node)} on its way to the model input`,
        );
      }
      const back = def.backward({ e, node, g: rel, wants, rules: request.rules });
      push(relContributions, node.input[0], back[0]);
    }
  }
  const cotangents = new Map<string, string | undefined>();
  for (const t of request.targets) cotangents.set(t, cotangent(t));
  const relevance = total(relContributions, request.input);
  return { cotangents, relevance };
}
