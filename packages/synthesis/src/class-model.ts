import { defineExplainer, type Explainer } from '@xlens/core';
import { validateSynthesis } from './activation-maximisation.js';
import { baseSettings, type SynthesisSettings, settingSpecs } from './settings.js';
import { type SynthesisExtras, synthesize } from './synthesize.js';
import { compileObjective } from './terms.js';

/** Options of `class-model`. */
export type ClassModelOptions = Pick<
  SynthesisSettings,
  'steps' | 'learningRate' | 'optimizer' | 'l2' | 'init' | 'initNoise' | 'range' | 'snapshotEvery'
>;

const keys = [
  'steps',
  'learningRate',
  'optimizer',
  'l2',
  'init',
  'initNoise',
  'range',
  'snapshotEvery',
] as const;

/**
 * Simonyan, Vedaldi & Zisserman, 2014, "Deep Inside Convolutional Networks: Visualising Image
 * Classification Models and Saliency Maps", ICLR workshop, arXiv:1312.6034. The class model:
 * arg max_x S_c(x) − λ‖x − centre‖², with S_c the unnormalised score (the logit; the run's `score`
 * option reads another) of each item's target class, by gradient ascent in pixel space from the
 * range centre (the paper's zero image; with `init: 'input'` and a data-set mean image as the
 * input, its "mean image added" start), clipped to the input range after each step.
 */
export const classModel: Explainer<ClassModelOptions, SynthesisExtras, 'class-model'> = defineExplainer<
  ClassModelOptions,
  SynthesisExtras,
  'class-model'
>({
  id: 'class-model',
  family: 'synthesis',
  title: 'Class model',
  citation:
    'Simonyan, Vedaldi & Zisserman, 2014, Deep Inside Convolutional Networks: Visualising Image Classification Models and Saliency Maps, ICLR workshop, arXiv:1312.6034',
  description: 'The L2-regularised image that maximises the class score, by gradient ascent on the input.',
  requires: ['gradients'],
  mapKind: 'input',
  stochastic: true,
  defaults: {
    steps: 256,
    learningRate: 0.01,
    optimizer: 'adam',
    l2: 0.01,
    init: 'centre',
    initNoise: 0.1,
    range: [],
    snapshotEvery: 0,
  },
  options: Object.fromEntries(
    keys.map((k) => [k, settingSpecs[k]]),
  ) as Explainer<ClassModelOptions>['options'],
  validate(options, model, input) {
    validateSynthesis('class-model', { ...baseSettings, ...options }, model, input);
  },
  async attribute(ctx) {
    return synthesize(ctx, compileObjective(ctx, { kind: 'target' }), {
      ...baseSettings,
      ...ctx.options,
      parametrization: 'pixel',
    });
  },
});
