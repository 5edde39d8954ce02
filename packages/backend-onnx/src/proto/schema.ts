/**
 * The subset of the ONNX protobuf schema xlens reads and writes, as a protobufjs JSON descriptor.
 * Field numbers follow the public ONNX IR specification; names are camelCase so that decoded
 * objects read naturally in TypeScript. Fields xlens does not model (training info, quantization
 * annotations) are still declared when dropping them on re-encoding would change what the model
 * means to ONNX Runtime.
 */
import protobuf from 'protobufjs/light.js';

type Fields = Record<string, { id: number; type: string; rule?: 'repeated'; options?: { packed: boolean } }>;

const rep = (id: number, type: string, packed?: boolean) =>
  packed === undefined
    ? { id, type, rule: 'repeated' as const }
    : { id, type, rule: 'repeated' as const, options: { packed } };
const one = (id: number, type: string) => ({ id, type });

const entry: Fields = { key: one(1, 'string'), value: one(2, 'string') };

const tensor: Fields = {
  dims: rep(1, 'int64', false),
  dataType: one(2, 'int32'),
  segment: one(3, 'TensorSegment'),
  floatData: rep(4, 'float', true),
  int32Data: rep(5, 'int32', true),
  stringData: rep(6, 'bytes'),
  int64Data: rep(7, 'int64', true),
  name: one(8, 'string'),
  rawData: one(9, 'bytes'),
  doubleData: rep(10, 'double', true),
  uint64Data: rep(11, 'uint64', true),
  docString: one(12, 'string'),
  externalData: rep(13, 'StringStringEntry'),
  dataLocation: one(14, 'int32'),
  metadataProps: rep(16, 'StringStringEntry'),
};

const attribute: Fields = {
  name: one(1, 'string'),
  f: one(2, 'float'),
  i: one(3, 'int64'),
  s: one(4, 'bytes'),
  t: one(5, 'Tensor'),
  g: one(6, 'Graph'),
  floats: rep(7, 'float', false),
  ints: rep(8, 'int64', false),
  strings: rep(9, 'bytes'),
  tensors: rep(10, 'Tensor'),
  graphs: rep(11, 'Graph'),
  docString: one(13, 'string'),
  tp: one(14, 'Type'),
  typeProtos: rep(15, 'Type'),
  type: one(20, 'int32'),
  refAttrName: one(21, 'string'),
  sparseTensor: one(22, 'SparseTensor'),
  sparseTensors: rep(23, 'SparseTensor'),
};

const node: Fields = {
  input: rep(1, 'string'),
  output: rep(2, 'string'),
  name: one(3, 'string'),
  opType: one(4, 'string'),
  attribute: rep(5, 'Attribute'),
  docString: one(6, 'string'),
  domain: one(7, 'string'),
  overload: one(8, 'string'),
  metadataProps: rep(9, 'StringStringEntry'),
};

const graph: Fields = {
  node: rep(1, 'Node'),
  name: one(2, 'string'),
  initializer: rep(5, 'Tensor'),
  docString: one(10, 'string'),
  input: rep(11, 'ValueInfo'),
  output: rep(12, 'ValueInfo'),
  valueInfo: rep(13, 'ValueInfo'),
  quantizationAnnotation: rep(14, 'TensorAnnotation'),
  sparseInitializer: rep(15, 'SparseTensor'),
  metadataProps: rep(16, 'StringStringEntry'),
};

const model: Fields = {
  irVersion: one(1, 'int64'),
  producerName: one(2, 'string'),
  producerVersion: one(3, 'string'),
  domain: one(4, 'string'),
  modelVersion: one(5, 'int64'),
  docString: one(6, 'string'),
  graph: one(7, 'Graph'),
  opsetImport: rep(8, 'OperatorSetId'),
  metadataProps: rep(14, 'StringStringEntry'),
  trainingInfo: rep(20, 'TrainingInfo'),
  functions: rep(25, 'Function'),
};

const fn: Fields = {
  name: one(1, 'string'),
  input: rep(4, 'string'),
  output: rep(5, 'string'),
  attribute: rep(6, 'string'),
  node: rep(7, 'Node'),
  docString: one(8, 'string'),
  opsetImport: rep(9, 'OperatorSetId'),
  domain: one(10, 'string'),
  attributeProto: rep(11, 'Attribute'),
  valueInfo: rep(12, 'ValueInfo'),
  overload: one(13, 'string'),
  metadataProps: rep(14, 'StringStringEntry'),
};

const descriptor = {
  nested: {
    onnx: {
      nested: {
        StringStringEntry: { fields: entry },
        OperatorSetId: { fields: { domain: one(1, 'string'), version: one(2, 'int64') } },
        TensorSegment: { fields: { begin: one(1, 'int64'), end: one(2, 'int64') } },
        Tensor: { fields: tensor },
        SparseTensor: {
          fields: { values: one(1, 'Tensor'), indices: one(2, 'Tensor'), dims: rep(3, 'int64', false) },
        },
        Dimension: {
          fields: { dimValue: one(1, 'int64'), dimParam: one(2, 'string'), denotation: one(3, 'string') },
        },
        TensorShape: { fields: { dim: rep(1, 'Dimension') } },
        TensorTypeInfo: { fields: { elemType: one(1, 'int32'), shape: one(2, 'TensorShape') } },
        SequenceTypeInfo: { fields: { elemType: one(1, 'Type') } },
        MapTypeInfo: { fields: { keyType: one(1, 'int32'), valueType: one(2, 'Type') } },
        OptionalTypeInfo: { fields: { elemType: one(1, 'Type') } },
        Type: {
          fields: {
            tensorType: one(1, 'TensorTypeInfo'),
            sequenceType: one(4, 'SequenceTypeInfo'),
            mapType: one(5, 'MapTypeInfo'),
            denotation: one(6, 'string'),
            sparseTensorType: one(8, 'TensorTypeInfo'),
            optionalType: one(9, 'OptionalTypeInfo'),
          },
        },
        ValueInfo: {
          fields: {
            name: one(1, 'string'),
            type: one(2, 'Type'),
            docString: one(3, 'string'),
            metadataProps: rep(4, 'StringStringEntry'),
          },
        },
        Attribute: { fields: attribute },
        Node: { fields: node },
        TensorAnnotation: {
          fields: { tensorName: one(1, 'string'), quantParameterTensorNames: rep(2, 'StringStringEntry') },
        },
        Graph: { fields: graph },
        TrainingInfo: {
          fields: {
            initialization: one(1, 'Graph'),
            algorithm: one(2, 'Graph'),
            initializationBinding: rep(3, 'StringStringEntry'),
            updateBinding: rep(4, 'StringStringEntry'),
          },
        },
        Function: { fields: fn },
        Model: { fields: model },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);

/** The protobufjs type of an ONNX `ModelProto`. */
export const ModelType: protobuf.Type = root.lookupType('onnx.Model');
