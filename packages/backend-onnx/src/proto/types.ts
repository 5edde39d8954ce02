/**
 * Plain TypeScript views of the ONNX protobuf messages xlens works with. 64-bit integers are
 * JavaScript numbers (values beyond ±2^53 saturate, which only ever concerns "to the end"
 * sentinels such as `Slice`'s INT64_MAX, and those round-trip).
 */

/** ONNX tensor element types (`TensorProto.DataType`). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** ONNX attribute types (`AttributeProto.AttributeType`). */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 14,
  TYPE_PROTOS: 13,
} as const;

/** A key/value string pair (`StringStringEntryProto`). */
export interface OnnxEntry {
  key: string;
  value: string;
}

/** An operator set import (`OperatorSetIdProto`); `domain` '' or absent is the default ONNX domain. */
export interface OnnxOpset {
  domain?: string;
  version: number;
}

/** A tensor (`TensorProto`): an initializer or a constant attribute value. */
export interface OnnxTensor {
  name?: string;
  dataType: number;
  dims: number[];
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  stringData?: Uint8Array[];
  /** 1 = EXTERNAL: the bytes live in a file named by `externalData`. */
  dataLocation?: number;
  externalData?: OnnxEntry[];
  docString?: string;
  [extra: string]: unknown;
}

/** A tensor shape dimension: a fixed size, a symbolic name, or unknown. */
export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

/** A type (`TypeProto`); xlens only reasons about tensor types. */
export interface OnnxType {
  tensorType?: { elemType?: number; shape?: { dim?: OnnxDimension[] } };
  [other: string]: unknown;
}

/** A named, typed value (`ValueInfoProto`): graph inputs, outputs and annotations. */
export interface OnnxValueInfo {
  name: string;
  type?: OnnxType;
  docString?: string;
  [extra: string]: unknown;
}

/** A node attribute (`AttributeProto`). */
export interface OnnxAttribute {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
  graphs?: OnnxGraph[];
  refAttrName?: string;
  [extra: string]: unknown;
}

/** A computation node (`NodeProto`). Empty strings in `input`/`output` are omitted optionals. */
export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute: OnnxAttribute[];
  docString?: string;
  [extra: string]: unknown;
}

/** A graph (`GraphProto`). */
export interface OnnxGraph {
  name?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  docString?: string;
  [extra: string]: unknown;
}

/** A model (`ModelProto`). */
export interface OnnxModel {
  irVersion: number;
  opsetImport: OnnxOpset[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: OnnxGraph;
  metadataProps?: OnnxEntry[];
  [extra: string]: unknown;
}
