/**
 * @xlens/synthesis — what a network has learned rather than why it made one decision: activation
 * maximisation with the regularisers of the literature and Olah's decorrelated parametrisation,
 * Simonyan's class model, representation inversion, DGN-AM (in a generator's code space),
 * hidden-layer views (activation grids, filters, top data-set patches) and network dissection.
 * Objectives are plain data. Nothing registers itself: add `synthesisMethods` to a registry.
 */
import type { AnyExplainer } from '@xlens/core';
import { activationMaximisation } from './activation-maximisation.js';
import { classModel } from './class-model.js';
import { inversion } from './inversion.js';

export { type ActivationGrid, activationGrid } from './activation-grid.js';
export { type ActivationMaximisationOptions, activationMaximisation } from './activation-maximisation.js';
export { type ClassModelOptions, classModel } from './class-model.js';
export type { DataRunOptions } from './data-context.js';
export { type DgnAmOptions, dgnAm } from './dgn-am.js';
export {
  type Concept,
  conceptsFromLabels,
  type DissectionOptions,
  dissect,
  type UnitLabel,
} from './dissection.js';
export { type FilterImages, filterImages } from './filter-images.js';
export { type InversionOptions, inversion } from './inversion.js';
export {
  type ClassScore,
  checkObjective,
  flattenObjective,
  formatObjective,
  type Objective,
  parseObjective,
  toObjective,
  type WeightedObjective,
} from './objective.js';
export { baseSettings, type SynthesisSettings, settingSpecs } from './settings.js';
export { type Snapshot, synthesisSnapshots } from './snapshots.js';
export type { SynthesisExtras } from './synthesize.js';
export { type ReceptiveField, receptiveField, topPatches, type UnitPatches } from './top-patches.js';

/**
 * Every synthesis method, to register: `new Registry([...synthesisMethods])`. DGN-AM needs a
 * generator, so it is made per generator (`dgnAm(generator)`) and is not in this list.
 */
export const synthesisMethods: readonly AnyExplainer[] = [activationMaximisation, classModel, inversion];
