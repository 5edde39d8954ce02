import {
  type Capability,
  checkCapabilities,
  defineExplainer,
  type Explainer,
  type Model,
  type Tensor,
} from '@xlens/core';
import { geometryOf } from './image-space.js';
import { formatObjective, type Objective, toObjective } from './objective.js';
import { baseSettings, checkSettings, type SynthesisSettings, settingSpecs } from './settings.js';
import { type SynthesisExtras, synthesize } from './synthesize.js';
import { checkObjectiveOn, compileObjective } from './terms.js';

/** Options of `activation-maximisation`: the objective and every setting of the loop. */
export interface ActivationMaximisationOptions extends SynthesisSettings {
  /** What to maximise: objective data or its text form (`parseObjective`). */
  readonly objective: string | Objective;
}

/** Validate an objective option against the model (layers, indices, capabilities) before compute. */
export function checkObjectiveOption(method: string, value: unknown, model: Model): Objective {
  const objective = toObjective(value);
  checkCapabilities(method, checkObjectiveOn(model, objective, method) as Capability[], model);
  return objective;
}

/** The shared validation of a synthesis method's options. */
export function validateSynthesis(
  method: string,
  options: SynthesisSettings & { readonly objective?: unknown },
  model: Model,
  input: Tensor,
): void {
  const g = geometryOf(model, input, method);
  if (options.objective !== undefined) checkObjectiveOption(method, options.objective, model);
  checkSettings(options, model, g.c, method);
}

/**
 * Erhan, Bengio, Courville & Vincent, 2009, "Visualizing Higher-Layer Features of a Deep
 * Network", Université de Montréal TR 1341. Gradient ascent on the input for an objective (a
 * class, a unit, a channel, a layer, sums of these, diversity), with the regularisers of the
 * review: L2 decay, Gaussian blur every k steps, clipping of low-norm and low-contribution pixels
 * (Yosinski et al., 2015, arXiv:1506.06579), total variation (Mahendran & Vedaldi, 2015,
 * arXiv:1412.0035), mean-image initialisation (`init: 'input'` with the mean; Nguyen, Yosinski &
 * Clune, 2016, arXiv:1602.03616), and the decorrelated Fourier/colour parametrisation with random
 * jitter, scale and rotation (Olah, Mordvintsev & Schubert, 2017, doi:10.23915/distill.00007),
 * which the defaults use. The map is the synthesised image per item (input layout); the input
 * batch gives the number of images, their start (`init: 'input'`) and their `target` classes.
 */
export const activationMaximisation: Explainer<
  ActivationMaximisationOptions,
  SynthesisExtras,
  'activation-maximisation'
> = defineExplainer<ActivationMaximisationOptions, SynthesisExtras, 'activation-maximisation'>({
  id: 'activation-maximisation',
  family: 'synthesis',
  title: 'Activation maximisation',
  citation:
    'Erhan, Bengio, Courville & Vincent, 2009, Visualizing Higher-Layer Features of a Deep Network, Université de Montréal TR 1341',
  description:
    'The image that maximises an objective (class, unit, channel, layer, their sums), found by regularised gradient ascent on the input.',
  requires: ['gradients'],
  mapKind: 'input',
  stochastic: true,
  defaults: {
    ...baseSettings,
    objective: 'target',
    parametrization: 'fourier',
    // Lucid starts at 0.01; a livelier start avoids the max-pool ties of a flat image, which
    // backends break differently (their trajectories then part).
    initNoise: 0.1,
    jitter: 2,
    scales: [0.95, 1, 1.05],
    rotate: 5,
  },
  options: {
    ...settingSpecs,
    objective: {
      type: 'json',
      doc: 'what to maximise: target (each item’s class), class:3[:probability], unit:L:k[:y:x], channel:L:k[:centre], layer:L, diversity:L, joined by + and - with weights',
    },
  },
  validate(options, model, input) {
    validateSynthesis('activation-maximisation', options, model, input);
  },
  async attribute(ctx) {
    const objective = toObjective(ctx.options.objective);
    const result = await synthesize(ctx, compileObjective(ctx, objective), ctx.options);
    return { ...result, resolvedOptions: { objective: formatObjective(objective) } };
  },
});
