/**
 * @xlens/eval — metrics that evaluate attributions: localisation against ground truth,
 * faithfulness by perturbation, robustness of explainers, complexity, similarity of two maps, and
 * the AGG-Mean / AGG-Var aggregation explainers; the sanity checks (`sanityChecks`, ADR 0009).
 * Nothing registers itself: add `evalMetrics` to a `MetricRegistry` and `aggregationMethods` to a
 * method `Registry`.
 */
import type { AnyCheck, AnyExplainer, AnyMetric } from '@xlens/core';
import { aggMean } from './agg-mean.js';
import { aggVar } from './agg-var.js';
import { avgSensitivity } from './avg-sensitivity.js';
import { classSensitivity } from './class-sensitivity.js';
import { complexity } from './complexity.js';
import { continuity } from './continuity.js';
import { dataRandomisation } from './data-randomisation.js';
import { deletion } from './deletion.js';
import { energyPointingGame } from './energy-pointing-game.js';
import { explanationManipulation } from './explanation-manipulation.js';
import { fragility } from './fragility.js';
import { hog } from './hog.js';
import { hyperparameterSensitivity } from './hyperparameter-sensitivity.js';
import { implementationInvariance } from './implementation-invariance.js';
import { infidelity } from './infidelity.js';
import { inputInvariance } from './input-invariance.js';
import { insertion } from './insertion.js';
import { localLipschitz } from './local-lipschitz.js';
import { localisationError } from './localisation-error.js';
import { maxSensitivity } from './max-sensitivity.js';
import { modelRandomisation } from './model-randomisation.js';
import { pearson } from './pearson.js';
import { pixelFlipping } from './pixel-flipping.js';
import { pointingGame } from './pointing-game.js';
import { regionPerturbation } from './region-perturbation.js';
import { relevanceMass } from './relevance-mass.js';
import { relevanceRank } from './relevance-rank.js';
import { road } from './road.js';
import { selectivity } from './selectivity.js';
import { sensitivityN } from './sensitivity-n.js';
import { sparseness } from './sparseness.js';
import { spearman } from './spearman.js';
import { spearmanAbs } from './spearman-abs.js';
import { ssim } from './ssim.js';
import { ssrSaliency } from './ssr-saliency.js';
import { topKIntersection } from './top-k-intersection.js';

export { aggMean } from './agg-mean.js';
export { aggVar } from './agg-var.js';
export { type AvgSensitivityOptions, avgSensitivity } from './avg-sensitivity.js';
export { type ClassSensitivityOptions, classSensitivity } from './class-sensitivity.js';
export { type ComplexityOptions, complexity } from './complexity.js';
export { type ContinuityOptions, continuity } from './continuity.js';
export { type DataRandomisationOptions, dataRandomisation } from './data-randomisation.js';
export { type DeletionOptions, deletion } from './deletion.js';
export { type EnergyPointingGameOptions, energyPointingGame } from './energy-pointing-game.js';
export {
  type ExplanationManipulationOptions,
  explanationManipulation,
} from './explanation-manipulation.js';
export { type FragilityOptions, fragility } from './fragility.js';
export { type HogOptions, hog, hogFeatures } from './hog.js';
export {
  type HyperparameterSensitivityOptions,
  hyperparameterSensitivity,
} from './hyperparameter-sensitivity.js';
export {
  type ImplementationInvarianceOptions,
  implementationInvariance,
  implementationPair,
} from './implementation-invariance.js';
export { type InfidelityOptions, infidelity } from './infidelity.js';
export { type InputInvarianceOptions, inputInvariance } from './input-invariance.js';
export { type InsertionOptions, insertion } from './insertion.js';
export type { AggregationOptions } from './internal/aggregate.js';
export type { SensitivityOptions } from './internal/sensitivity.js';
export { type LocalLipschitzOptions, localLipschitz } from './local-lipschitz.js';
export { type LocalisationErrorOptions, localisationError } from './localisation-error.js';
export { type MaxSensitivityOptions, maxSensitivity } from './max-sensitivity.js';
export {
  type ModelRandomisationOptions,
  modelRandomisation,
  randomisableLayers,
} from './model-randomisation.js';
export { type PearsonOptions, pearson } from './pearson.js';
export { type PixelFlippingOptions, pixelFlipping } from './pixel-flipping.js';
export { type PointingGameOptions, pointingGame } from './pointing-game.js';
export { type RegionPerturbationOptions, regionPerturbation } from './region-perturbation.js';
export { type RelevanceMassOptions, relevanceMass } from './relevance-mass.js';
export { type RelevanceRankOptions, relevanceRank } from './relevance-rank.js';
export { type RoadOptions, road } from './road.js';
export { type SelectivityOptions, selectivity } from './selectivity.js';
export { type SensitivityNOptions, sensitivityN } from './sensitivity-n.js';
export { type SparsenessOptions, sparseness } from './sparseness.js';
export { type SpearmanOptions, spearman } from './spearman.js';
export { type SpearmanAbsOptions, spearmanAbs } from './spearman-abs.js';
export { type SsimOptions, ssim, structuralSimilarity } from './ssim.js';
export { type SsrSaliencyOptions, ssrSaliency } from './ssr-saliency.js';
export { type TopKIntersectionOptions, topKIntersection } from './top-k-intersection.js';

/** Every metric of this package, by category, to register: `new MetricRegistry(evalMetrics)`. */
export const evalMetrics: readonly AnyMetric[] = [
  localisationError,
  pointingGame,
  relevanceMass,
  relevanceRank,
  energyPointingGame,
  deletion,
  insertion,
  pixelFlipping,
  regionPerturbation,
  selectivity,
  sensitivityN,
  infidelity,
  ssrSaliency,
  road,
  maxSensitivity,
  avgSensitivity,
  continuity,
  hyperparameterSensitivity,
  localLipschitz,
  sparseness,
  complexity,
  spearman,
  spearmanAbs,
  pearson,
  ssim,
  hog,
  topKIntersection,
];

/**
 * The sanity checks (ADR 0009), each with its fixed pass/fail threshold: run one with
 * `check.run({ model, input, explainer }, options)`.
 */
export const sanityChecks: readonly AnyCheck[] = [
  modelRandomisation,
  dataRandomisation,
  inputInvariance,
  implementationInvariance,
  classSensitivity,
  fragility,
  explanationManipulation,
];

/** The aggregation explainers, registered like methods: `new Registry([...aggregationMethods, …])`. */
export const aggregationMethods: readonly AnyExplainer[] = [aggMean, aggVar];
