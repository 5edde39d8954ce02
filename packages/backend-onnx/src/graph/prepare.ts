import { type OutputActivation, UnsupportedError } from '@xlens/core';
import { valueInfo } from '../builder.js';
import { DataType, type OnnxModel, type OnnxNode, type OnnxValueInfo } from '../proto/types.js';

/** The model with one input and one output picked and a symbolic batch dimension. */
export interface PreparedModel {
  readonly model: OnnxModel;
  readonly inputName: string;
  readonly outputName: string;
  /** Dims of one input item as declared by the model (unknown dims are -1). */
  readonly itemDims: readonly number[];
  /** The softmax head the output was computed by, removed unless `stripSoftmax: false` (ADR 0007). */
  readonly outputActivation?: OutputActivation;
}

/** A copy of the model whose graph lists can be changed without touching the original (tensors are shared). */
export function shallowCopy(model: OnnxModel): OnnxModel {
  const g = model.graph;
  return {
    ...model,
    opsetImport: model.opsetImport.map((o) => ({ ...o })),
    graph: {
      ...g,
      node: [...g.node],
      initializer: [...g.initializer],
      input: [...g.input],
      output: [...g.output],
      valueInfo: [...g.valueInfo],
    },
  };
}

function dimsOf(v: OnnxValueInfo): number[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
    typeof d.dimValue === 'number' && d.dimValue > 0 ? d.dimValue : -1,
  );
}

const heads: Record<string, OutputActivation['kind']> = { Softmax: 'softmax', LogSoftmax: 'log-softmax' };

/**
 * The `Softmax`/`LogSoftmax` over the last axis that computes `output` (through `Identity`), and
 * the nodes from it to the output. The output is a classifier's `N×K`, so the axis is the last
 * one when it is -1 or 1 (opset < 13 defaults to 1, which flattens the rest: the same for N×K).
 */
function softmaxHead(model: OnnxModel, output: OnnxValueInfo): { node: OnnxNode; chain: OnnxNode[] } | null {
  const g = model.graph;
  const producer = new Map<string, OnnxNode>();
  for (const n of g.node) for (const y of n.output) producer.set(y, n);
  const opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 1;
  const rank = output.type?.tensorType?.shape?.dim?.length;
  const chain: OnnxNode[] = [];
  let node = producer.get(output.name);
  while (node?.opType === 'Identity') {
    chain.push(node);
    node = producer.get(node.input[0]);
  }
  if (!node || !heads[node.opType] || (node.domain && node.domain !== 'ai.onnx')) return null;
  const axis = node.attribute.find((a) => a.name === 'axis')?.i ?? (opset < 13 ? 1 : -1);
  const last =
    axis === -1 ||
    (axis === 1 && (rank === undefined || rank === 2)) ||
    (rank !== undefined && axis === rank - 1);
  if (!last) return null;
  // Only a head nothing else reads can be cut off.
  const inner = new Set([node, ...chain]);
  const readers = g.node.filter((n) => !inner.has(n) && n.input.some((x) => inner.has(producer.get(x)!)));
  return readers.length === 0 ? { node, chain: [node, ...chain] } : null;
}

/**
 * Pick the model input (the graph input that is not an initializer, or `inputName`) and output
 * (the first graph output, or `outputName`); drop the other outputs and the intermediate shape
 * annotations (they often pin the batch to 1), and make the batch dimension symbolic.
 */
export function prepareModel(
  source: OnnxModel,
  options: { inputName?: string; outputName?: string; stripSoftmax?: boolean },
): PreparedModel {
  const model = shallowCopy(source);
  const g = model.graph;
  const inits = new Set(g.initializer.map((t) => t.name));
  const inputs = g.input.filter((v) => !inits.has(v.name));
  let input: OnnxValueInfo | undefined;
  if (options.inputName !== undefined) {
    input = inputs.find((v) => v.name === options.inputName);
    if (!input) {
      throw new UnsupportedError(
        'invalid-model',
        `the model has no input ${JSON.stringify(options.inputName)}; its inputs: ${inputs.map((v) => v.name).join(', ')}`,
      );
    }
  } else if (inputs.length === 1) {
    input = inputs[0];
  } else {
    throw new UnsupportedError(
      'invalid-model',
      `the model has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}); xlens explains single-input models: pass inputName to pick one when the others have defaults`,
    );
  }
  const elem = input.type?.tensorType?.elemType;
  if (elem !== DataType.FLOAT) {
    throw new UnsupportedError(
      'unsupported',
      `model input ${input.name} has element type ${elem}; xlens feeds float32 (type 1) inputs`,
    );
  }
  let output: OnnxValueInfo | undefined;
  if (options.outputName !== undefined) {
    output = g.output.find((v) => v.name === options.outputName);
    if (!output) {
      throw new UnsupportedError(
        'invalid-model',
        `the model has no output ${JSON.stringify(options.outputName)}; its outputs: ${g.output.map((v) => v.name).join(', ')}`,
      );
    }
  } else {
    output = g.output[0];
    if (!output) throw new UnsupportedError('invalid-model', 'the model has no outputs');
  }
  const dims = dimsOf(input);
  if (dims.length < 2) {
    throw new UnsupportedError(
      'unsupported',
      `model input ${input.name} has rank ${dims.length}; xlens needs a batch dimension and at least one item dimension`,
    );
  }
  // A softmax head is cut off: the output becomes the logits it reads (ADR 0007).
  const head = softmaxHead(model, output);
  let outputActivation: OutputActivation | undefined;
  if (head) {
    const removed = options.stripSoftmax !== false;
    outputActivation = { kind: heads[head.node.opType], layer: head.node.output[0], removed };
    if (removed) {
      const cut = new Set(head.chain);
      g.node = g.node.filter((n) => !cut.has(n));
      output = { name: head.node.input[0], type: output.type };
    }
  }
  const extra = g.input.filter((v) => inits.has(v.name));
  g.input = [valueInfo(input.name, ['N', ...dims.slice(1).map((d) => (d > 0 ? d : null))]), ...extra];
  g.output = [
    {
      name: output.name,
      type: { tensorType: { elemType: output.type?.tensorType?.elemType ?? DataType.FLOAT } },
    },
  ];
  g.valueInfo = [];
  return {
    model,
    inputName: input.name,
    outputName: output.name,
    itemDims: dims.slice(1),
    ...(outputActivation ? { outputActivation } : {}),
  };
}
