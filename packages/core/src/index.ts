/**
 * @xlens/core — the contracts every xlens package shares: plain tensors and their helpers, the
 * backend-neutral `Model` with optional capabilities, declarative backward rules, the explainer
 * descriptor, `explain()`, a registry instance, typed errors. No runtime dependencies.
 */

export { chunkRanges, mapChunks } from './batching.js';
export { allCapabilities, capabilityMembers } from './capabilities.js';
export * from './errors.js';
export { checkCapabilities, defaultBatchSize, defineExplainer, explain, validateInput } from './explain.js';
export type * from './explainer.js';
export { fromFunction } from './function-model.js';
export { findLayer, findSpatialLayer, isSpatial, lastSpatialLayer } from './layers.js';
export type * from './model.js';
export {
  abs,
  maxAbsPerItem,
  minMaxPerItem,
  percentile,
  percentileClipPerItem,
  relu,
} from './ops/normalize.js';
export { createRng, type Rng } from './ops/random.js';
export {
  type ChannelReduction,
  imageDims,
  reduceChannels,
  toChannelsFirst,
  toChannelsLast,
} from './ops/reduce.js';
export { resizeBilinear } from './ops/resize.js';
export { mergeOptions, parseOptionValue, runOptionKeys } from './options.js';
export { Registry } from './registry.js';
export * from './rules.js';
export { argmaxRows, checkScoreKind, resolveTarget, scoreCotangent, scoreOf, topK } from './targets.js';
export * from './tensor.js';
export { multiplicativeNoise, randomizeLayers } from './weights.js';
