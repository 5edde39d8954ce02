/**
 * @xlens/perturbation — methods that need only a model's forward pass, so they explain any black
 * box (core's `fromFunction`) as well as tfjs and ONNX models: Occlusion, RISE, LIME, KernelSHAP
 * and prediction difference analysis; and masks learned by optimisation on the model's gradients —
 * meaningful and extremal perturbation, FGVis — or predicted by a trained masking model
 * (real-time saliency). Nothing registers itself: add `perturbationMethods` to a registry.
 */
import type { AnyExplainer } from '@xlens/core';
import { extremalPerturbation } from './extremal-perturbation.js';
import { fgvis } from './fgvis.js';
import { kernelShap } from './kernel-shap.js';
import { lime } from './lime.js';
import { meaningfulPerturbation } from './meaningful-perturbation.js';
import { occlusion } from './occlusion.js';
import { predictionDifference } from './prediction-difference.js';
import { realTimeSaliency } from './real-time-saliency.js';
import { rise } from './rise.js';

export {
  type ExtremalPerturbationExtras,
  type ExtremalPerturbationOptions,
  extremalPerturbation,
} from './extremal-perturbation.js';
export { type FgvisOptions, fgvis } from './fgvis.js';
export type { MaskObjective } from './internal/mask-descent.js';
export type { MaskGameExtras } from './internal/mask-game.js';
export type { SegmentationSpec, SegmentExtras, SegmentFill, SegmentOptions } from './internal/segments.js';
export type { PixelSize } from './internal/windows.js';
export { type KernelShapExtras, type KernelShapOptions, kernelShap } from './kernel-shap.js';
export { type LimeExtras, type LimeOptions, lime } from './lime.js';
export { type MeaningfulPerturbationOptions, meaningfulPerturbation } from './meaningful-perturbation.js';
export { type OcclusionExtras, type OcclusionOptions, occlusion } from './occlusion.js';
export { type PredictionDifferenceOptions, predictionDifference } from './prediction-difference.js';
export {
  type RealTimeSaliencyExtras,
  type RealTimeSaliencyOptions,
  realTimeSaliency,
} from './real-time-saliency.js';
export { type RiseOptions, rise } from './rise.js';

/** Every method of this package, to register: `new Registry([...perturbationMethods])`. */
export const perturbationMethods = [
  occlusion,
  rise,
  lime,
  kernelShap,
  predictionDifference,
  meaningfulPerturbation,
  extremalPerturbation,
  fgvis,
  realTimeSaliency,
] as const satisfies readonly AnyExplainer[];
