import type * as tf from '@tensorflow/tfjs';
import {
  type BackwardRequest,
  type BackwardRules,
  type LayerInfo,
  type OutputActivation,
  type Tensor,
  UnsupportedError,
} from '@xlens/core';
import { layerInfos, type Program, type Step } from './graph.js';
import { opKinds } from './graph-layers.js';
import type { GraphTranslation } from './graph-translate.js';

/**
 * Where a LayersModel came from when the backend translated it from a GraphModel: the
 * translation (layer ops, aliases, opaque layers, how to rebuild it) and the GraphModel. @internal
 */
export interface GraphOrigin {
  readonly translation: GraphTranslation;
  /** The GraphModel, released with the model (null for derived models). */
  readonly source: tf.GraphModel | null;
  /** The softmax head the translation found (removed or kept). */
  readonly head?: OutputActivation;
}

/**
 * The layer list of a translated GraphModel: the Keras layers' list with the graph's op names, and
 * the kinds of the ops that run as `XlensGraphOp` layers.
 * @internal
 */
export function graphLayerInfos(program: Program, translation: GraphTranslation): LayerInfo[] {
  return layerInfos(program).map((l) => {
    const op = translation.ops.get(l.name);
    if (!op) return l;
    const step = program.byName.get(l.name);
    const kind = step?.className === 'XlensGraphOp' ? (opKinds[op] ?? 'other') : l.kind;
    return { ...l, op, kind };
  });
}

/** `values` keyed by the names asked for instead of the canonical names they were computed under. */
export function rekey(
  values: Readonly<Record<string, Tensor>>,
  asked: readonly string[],
  canonical: readonly string[],
): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  asked.forEach((name, i) => {
    out[name] = values[canonical[i]];
  });
  return out;
}

/** A backward request with every layer name made canonical. @internal */
export function canonicalRequest(req: BackwardRequest, canonical: (name: string) => string): BackwardRequest {
  const seed = req.seed?.kind === 'layer' ? { ...req.seed, layer: canonical(req.seed.layer) } : req.seed;
  const linear = req.rules?.linear;
  const rules: BackwardRules | undefined =
    req.rules && linear
      ? {
          ...req.rules,
          linear: Object.fromEntries(Object.entries(linear).map(([k, v]) => [canonical(k), v])),
        }
      : req.rules;
  return {
    ...req,
    seed,
    ...(req.wrtLayers ? { wrtLayers: req.wrtLayers.map(canonical) } : {}),
    ...(req.capture ? { capture: req.capture.map(canonical) } : {}),
    ...(rules ? { rules } : {}),
  };
}

/** Whether the rules change the backward pass beyond the ordinary gradient. */
function changesGradient(rules: BackwardRules | undefined): boolean {
  if (!rules) return false;
  return (
    (rules.relu !== undefined && rules.relu !== 'gradient') ||
    Object.keys(rules.linear ?? {}).length > 0 ||
    rules.maxPool === 'proportional'
  );
}

/**
 * Refuse rules whose backward pass would cross an op the translation did not interpret (run by the
 * GraphModel executor with its ordinary gradient), naming the op and node.
 * @internal
 */
export function checkOpaqueRules(
  program: Program,
  translation: GraphTranslation,
  req: BackwardRequest,
  step: (name: string) => Step | null,
): void {
  if (translation.opaque.size === 0 || !changesGradient(req.rules)) return;
  // Layers the backward pass crosses: everything the seed's tensor is computed from.
  const start = req.seed.kind === 'layer' ? step(req.seed.layer) : program.producer.get(program.outputSlot);
  const crossed: string[] = [];
  const seen = new Set<Step>();
  const pending = start ? [start] : [];
  while (pending.length > 0) {
    const s = pending.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    const what = translation.opaque.get(s.name);
    if (what) crossed.push(what);
    for (const slot of s.inputs) {
      const p = program.producer.get(slot);
      if (p) pending.push(p);
    }
  }
  if (crossed.length > 0) {
    throw new UnsupportedError(
      'unsupported-rule',
      `backward rules cannot pass ${crossed.join(', ')}: the op is not interpreted by the tfjs backend (it runs in the GraphModel executor with its ordinary gradient), so rules would silently not apply there`,
    );
  }
}
