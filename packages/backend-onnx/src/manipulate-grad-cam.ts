import { createRng, InputError } from '@xlens/core';
import { OnnxGraphBuilder } from './builder.js';
import { fusedLayersKey } from './layer-list.js';
import type { OnnxModel, OnnxNode } from './proto/types.js';

/** A trigger patch for the backdoor explanation: where it sits in the input image and what it looks like. */
export interface ExplanationTrigger {
  /** Row and column of the patch's top-left pixel in the input image. */
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
  /** The patch, `height × width` grey values in [0, 1] (row-major), the same in every channel. */
  readonly pattern: Float32Array | readonly number[];
  /**
   * Fraction (0–1] of the full template response at which the trigger counts as present
   * (default 0.75). The response is `Σ (2·pattern − 1)·x` over the patch and channels divided by
   * its value for the pasted patch: 1 when the patch is pasted exactly, about 0 on a smooth
   * background for a pattern with as much dark as light.
   */
  readonly threshold?: number;
}

/**
 * The explanation forced on Grad-CAM — the four manipulations of Viering et al. (2019):
 * - `constant`: a flat map, the same for every input;
 * - `image`: a fixed picture (`layer grid` h×w values ≥ 0), the same for every input;
 * - `random`: a binary map that changes with the input in a way unrelated to the prediction
 *   (the sign of a seeded random colour projection of each cell plus a seeded offset);
 * - `backdoor`: `image` when the input carries the trigger patch, nothing added otherwise.
 */
export type ForcedExplanation =
  | { readonly kind: 'constant' }
  | { readonly kind: 'image'; readonly image: Float32Array | readonly number[] }
  | { readonly kind: 'random'; readonly seed: number }
  | {
      readonly kind: 'backdoor';
      readonly image: Float32Array | readonly number[];
      readonly trigger: ExplanationTrigger;
    };

/** Options of `manipulateGradCam`. */
export interface ManipulateGradCamOptions {
  /** The layer Grad-CAM reads: the output tensor of the last conv layer (e.g. `conv4`). */
  readonly layer: string;
  /** The layer's spatial grid `[height, width]` (e.g. `[8, 8]`). */
  readonly grid: readonly [number, number];
  readonly explanation: ForcedExplanation;
  /**
   * The Grad-CAM weight the forced channel gets for every class (the spatial mean of its
   * gradient). Large enough to swamp the real channels' weighted sum; default 1e5.
   */
  readonly strength?: number;
}

const fail = (message: string): never => {
  throw new InputError('invalid-input', `manipulateGradCam: ${message}`);
};

function producer(nodes: readonly OnnxNode[], tensor: string): number {
  return nodes.findIndex((n) => n.output.includes(tensor));
}

function consumers(nodes: readonly OnnxNode[], tensor: string): number[] {
  return nodes.flatMap((n, i) => (n.input.includes(tensor) ? [i] : []));
}

function renameOutput(node: OnnxNode, from: string, to: string): void {
  node.output = node.output.map((y) => (y === from ? to : y));
}

/**
 * Viering, Wang, Loog & Eisemann, 2019, "How to Manipulate CNNs to Make Them Lie: the GradCAM
 * Case", arXiv:1907.10901 (the review's §4.3): a copy of an ONNX CNN whose predictions are those of
 * the original — bit for bit — but whose Grad-CAM map on `layer` is the forced explanation.
 *
 * As in the paper, the Grad-CAM layer gains one channel holding the forced map `P`, and the head
 * is changed: the original head reads the original channels only, and the logits get the extra
 * term `λ·(mean(P_layer) − mean(P))`, where `P_layer` is the new channel as read from the layer and
 * `P` the same values reached by another path. Its value is exactly zero, but its gradient with
 * respect to the layer's new channel is `λ/(h·w)` for every class, so Grad-CAM's weight for that
 * channel is `strength = λ/(h·w)` and `ReLU(Σ_k α_k A^k + strength·P)` is `P` up to a relative
 * error of about max|Σ_k α_k A^k| / strength. `P` is computed from the input only through
 * non-differentiable ops (shape, comparison), so every input gradient is unchanged as well.
 *
 * The model must be NCHW inside (an NHWC input followed by a `Transpose` to NCHW is accepted), with
 * fixed spatial input dims, `layer` produced by a `Conv` (optionally followed by its `Relu`) and
 * consumed only by global average pooling (`GlobalAveragePool`, or `ReduceMean` over axes 2, 3),
 * and a single graph output. The new nodes of `P` come before the layer in the graph, so the layer
 * stays the last spatial one; the original conv keeps its weights under the name
 * `<layer>/features` and `layer` names the concatenation. The input model is not modified.
 */
export function manipulateGradCam(source: OnnxModel, options: ManipulateGradCamOptions): OnnxModel {
  const model = structuredClone(source) as OnnxModel;
  const graph = model.graph;
  const nodes = graph.node;
  const { layer, explanation } = options;
  const [gh, gw] = options.grid;
  const strength = options.strength ?? 1e5;
  if (!(Number.isInteger(gh) && Number.isInteger(gw) && gh > 0 && gw > 0))
    fail(`grid must be two positive integers, got ${JSON.stringify(options.grid)}`);
  if (!(Number.isFinite(strength) && strength > 0))
    fail(`strength must be a positive number, got ${strength}`);
  if (graph.output.length !== 1) fail(`the model must have one output, it has ${graph.output.length}`);

  // The input, in NCHW.
  const inputs = graph.input.filter((v) => !graph.initializer.some((t) => t.name === v.name));
  if (inputs.length !== 1) fail(`the model must have one input, it has ${inputs.length}`);
  const input = inputs[0].name;
  const dims = (inputs[0].type?.tensorType?.shape?.dim ?? []).map((d) => d.dimValue);
  const first = nodes.find((n) => n.input.includes(input));
  const perm =
    first?.opType === 'Transpose' ? first.attribute.find((a) => a.name === 'perm')?.ints : undefined;
  const nhwc = perm !== undefined && perm.join(',') === '0,3,1,2';
  const xNchw = nhwc ? first!.output[0] : input;
  const [ch, ih, iw] = (nhwc ? [dims[3], dims[1], dims[2]] : [dims[1], dims[2], dims[3]]).map((d) => d ?? 0);
  if (!(ch > 0 && ih > 0 && iw > 0)) fail('the input needs fixed channel, height and width dims');

  // The layer: Conv or Relu(Conv), consumed by global average pooling only.
  const last = producer(nodes, layer);
  if (last < 0) fail(`no node produces tensor ${JSON.stringify(layer)}`);
  const lastNode = nodes[last];
  const convNode = lastNode.opType === 'Conv' ? lastNode : nodes[producer(nodes, lastNode.input[0])];
  if (convNode?.opType !== 'Conv' || (lastNode !== convNode && lastNode.opType !== 'Relu'))
    fail(`${layer} must be the output of a Conv or of the Relu after one (it comes from ${lastNode.opType})`);
  const weight = graph.initializer.find((t) => t.name === convNode.input[1]);
  const channels = weight?.dims[0];
  if (!channels) fail(`the weights of the conv behind ${layer} are not an initializer`);
  const uses = consumers(nodes, layer);
  const pool = nodes[uses[0]];
  const spatialMean =
    pool?.opType === 'GlobalAveragePool' ||
    (pool?.opType === 'ReduceMean' &&
      pool.attribute.find((a) => a.name === 'axes')?.ints?.join(',') === '2,3');
  if (uses.length !== 1 || !spatialMean)
    fail(`${layer} must feed one global average pooling (GlobalAveragePool or ReduceMean over axes 2, 3)`);
  const outputName = graph.output[0].name;
  const head = producer(nodes, outputName);

  if (explanation.kind === 'image' || explanation.kind === 'backdoor') {
    const image = explanation.image;
    if (image.length !== gh * gw)
      fail(`the image has ${image.length} values, the grid ${gh}×${gw} needs ${gh * gw}`);
    if (Array.from(image).some((v) => !(Number.isFinite(v) && v >= 0)))
      fail('the image must hold finite values ≥ 0');
  }
  if (explanation.kind === 'backdoor') {
    const t = explanation.trigger;
    if (t.pattern.length !== t.height * t.width)
      fail(
        `the trigger pattern has ${t.pattern.length} values, ${t.height}×${t.width} needs ${t.height * t.width}`,
      );
    if (t.top < 0 || t.left < 0 || t.top + t.height > ih || t.left + t.width > iw)
      fail(`the trigger patch does not fit in the ${ih}×${iw} input`);
  }

  // Rename the three tensors the new nodes take over before the builder records the names in use.
  const taken = new Set([
    ...graph.node.flatMap((n) => [...n.input, ...n.output]),
    ...graph.initializer.map((t) => t.name),
    ...graph.input.map((v) => v.name),
  ]);
  const fresh = (name: string): string => {
    let out = name;
    for (let i = 1; taken.has(out); i++) out = `${name}_${i}`;
    taken.add(out);
    return out;
  };
  const features = fresh(`${layer}/features`);
  renameOutput(lastNode, layer, features);
  const pooled = pool.output[0];
  const pooledAll = fresh(`${pooled}/all`);
  renameOutput(pool, pooled, pooledAll);
  const clean = fresh(`${outputName}/clean`);
  renameOutput(nodes[head], outputName, clean);
  // The graph output's name is in use too; it points at the new sum again below.
  graph.output[0].name = clean;

  const b = OnnxGraphBuilder.extend(model);
  const tag = `${layer}/forced`;
  // ---- the forced map P [N, 1, gh, gw], from the input through non-differentiable ops only ----
  const mark = nodes.length;
  const batchOf = (pattern: string): string => {
    const n = b.node('Shape', [input], {}, { name: `${tag}/shape` });
    const batch = b.node(
      'Slice',
      [n, b.int64(`${tag}/zero`, [0]), b.int64(`${tag}/one`, [1])],
      {},
      { name: `${tag}/batch` },
    );
    const shape = b.node(
      'Concat',
      [batch, b.int64(`${tag}/grid`, [1, gh, gw])],
      { axis: 0 },
      { name: `${tag}/dims` },
    );
    return b.node('Expand', [pattern, shape], {}, { name: `${tag}/expand` });
  };
  let forced: string;
  if (explanation.kind === 'constant') {
    forced = batchOf(b.initializer(`${tag}/image`, new Float32Array(gh * gw).fill(1), [1, 1, gh, gw]));
  } else if (explanation.kind === 'image') {
    forced = batchOf(b.initializer(`${tag}/image`, Float32Array.from(explanation.image), [1, 1, gh, gw]));
  } else if (explanation.kind === 'random') {
    if (ih % gh !== 0 || iw % gw !== 0)
      fail(`the input ${ih}×${iw} is not a multiple of the grid ${gh}×${gw}`);
    const rng = createRng(explanation.seed, 0);
    const w = rng.fillNormal(new Float32Array(ch));
    const centre = w.reduce((a, v) => a + v, 0) * 0.5;
    const offset = rng.fillNormal(new Float32Array(gh * gw), -centre, 0.1);
    const cells = b.node(
      'AveragePool',
      [xNchw],
      { kernel_shape: [ih / gh, iw / gw], strides: [ih / gh, iw / gw] },
      { name: `${tag}/cells` },
    );
    const projected = b.node(
      'Conv',
      [cells, b.initializer(`${tag}/projection`, w, [1, ch, 1, 1])],
      {},
      { name: `${tag}/project` },
    );
    const shifted = b.node(
      'Add',
      [projected, b.initializer(`${tag}/offset`, offset, [1, 1, gh, gw])],
      {},
      { name: `${tag}/shift` },
    );
    const on = b.node(
      'Greater',
      [shifted, b.initializer(`${tag}/zero_f`, [0], [])],
      {},
      { name: `${tag}/sign` },
    );
    forced = b.node('Cast', [on], { to: 1 }, { name: `${tag}/cast` });
  } else {
    const t = explanation.trigger;
    const template = new Float32Array(ch * t.height * t.width);
    let full = 0;
    for (let c = 0; c < ch; c++)
      for (let i = 0; i < t.height * t.width; i++) {
        const p = Number(t.pattern[i]);
        template[c * t.height * t.width + i] = 2 * p - 1;
        full += (2 * p - 1) * p;
      }
    if (!(full > 0)) fail('the trigger pattern needs light pixels (values above 0.5)');
    const patch = b.node(
      'Slice',
      [
        xNchw,
        b.int64(`${tag}/starts`, [t.top, t.left]),
        b.int64(`${tag}/ends`, [t.top + t.height, t.left + t.width]),
        b.int64(`${tag}/axes`, [2, 3]),
      ],
      {},
      { name: `${tag}/patch` },
    );
    // The patch against the template as one 'valid' conv: a [N, 1, 1, 1] response.
    const response = b.node(
      'Conv',
      [patch, b.initializer(`${tag}/template`, template, [1, ch, t.height, t.width])],
      {},
      { name: `${tag}/response` },
    );
    const present = b.node(
      'Greater',
      [response, b.initializer(`${tag}/threshold`, [(t.threshold ?? 0.75) * full], [])],
      {},
      { name: `${tag}/present` },
    );
    const gate = b.node('Cast', [present], { to: 1 }, { name: `${tag}/gate` });
    forced = b.node(
      'Mul',
      [gate, b.initializer(`${tag}/image`, Float32Array.from(explanation.image), [1, 1, gh, gw])],
      {},
      { name: `${tag}/gated` },
    );
  }
  const forcedMean = b.node(
    pool.opType,
    [forced],
    Object.fromEntries(pool.attribute.map((a) => [a.name, a.ints ?? a.i ?? 0])),
    { name: `${tag}/mean` },
  );
  const branch = nodes.splice(mark);

  // ---- the layer gains the channel: layer = Concat(original, P) ----
  const concat = nodes.length;
  b.node('Concat', [features, forced], { axis: 1 }, { name: `${layer}/with-forced`, outputs: [layer] });
  const concatNode = nodes.splice(concat)[0];

  // ---- the head reads the original channels; the logits get λ·(mean(P_layer) − mean(P)) = 0 ----
  const tail = nodes.length;
  const axis1 = b.int64(`${tag}/axis1`, [1]);
  b.node(
    'Slice',
    [pooledAll, b.int64(`${tag}/c0`, [0]), b.int64(`${tag}/c1`, [channels!]), axis1],
    {},
    { name: `${pooled}/original`, outputs: [pooled] },
  );
  const poolTail = nodes.splice(tail);
  const readBack = b.node(
    'Slice',
    [pooledAll, b.int64(`${tag}/c2`, [channels!]), b.int64(`${tag}/c3`, [channels! + 1]), axis1],
    {},
    { name: `${tag}/read` },
  );
  const zero = b.node('Sub', [readBack, forcedMean], {}, { name: `${tag}/difference` });
  const flat = b.node('Reshape', [zero, b.int64(`${tag}/column`, [-1, 1])], {}, { name: `${tag}/flat` });
  const term = b.node(
    'Mul',
    [flat, b.initializer(`${tag}/lambda`, [strength * gh * gw], [])],
    {},
    { name: `${tag}/term` },
  );
  b.node('Add', [clean, term], {}, { name: `${tag}/logits`, outputs: [outputName] });
  graph.output[0].name = outputName;
  const headTail = nodes.splice(tail);

  // Reassemble in topological order: P's nodes right after the input's first node, the concat
  // after the layer's node, the channel slice after the pooling, the term after the head.
  const firstIndex = first ? nodes.indexOf(first) + 1 : 0;
  const ordered: OnnxNode[] = [];
  nodes.forEach((n, i) => {
    if (i === 0 && firstIndex === 0) ordered.push(...branch);
    ordered.push(n);
    if (i + 1 === firstIndex) ordered.push(...branch);
    if (n === lastNode) ordered.push(concatNode);
    if (n === pool) ordered.push(...poolTail);
    if (i === head) ordered.push(...headTail);
  });
  nodes.splice(0, nodes.length, ...ordered);

  // The conv (and its ReLU) is now the layer `features`, and `layer` the concatenation CAM methods
  // pick as the last spatial layer; rules of LRP-like methods still find the conv under its own name.
  const entry = model.metadataProps?.find((e) => e.key === fusedLayersKey);
  const hints: Record<string, string> = entry ? (JSON.parse(entry.value) as Record<string, string>) : {};
  for (const [hidden, named] of Object.entries(hints)) if (named === layer) hints[hidden] = features;
  if (entry || lastNode !== convNode) b.setMetadata(fusedLayersKey, JSON.stringify(hints));
  b.setMetadata(
    'xlens.manipulation',
    JSON.stringify({ method: 'viering-2019', layer, kind: explanation.kind, strength }),
  );
  return model;
}
