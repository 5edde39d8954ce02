/**
 * @xlens/core/testing — oracle models with closed-form answers and the conformance cases every
 * backend runs. Import from `@xlens/core/testing`.
 */

export { type ReferenceModelOptions, referenceModel } from './reference-model.js';
export * from './spec.js';
export { avgPoolCnn, biasFreeCnn, cnnWithBatchNorm, tinyCnn, tinyDense, toyNets } from './toy-nets.js';
