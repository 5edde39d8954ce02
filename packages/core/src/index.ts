/**
 * @xlens/core — the contracts every xlens package shares: plain tensors and their helpers, the
 * backend-neutral `Model` with optional capabilities, declarative backward rules, the explainer
 * descriptor, `explain()`, a registry instance, typed errors. No runtime dependencies.
 */

export {
  chunkRanges,
  MeasuredBatchSize,
  measuredBatchBytes,
  measuredBatchMax,
  measuredBatchStart,
  measuredBatchStartBytes,
} from './batching.js';
export { allCapabilities, capabilityMembers, hasCapabilities, type ModelWith } from './capabilities.js';
export * from './check.js';
export * from './errors.js';
export { defineMetric, evaluate, summarizeScores } from './evaluate.js';
export {
  type ContextParts,
  checkCapabilities,
  checkFiniteResult,
  defaultBatchSize,
  defineExplainer,
  explain,
  makeContext,
  validateInput,
} from './explain.js';
export type * from './explainer.js';
export { fromFunction } from './function-model.js';
export { boxArea, boxesToMasks, boxFromMask, boxIoU } from './ground-truth.js';
export { type FileSource, memoryFiles, readFileBytes } from './io/files.js';
export { parseNpy, serializeNpy } from './io/npy.js';
export { parseNpz, serializeNpz } from './io/npz.js';
export { findLayer, findSpatialLayer, isSpatial, lastSpatialLayer } from './layers.js';
export type * from './metric.js';
export { MetricRegistry, metricCategories } from './metric.js';
export type * from './model.js';
export {
  type BaselineName,
  type BaselineOptions,
  type BaselineSpec,
  baselineNames,
  checkBaseline,
  isBaselinePath,
  makeBaseline,
} from './ops/baselines.js';
export { gaussianBlur } from './ops/blur.js';
export {
  abs,
  maxAbsPerItem,
  minMaxPerItem,
  percentile,
  percentileClipPerItem,
  relu,
} from './ops/normalize.js';
export { createRng, createSampleRng, type Rng } from './ops/random.js';
export {
  type ChannelReduction,
  imageDims,
  reduceChannels,
  toChannelsFirst,
  toChannelsLast,
} from './ops/reduce.js';
export { resizeBilinear } from './ops/resize.js';
export * from './ops/superpixels.js';
export { mergeOptions, parseOptionValue, runOptionKeys } from './options.js';
export { type MethodById, Registry } from './registry.js';
export * from './rules.js';
export * from './stream.js';
export { argmaxRows, checkScoreKind, resolveTarget, scoreCotangent, scoreOf, topK } from './targets.js';
export * from './tensor.js';
export { itemList } from './text.js';
export { multiplicativeNoise, randomizeLayers } from './weights.js';
