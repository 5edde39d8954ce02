/**
 * @xlens/core/testing — oracle models with closed-form answers and the conformance cases every
 * backend runs. Import from `@xlens/core/testing`.
 */

export {
  assertClose,
  type BackwardFields,
  compareBackward,
  defaultTolerance,
  oneHotRows,
  randomInput,
  randomTensor,
  requireCapabilities,
  requireSameInterface,
} from './compare.js';
export { type ConformanceCase, conformanceCases } from './conformance.js';
export { type ReferenceModelOptions, referenceModel } from './reference-model.js';
export * from './spec.js';
export {
  avgPoolCnn,
  biasFreeCnn,
  cnnWithBatchNorm,
  gapCnn,
  residualCnn,
  tinyCnn,
  tinyDense,
  toyNets,
} from './toy-nets.js';
