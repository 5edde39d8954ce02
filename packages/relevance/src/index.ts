/**
 * @xlens/relevance — decomposition methods: LRP with its rules, composites and canonizers, CLRP,
 * SGLRP, DeepLIFT (Rescale), Deep Taylor, PatternNet and PatternAttribution. Rules are data that
 * the backends compile; this package owns the vocabulary and which rule goes where.
 */
export * from './rules.js';
export * from './composites.js';
export { type LinearLayer, linearLayers, isInputFed, linearKinds } from './graph.js';
export { checkRules } from './check-rules.js';
export { resolveLrpRules, lrpRuleDefaults, loadRuleMap, inputBounds, type LrpRuleOptions, type BoundOption } from './resolve-rules.js';
export { lrpOptionSpecs, type LrpMethodOptions } from './lrp-options.js';
export { lrp, type LrpOptions } from './lrp.js';
export { clrp, type ClrpOptions } from './clrp.js';
export { sglrp, type SglrpOptions } from './sglrp.js';
export { deeplift, type DeepLiftOptions } from './deeplift.js';
export { deepTaylor, type DeepTaylorOptions } from './deep-taylor.js';
export { referenceBatch, baselineKinds, type BaselineKind } from './baselines.js';
