/**
 * @xlens/runner — evaluation at data-set scale. A plan (model, data set, methods, metrics, seed)
 * is cut into work units (an item range of one method × metric pair), keyed by content so that
 * each result is written once. `runEmbedded` computes them on a pool of worker threads on this
 * machine; `runOnQueue` and `runQueueWorker` spread them over machines with BullMQ on Redis. Both
 * write the same SQLite schema (`ResultStore`), from which summaries, CSV and JSON lines come.
 */

export { UnitComputer } from './compute.js';
export { datasetFingerprint, datasetSize, type ItemBatch, type ItemError, readItems } from './dataset.js';
export {
  type EmbeddedOptions,
  pendingUnits,
  type RunProgressEvent,
  type RunSummary,
  runEmbedded,
} from './embedded.js';
export { makePlan, type PlanInput } from './make-plan.js';
export { type LoadedModel, loadRunnerModel, modelFingerprint } from './model-source.js';
export {
  canonicalJson,
  checkPlan,
  type DatasetRef,
  type EvaluationPlan,
  type ItemScore,
  type MethodSpecJson,
  type MetricSpecJson,
  type ModelRef,
  planId,
  planUnits,
  type RunnerBackend,
  runnerBackends,
  type UnitResult,
  type WorkUnit,
  type ZooDatasetName,
  zooDatasets,
} from './plan.js';
export { ThreadPool, type ThreadPoolOptions } from './pool.js';
export { durationText, progressText } from './progress-text.js';
export {
  defaultQueueName,
  type QueueRunOptions,
  type QueueTiming,
  type QueueWorkerHandle,
  type QueueWorkerOptions,
  redisConnection,
  runOnQueue,
  runQueueWorker,
} from './queue.js';
export { runnerMetricRegistry, runnerRegistry } from './registries.js';
export {
  type MethodSummary,
  ResultStore,
  type RunProgress,
  type ScoreRow,
  scoresCsv,
  scoresJsonl,
} from './store.js';
