/**
 * @xlens/backend-onnx — the xlens `Model` contract on ONNX Runtime (onnxruntime-node, or any
 * runtime with its API such as onnxruntime-web, passed as `runtime`): forward, captures of any
 * intermediate tensor, and gradients with backward rules computed by reverse-mode differentiation
 * of the ONNX graph itself, in one ORT session. Also an ONNX protobuf codec and a graph builder for
 * writing models. This entry imports no Node.js module; reading files is in
 * `@xlens/backend-onnx/node`. Toy models for tests: `@xlens/backend-onnx/testing`.
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
export {
  type ExplanationTrigger,
  type ForcedExplanation,
  type ManipulateGradCamOptions,
  manipulateGradCam,
} from './manipulate-grad-cam.js';
export { loadExternalData, readOnnxModel } from './node-wrappers.js';
export { fromOnnx, type OnnxModelOptions, setupMilliseconds } from './onnx-model.js';
export { decodeOnnxModel, encodeOnnxModel } from './proto/codec.js';
export { elementSize, floatTensor, int64Tensor, tensorFloat32, tensorNumbers } from './proto/tensor-data.js';
export type * from './proto/types.js';
export { AttributeType, DataType } from './proto/types.js';
export type {
  OnnxRuntime,
  OrtSession,
  OrtSessionOptions,
  OrtTensor,
  OrtValueMetadata,
} from './runtime.js';
export type { CachedEntry, OnnxSessionCache } from './session-cache.js';
