/**
 * @xlens/core — the contracts every xlens package shares: plain tensors and their helpers, the
 * backend-neutral `Model` with optional capabilities, declarative backward rules, the explainer
 * descriptor, `explain()`, a registry instance, typed errors. No runtime dependencies.
 */
export * from './errors.js';
export * from './tensor.js';
export type * from './model.js';
export * from './rules.js';
export type * from './explainer.js';
export { explain, defineExplainer, validateInput, checkCapabilities, defaultBatchSize } from './explain.js';
export { Registry } from './registry.js';
export { mergeOptions, parseOptionValue, runOptionKeys } from './options.js';
export { resolveTarget, scoreCotangent, scoreOf, argmaxRows, topK, checkScoreKind } from './targets.js';
export { chunkRanges, mapChunks } from './batching.js';
export { fromFunction } from './function-model.js';
export { findLayer, findSpatialLayer, lastSpatialLayer, isSpatial } from './layers.js';
export { randomizeLayers, multiplicativeNoise } from './weights.js';
export { createRng, type Rng } from './ops/random.js';
export { reduceChannels, imageDims, toChannelsFirst, toChannelsLast, type ChannelReduction } from './ops/reduce.js';
export { resizeBilinear } from './ops/resize.js';
export { percentile, minMaxPerItem, percentileClipPerItem, maxAbsPerItem, abs, relu } from './ops/normalize.js';
