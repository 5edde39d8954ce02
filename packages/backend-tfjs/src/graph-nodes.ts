import * as tf from '@tensorflow/tfjs';
import { LayerError, UnsupportedError } from '@xlens/core';

/**
 * The parts of tfjs-converter's parsed graph nodes this backend reads (`GraphModel.executor.graph`).
 * Not in tfjs's public typings, but stable across 3.x and 4.x.
 * @internal
 */
export interface GraphNode {
  readonly name: string;
  readonly op: string;
  /** Input tensors as `node` or `node:k` (control inputs lose their `^`). */
  readonly inputNames: readonly string[];
  readonly inputs: readonly GraphNode[];
  /** Attributes as tfjs-converter's op mappers parse them (strings lower-cased). */
  readonly attrParams: Readonly<Record<string, { readonly value: unknown } | undefined>>;
}

/** What the translation needs of a GraphModel. @internal */
export interface GraphView {
  readonly model: tf.GraphModel;
  readonly nodes: Readonly<Record<string, GraphNode>>;
  /** The placeholder fed with the images. */
  readonly inputName: string;
  /** One input item's shape, NHWC, fixed. */
  readonly itemShape: readonly number[];
}

/** The parsed graph of a GraphModel. @internal */
export function graphNodes(model: tf.GraphModel): Record<string, GraphNode> {
  return (model as unknown as { executor: { graph: { nodes: Record<string, GraphNode> } } }).executor.graph
    .nodes;
}

/** `node:k` → `[node, k]`; a name without a port is output 0. @internal */
export function splitPort(name: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(name);
  return m ? [m[1], Number(m[2])] : [name, 0];
}

/** The key of a tensor: the node name for output 0, `node:k` otherwise. @internal */
export function tensorKey(name: string): string {
  const [node, port] = splitPort(name);
  return port === 0 ? node : `${node}:${port}`;
}

/** An attribute value as tfjs-converter parsed it. @internal */
export function attrOf<T>(node: GraphNode, name: string, fallback: T): T {
  const v = node.attrParams[name]?.value;
  return v === undefined || v === null ? fallback : (v as T);
}

/** The constant behind a tensor name (a `Const` node, possibly through `Identity`), or null. @internal */
export function constantOf(view: GraphView, name: string): tf.Tensor | null {
  const [nodeName, port] = splitPort(name);
  let node = view.nodes[nodeName];
  while (node && port === 0 && node.op === 'Identity' && node.inputNames.length === 1)
    node = view.nodes[splitPort(node.inputNames[0])[0]];
  if (node?.op !== 'Const') return null;
  return view.model.weights[node.name]?.[port] ?? null;
}

/** Numbers of a small constant (axes, paddings), or null when not constant. @internal */
export function constantNumbers(view: GraphView, name: string): number[] | null {
  const t = constantOf(view, name);
  return t ? Array.from(t.dataSync()) : null;
}

/** Memoised "does this tensor depend on the model input" over every input edge. @internal */
export function inputDependence(view: GraphView): (name: string) => boolean {
  const memo = new Map<string, boolean>();
  const depends = (nodeName: string): boolean => {
    const known = memo.get(nodeName);
    if (known !== undefined) return known;
    memo.set(nodeName, false); // cycles (control flow) count as independent
    const node = view.nodes[nodeName];
    // A constant's inputs can only be control inputs (tfjs drops their `^`): graphs exported from
    // TF Hub modules give their preprocessing constants a control input on the image placeholder.
    const result =
      nodeName === view.inputName ||
      (node?.op !== 'Const' && node?.inputNames.some((i) => depends(splitPort(i)[0])) === true);
    memo.set(nodeName, result);
    return result;
  };
  return (name) => depends(splitPort(name)[0]);
}

/** Item shape and dtype of each probed tensor. @internal */
export type ProbeFacts = ReadonlyMap<string, { readonly shape: readonly number[]; readonly dtype: string }>;

/**
 * Run the graph once on a batch of one zero image and record the shape (without the batch axis)
 * and dtype of each named tensor.
 * @internal
 */
export function probeTensors(view: GraphView, keys: readonly string[]): ProbeFacts {
  const facts = new Map<string, { shape: number[]; dtype: string }>();
  if (keys.length === 0) return facts;
  tf.tidy(() => {
    const outs = view.model.execute(tf.zeros([1, ...view.itemShape]), [...keys]) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(outs) ? outs : [outs];
    keys.forEach((k, i) => {
      facts.set(k, { shape: list[i].shape.slice(1), dtype: list[i].dtype });
    });
  });
  return facts;
}

/** Output and signature names of a GraphModel, for picking the output to explain. @internal */
export interface OutputChoice {
  /** Tensor key (`node` or `node:k`) of the chosen output. */
  readonly key: string;
  /** Every output as `signature key → tensor key` (node names when there is no signature). */
  readonly all: ReadonlyMap<string, string>;
}

/**
 * The output to explain: `wanted` as a node name (with or without its `:0` port, as TF2
 * signatures write it) or a signature key; by default the first output whose probe shape is
 * `[1, K]`, else the first output.
 * @internal
 */
export function chooseOutput(
  view: GraphView,
  wanted: string | undefined,
  itemShapeOf: (key: string) => readonly number[] | undefined,
): OutputChoice {
  const signature = (view.model as unknown as { signature?: { outputs?: Record<string, { name?: string }> } })
    .signature?.outputs;
  const all = new Map<string, string>();
  if (signature && Object.keys(signature).length > 0) {
    for (const [k, v] of Object.entries(signature)) all.set(k, tensorKey(v.name ?? k));
  } else {
    for (const name of view.model.outputNodes) all.set(tensorKey(name), tensorKey(name));
  }
  const listing = [...all].map(([k, v]) => (k === v ? v : `${v} (signature key ${k})`)).join(', ');
  const exists = (key: string) => view.nodes[splitPort(key)[0]] !== undefined;
  if (wanted !== undefined) {
    const key = all.get(wanted) ?? tensorKey(wanted);
    if (!exists(key) || itemShapeOf(key) === undefined)
      throw new LayerError(
        'unknown-layer',
        `GraphModel has no node or output ${JSON.stringify(wanted)} to use as output; its outputs: ${listing}`,
      );
    return { key, all };
  }
  const keys = [...all.values()].filter(exists);
  if (keys.length === 0)
    throw new UnsupportedError('invalid-model', `GraphModel outputs ${listing} name no node of its graph`);
  const classifier = keys.find((k) => itemShapeOf(k)?.length === 1);
  return { key: classifier ?? keys[0], all };
}
