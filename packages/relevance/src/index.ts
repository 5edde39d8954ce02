/**
 * @xlens/relevance — decomposition methods: LRP with its rules, composites and canonizers, CLRP,
 * SGLRP, DeepLIFT (Rescale), Deep Taylor, PatternNet and PatternAttribution. Rules are data that
 * the backends compile; this package owns the vocabulary and which rule goes where.
 */

export { checkRules } from './check-rules.js';
export { type ClrpOptions, clrp } from './clrp.js';
export * from './composites.js';
export { type ConvGeometry, type LayerSource, probeConvGeometry } from './conv-geometry.js';
export { type DeepTaylorOptions, deepTaylor } from './deep-taylor.js';
export { type DeepLiftOptions, deeplift } from './deeplift.js';
export { isInputFed, type LinearLayer, linearKinds, linearLayers } from './graph.js';
export { type LrpOptions, lrp } from './lrp.js';
export { type LrpMethodOptions, lrpOptionSpecs } from './lrp-options.js';
export { type PatternAttributionOptions, patternAttribution } from './pattern-attribution.js';
export {
  loadPatterns,
  patternsFromBytes,
  patternsFromJson,
  patternsToJson,
  patternsToNpz,
} from './pattern-file.js';
export {
  type FitPatternsOptions,
  fitPatterns,
  type LayerPattern,
  type PatternEstimator,
  type Patterns,
} from './pattern-fit.js';
export type { PatternOptions } from './pattern-options.js';
export { type PatternNetOptions, patternnet } from './patternnet.js';
export { readWeights } from './read-weights.js';
export {
  type BoundOption,
  deferRuleFile,
  inputBounds,
  type LrpRuleOptions,
  loadRuleMap,
  lrpRuleDefaults,
  resolveLrpRules,
} from './resolve-rules.js';
export * from './rules.js';
export { type SglrpOptions, sglrp } from './sglrp.js';

import { clrp } from './clrp.js';
import { deepTaylor } from './deep-taylor.js';
import { deeplift } from './deeplift.js';
import { lrp } from './lrp.js';
import { patternAttribution } from './pattern-attribution.js';
import { patternnet } from './patternnet.js';
import { sglrp } from './sglrp.js';

/** Every method of this package, to register: `new Registry([...relevanceMethods])`. */
export const relevanceMethods = [
  lrp,
  clrp,
  sglrp,
  deeplift,
  deepTaylor,
  patternnet,
  patternAttribution,
] as const;
