/**
 * @xlens/backend-onnx — the xlens `Model` contract on ONNX Runtime (Node): forward, captures of
 * any intermediate tensor, and gradients with backward rules computed by reverse-mode
 * differentiation of the ONNX graph itself, in one ORT session. Also an ONNX protobuf codec and a
 * graph builder for writing models. Toy models for tests: `@xlens/backend-onnx/testing`.
 */

export { differentiableOpTypes } from './autodiff/registry.js';
export {
  type AttributeValue,
  type DimSpec,
  type FloatAttribute,
  floatAttr,
  makeAttribute,
  type NodeOptions,
  OnnxGraphBuilder,
  valueInfo,
} from './builder.js';
export { fusedLayersKey } from './layer-list.js';
export { fromOnnx, type OnnxModelOptions } from './onnx-model.js';
export { decodeOnnxModel, encodeOnnxModel, loadExternalData, readOnnxModel } from './proto/codec.js';
export { elementSize, floatTensor, int64Tensor, tensorFloat32, tensorNumbers } from './proto/tensor-data.js';
export type * from './proto/types.js';
export { AttributeType, DataType } from './proto/types.js';
