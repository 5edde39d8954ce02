/**
 * @xlens/perturbation — methods that need only a model's forward pass, so they explain any black
 * box (core's `fromFunction`) as well as tfjs and ONNX models: Occlusion, RISE, LIME, KernelSHAP
 * and prediction difference analysis. Nothing registers itself: add `perturbationMethods` to a
 * registry.
 */
import type { AnyExplainer } from '@xlens/core';
import { kernelShap } from './kernel-shap.js';
import { lime } from './lime.js';
import { occlusion } from './occlusion.js';
import { predictionDifference } from './prediction-difference.js';
import { rise } from './rise.js';

export type { SegmentationSpec, SegmentExtras, SegmentFill, SegmentOptions } from './internal/segments.js';
export type { PixelSize } from './internal/windows.js';
export { type KernelShapExtras, type KernelShapOptions, kernelShap } from './kernel-shap.js';
export { type LimeExtras, type LimeOptions, lime } from './lime.js';
export { type OcclusionExtras, type OcclusionOptions, occlusion } from './occlusion.js';
export { type PredictionDifferenceOptions, predictionDifference } from './prediction-difference.js';
export { type RiseOptions, rise } from './rise.js';

/** Every method of this package, to register: `new Registry([...perturbationMethods])`. */
export const perturbationMethods = [
  occlusion,
  rise,
  lime,
  kernelShap,
  predictionDifference,
] as const satisfies readonly AnyExplainer[];
