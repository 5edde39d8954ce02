import { UnsupportedError } from '@xlens/core';
import { ModelType } from './schema.js';
import { elementSize } from './tensor-data.js';
import type { OnnxGraph, OnnxModel, OnnxTensor } from './types.js';

const toObjectOptions = { longs: Number, enums: Number, arrays: true, defaults: false } as const;

/** @internal An `invalid-model` error (shared with the Node file reader). */
export function invalid(message: string, cause?: unknown): UnsupportedError {
  return new UnsupportedError('invalid-model', message, cause === undefined ? undefined : { cause });
}

function checkTensor(t: OnnxTensor, where: string): void {
  if (!Array.isArray(t.dims) || t.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw invalid(`${where}: tensor ${t.name ?? ''} has invalid dims [${t.dims?.join(', ')}]`);
  }
  if (t.rawData && t.dataLocation !== 1) {
    const size = elementSize(t.dataType);
    const count = t.dims.reduce((a, b) => a * b, 1);
    if (size > 0 && t.rawData.length !== size * count) {
      throw invalid(
        `${where}: tensor ${t.name ?? ''} has ${t.rawData.length} bytes of data, expected ${size * count} for dims [${t.dims.join(', ')}]`,
      );
    }
  }
}

function checkGraph(g: OnnxGraph, where: string, outer: ReadonlySet<string>): void {
  const known = new Set<string>(outer);
  for (const t of g.initializer) {
    checkTensor(t, where);
    if (t.name) known.add(t.name);
  }
  for (const v of g.input) {
    if (typeof v.name !== 'string' || v.name === '') throw invalid(`${where}: a graph input has no name`);
    known.add(v.name);
  }
  for (let i = 0; i < g.node.length; i++) {
    const n = g.node[i];
    if (typeof n.opType !== 'string' || n.opType === '') throw invalid(`${where}: node #${i} has no op_type`);
    const label = `node ${n.name || `#${i}`} (${n.opType})`;
    for (const x of n.input) {
      if (x !== '' && !known.has(x)) {
        throw invalid(
          `${where}: ${label} reads tensor ${JSON.stringify(x)}, which no earlier node, input or initializer produces`,
        );
      }
    }
    for (const a of n.attribute) {
      if (a.t) checkTensor(a.t, `${where}: ${label}`);
      if (a.g) checkGraph(a.g, `${where}: ${label} subgraph`, known);
      for (const sub of a.graphs ?? []) checkGraph(sub, `${where}: ${label} subgraph`, known);
    }
    for (const y of n.output) if (y !== '') known.add(y);
  }
  for (const o of g.output) {
    if (!known.has(o.name))
      throw invalid(`${where}: graph output ${JSON.stringify(o.name)} is never produced`);
  }
}

/** Give every repeated field an array and every graph its lists, so later code needs no guards. */
function normaliseGraph(g: OnnxGraph): void {
  g.node ??= [];
  g.initializer ??= [];
  g.input ??= [];
  g.output ??= [];
  g.valueInfo ??= [];
  for (const n of g.node) {
    n.input ??= [];
    n.output ??= [];
    n.attribute ??= [];
    for (const a of n.attribute) {
      if (a.g) normaliseGraph(a.g);
      for (const sub of a.graphs ?? []) normaliseGraph(sub);
    }
  }
  for (const t of g.initializer) t.dims ??= [];
}

/**
 * Decode ONNX model bytes. A file that is not a valid ONNX model (corrupt, truncated, another
 * format, or a graph that reads tensors nobody produces) throws `UnsupportedError` with code
 * `invalid-model`; it never reaches ONNX Runtime. Tensors stored as external data keep their
 * `externalData` entries; `loadExternalData` from `@xlens/backend-onnx/node` reads them.
 */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0)
    throw invalid('the ONNX model is empty (0 bytes)');
  let model: OnnxModel;
  try {
    const message = ModelType.decode(bytes);
    model = ModelType.toObject(message, toObjectOptions) as unknown as OnnxModel;
  } catch (error) {
    throw invalid(
      `not a valid ONNX model: the protobuf could not be decoded (${(error as Error).message}); the file may be truncated or corrupt`,
      error,
    );
  }
  if (!model.graph) throw invalid('not a valid ONNX model: it has no graph (is this an .onnx file?)');
  if (!model.irVersion || model.irVersion < 3) {
    throw invalid(
      `not a valid ONNX model: ir_version ${model.irVersion ?? 'missing'} (xlens reads IR version 3 or later)`,
    );
  }
  model.opsetImport ??= [];
  normaliseGraph(model.graph);
  try {
    checkGraph(model.graph, 'graph', new Set());
  } catch (error) {
    if (error instanceof UnsupportedError) throw error;
    throw invalid(`not a valid ONNX model: ${(error as Error).message}`, error);
  }
  return model;
}

/** Encode a model to ONNX protobuf bytes. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const message = ModelType.fromObject(model as unknown as Record<string, unknown>);
  return ModelType.encode(message).finish();
}

/** @internal Every tensor of a graph: initializers and node attributes, subgraphs included. */
export function* allTensors(g: OnnxGraph): Generator<OnnxTensor> {
  yield* g.initializer;
  for (const n of g.node) {
    for (const a of n.attribute) {
      if (a.t) yield a.t;
      for (const t of a.tensors ?? []) yield t;
      if (a.g) yield* allTensors(a.g);
      for (const sub of a.graphs ?? []) yield* allTensors(sub);
    }
  }
}
