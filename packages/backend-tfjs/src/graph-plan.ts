import * as tf from '@tensorflow/tfjs';
import type { GraphNode, GraphView } from './graph-nodes.js';

/** Key of the model input among tensor keys. @internal */
export const INPUT = '\u0000input';

/** A convolution or dense layer being assembled: a bias and an activation may still fuse into it. @internal */
export interface LinearPlan {
  readonly kind: 'conv' | 'depthwise' | 'dense';
  readonly kernel: tf.Tensor;
  bias: tf.Tensor | null;
  activation: string | null;
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly padding: 'same' | 'valid';
}

/** One Keras layer of the translation. @internal */
export interface Plan {
  /** Tensor key the layer computes. */
  key: string;
  /** Graph node whose output the layer's output is (names the layer). */
  node: string;
  /** Graph op shown as the layer's op. */
  readonly op: string;
  /** Tensor keys it reads (`INPUT` for the model input). */
  readonly inputs: readonly string[];
  readonly linear?: LinearPlan;
  /** Run by the GraphModel's executor: no rule semantics, no `derive`. */
  readonly opaque?: boolean;
  make?: (name: string) => tf.layers.Layer;
  /** A mean or max over H, W that kept its axes: a following squeeze makes it global pooling. */
  readonly pool?: 'mean' | 'max';
}

/** Ops that pass their input through. @internal */
export const aliasOps: ReadonlySet<string> = new Set([
  'Identity',
  'StopGradient',
  'Snapshot',
  'PreventGradient',
]);

/** What op handlers read and do while translating, one node at a time. @internal */
export interface PlanContext {
  readonly view: GraphView;
  /** Item shape of a tensor (probe). */
  readonly shapeOf: (key: string) => readonly number[];
  readonly isFloat: (key: string) => boolean;
  /** Whether a tensor depends on the model input. */
  readonly depends: (name: string) => boolean;
  /** The tensors a node computes on, aliases resolved. */
  readonly dataInputs: (node: GraphNode) => string[];
  /** Tensors the translation creates; disposed with the model. */
  readonly owned: tf.Tensor[];
  readonly add: (p: Plan) => void;
  /** `key` is the same tensor as `target`: no layer. */
  readonly alias: (key: string, target: string) => void;
  /** Run `node` in the GraphModel executor. */
  readonly opaque: (key: string, node: GraphNode) => void;
  readonly simple: (
    key: string,
    node: GraphNode,
    inputs: string[],
    make: (name: string) => tf.layers.Layer,
  ) => void;
  readonly opLayer: (
    key: string,
    node: GraphNode,
    inputs: string[],
    fn: (xs: tf.Tensor[], cs: readonly tf.Tensor[]) => tf.Tensor,
    constants?: tf.Tensor[],
  ) => void;
  /** The plan computing `from` when it may absorb `node` (one reader, one Keras scope). */
  readonly absorbs: (from: string, node: GraphNode) => Plan | null;
  /** `p` now computes `key`, the output of `node` (it absorbed the ops up to it). */
  readonly rekey: (p: Plan, key: string, node: GraphNode) => void;
  /** Fold a bias or an activation into the linear layer computing `from`; false when it cannot. */
  readonly fuse: (
    from: string,
    key: string,
    node: GraphNode,
    what: { bias?: tf.Tensor; activation?: string },
  ) => boolean;
}

/** A valid Keras name for a graph name (tfjs allows `[A-Za-z0-9][-A-Za-z0-9._/]*`). @internal */
export function kerasName(name: string): string {
  const s = name.replace(/[^-A-Za-z0-9._/]/g, '_');
  return /^[A-Za-z0-9]/.test(s) ? s : `x${s}`;
}

/**
 * Layer names: the graph scope every node shares (tfjs-converter's `StatefulPartitionedCall/model/`)
 * is dropped and a node is named by the Keras layer scope it sits in, as `block1_conv` for
 * `…/block1_conv/Relu`; so a converted Keras model lists its Keras layer names. The last layer of a
 * scope (the Keras layer's output) takes the scope's name; earlier ones keep their path.
 */
export function layerNames(
  plans: readonly Plan[],
  reserved: ReadonlySet<string>,
  phantom?: string,
): { names: Map<Plan, string>; phantom?: string } {
  const nodes = [...plans.map((p) => p.node), ...(phantom ? [phantom] : [])];
  const dirs = nodes.map((n) => n.split('/').slice(0, -1));
  let common = dirs[0] ?? [];
  for (const d of dirs) {
    let i = 0;
    while (i < common.length && i < d.length && common[i] === d[i]) i++;
    common = common.slice(0, i);
  }
  if (dirs.length > 0 && dirs.every((d) => d.length === common.length)) common = common.slice(0, -1);
  const rest = nodes.map((n) => n.split('/').slice(common.length));
  const lastOfScope = new Map<string, number>();
  plans.forEach((_, i) => {
    lastOfScope.set(rest[i][0], i);
  });
  const names = new Map<Plan, string>();
  const used = new Set(reserved);
  plans.forEach((p, i) => {
    const candidates = [lastOfScope.get(rest[i][0]) === i ? rest[i][0] : '', rest[i].join('/'), p.node];
    let name =
      candidates
        .filter((c) => c !== '')
        .map(kerasName)
        .find((c) => !used.has(c)) ?? kerasName(p.node);
    for (let k = 2; used.has(name); k++) name = `${kerasName(p.node)}_${k}`;
    used.add(name);
    names.set(p, name);
  });
  // A removed head is named by its scope, as the Keras layer it was fused into (Dense 'predictions').
  return { names, ...(phantom ? { phantom: kerasName(rest[rest.length - 1][0]) } : {}) };
}

/** The Keras layer of a linear plan, with the graph's weights. @internal */
export function makeLinear(name: string, p: LinearPlan): tf.layers.Layer {
  const common = {
    name,
    useBias: p.bias !== null,
    activation: (p.activation ?? 'linear') as 'linear',
    weights: p.bias ? [p.kernel, p.bias] : [p.kernel],
    biasInitializer: 'zeros' as const,
  };
  if (p.kind === 'dense')
    return tf.layers.dense({ ...common, units: p.kernel.shape[1]!, kernelInitializer: 'zeros' });
  const conv = {
    ...common,
    kernelSize: [p.kernel.shape[0], p.kernel.shape[1]] as [number, number],
    strides: p.strides,
    dilationRate: p.dilations,
    padding: p.padding,
  };
  if (p.kind === 'depthwise')
    return tf.layers.depthwiseConv2d({
      ...conv,
      depthMultiplier: p.kernel.shape[3]!,
      depthwiseInitializer: 'zeros',
    });
  return tf.layers.conv2d({ ...conv, filters: p.kernel.shape[3]!, kernelInitializer: 'zeros' });
}
