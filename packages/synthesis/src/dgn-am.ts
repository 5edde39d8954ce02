import {
  type Capability,
  checkCapabilities,
  defineExplainer,
  type Explainer,
  findLayer,
  InputError,
  type Model,
  OptionError,
} from '@xlens/core';
import { checkObjectiveOption } from './activation-maximisation.js';
import { codeRows, renderCodes, startCodes } from './generator-codes.js';
import { geometryOf, rangeOf, toModelRows } from './image-space.js';
import { formatObjective, type Objective, toObjective } from './objective.js';
import { objectiveGradients, objectiveValues } from './objective-pass.js';
import { createOptimizer } from './optimizer.js';
import { type SynthesisSettings, settingSpecs } from './settings.js';
import { type SynthesisExtras, warpStream } from './synthesize.js';
import { compileObjective } from './terms.js';
import { applyWarp, drawWarp, warpAdjoint } from './transforms.js';

/** Options of `dgn-am`. */
export interface DgnAmOptions
  extends Pick<
    SynthesisSettings,
    'steps' | 'learningRate' | 'optimizer' | 'initNoise' | 'jitter' | 'scales' | 'rotate' | 'snapshotEvery'
  > {
  readonly objective: string | Objective;
  /** `input`: the classifier's code of each input at `codeLayer`; `noise`: shared |N(0, initNoise²)|; `zeros`. */
  readonly init: 'input' | 'noise' | 'zeros';
  /** The classifier layer whose activation the generator decodes (needed by `init: 'input'`). */
  readonly codeLayer: string;
  /** λ of the code prior −λ‖z‖². */
  readonly l2: number;
  /** `[low, high]` each code value is clipped to after every step (Nguyen et al. clip fc6 codes); empty: none. */
  readonly codeRange: readonly number[];
}

const keys = [
  'steps',
  'learningRate',
  'optimizer',
  'initNoise',
  'jitter',
  'scales',
  'rotate',
  'snapshotEvery',
] as const;

/**
 * Nguyen, Dosovitskiy, Yosinski, Brox & Clune, 2016, "Synthesizing the preferred inputs for
 * neurons in neural networks via deep generator networks", NeurIPS, arXiv:1605.09304. DGN-AM:
 * activation maximisation in the code space of a generator, x = G(z), so images stay on the
 * generator's image manifold. `dgnAm(generator)` makes the method for one generator: any `Model`
 * with gradients whose input is a code and whose output, flattened, is one image in the
 * classifier's input layout (`numClasses` = its item size); the zoo's `shapes-generator` decodes
 * the shapes classifier's `conv3` code. Gradient ascent (Adam) on z of the objective at G(z) (with
 * optional random transformations between them) minus λ‖z‖², z clipped to `codeRange`; the map is
 * G(z) per item.
 */
export function dgnAm(generator: Model): Explainer<DgnAmOptions, SynthesisExtras, 'dgn-am'> {
  return defineExplainer<DgnAmOptions, SynthesisExtras, 'dgn-am'>({
    id: 'dgn-am',
    family: 'synthesis',
    title: 'DGN-AM',
    citation:
      'Nguyen, Dosovitskiy, Yosinski, Brox & Clune, 2016, Synthesizing the preferred inputs for neurons in neural networks via deep generator networks, NeurIPS, arXiv:1605.09304',
    description:
      "Activation maximisation in a generator's code space: the generated image that maximises an objective.",
    requires: ['gradients'],
    mapKind: 'input',
    stochastic: true,
    defaults: {
      objective: 'target',
      steps: 200,
      learningRate: 0.05,
      optimizer: 'adam',
      init: 'noise',
      initNoise: 0.5,
      codeLayer: '',
      l2: 0,
      codeRange: [],
      jitter: 0,
      scales: [],
      rotate: 0,
      snapshotEvery: 0,
    },
    options: {
      ...(Object.fromEntries(keys.map((k) => [k, settingSpecs[k]])) as Explainer<DgnAmOptions>['options']),
      objective: { type: 'json', doc: 'what to maximise, as for activation-maximisation' },
      init: {
        type: 'enum',
        doc: 'start codes: input (codes of the inputs at codeLayer), noise, zeros',
        values: ['input', 'noise', 'zeros'],
      },
      codeLayer: {
        type: 'string',
        doc: 'classifier layer whose activation the generator decodes (for init input)',
      },
      l2: { type: 'number', doc: 'weight λ of the code prior λ‖z‖²', min: 0 },
      codeRange: { type: 'numbers', doc: '[low, high] every code value is clipped to; empty: none' },
    },
    validate(options, model, input) {
      const g = geometryOf(model, input, 'dgn-am');
      checkObjectiveOption('dgn-am', options.objective, model);
      checkCapabilities('dgn-am (generator)', ['gradients'] as Capability[], generator);
      if (generator.info.numClasses !== g.size)
        throw new InputError(
          'invalid-shape',
          `dgn-am: the generator ${generator.info.name} outputs ${generator.info.numClasses} values per code; ${model.info.name} reads ${g.size} per image`,
        );
      if (options.init === 'input') {
        if (!options.codeLayer) throw new OptionError('invalid-option', 'dgn-am: init input needs codeLayer');
        const size = findLayer(model, options.codeLayer).outputShape.reduce((a, b) => a * b, 1);
        const per = generator.info.inputShape.reduce((a, b) => a * b, 1);
        if (size !== per)
          throw new InputError(
            'invalid-shape',
            `dgn-am: ${options.codeLayer} holds ${size} values; the generator reads ${per}`,
          );
      }
      const r = options.codeRange;
      if (r.length !== 0 && (r.length !== 2 || !(r[0] < r[1])))
        throw new OptionError(
          'invalid-option',
          `dgn-am: codeRange = [${r.join(', ')}] is invalid; expected [low, high], low < high`,
        );
    },
    async attribute(ctx) {
      const o = ctx.options;
      const objective = toObjective(o.objective);
      const terms = compileObjective(ctx, objective);
      const g = geometryOf(ctx.model, ctx.input, 'dgn-am');
      const centre = rangeOf(ctx.model, g.c, [], 'dgn-am').centre;
      const codes = await startCodes(ctx, generator);
      const per = codes[0].length;
      const optimizer = createOptimizer(o.optimizer, o.learningRate, codes.length, per);
      const snapSteps: number[] = [];
      const snapshots: number[] = [];
      const trace: number[] = [];
      for (let step = 1; step <= o.steps; step++) {
        ctx.checkAborted();
        const images = await renderCodes(ctx, generator, codes, g);
        const warp = drawWarp(ctx.sampleRng(warpStream, step), g, o);
        const seen = warp ? images.map((x) => applyWarp(warp, x, g, centre)) : images;
        const grads = (await objectiveGradients(ctx, terms, seen, g)).map((d) =>
          warp ? warpAdjoint(warp, d, g) : d,
        );
        // Back through the generator: the image gradient is the cotangent of its outputs.
        const cot = toModelRows(grads, 0, grads.length, g);
        await ctx.streamGradient(
          {
            rows: codes.length,
            model: generator,
            progress: false,
            input: (s, e) => codeRows(codes, s, e, per, generator),
            seed: (s, e) => ({
              kind: 'output',
              cotangent: { data: cot.data.subarray(s * g.size, e * g.size), shape: [e - s, g.size] },
            }),
          },
          (c) => {
            for (let r = 0; r < c.end - c.start; r++) {
              const i = c.start + r;
              const dz = c.inputGradient!.data.slice(r * per, (r + 1) * per);
              for (let p = 0; p < per; p++) dz[p] -= 2 * o.l2 * codes[i][p];
              optimizer.ascend(i, codes[i], dz, step);
              if (o.codeRange.length === 2)
                for (let p = 0; p < per; p++)
                  codes[i][p] = Math.min(o.codeRange[1], Math.max(o.codeRange[0], codes[i][p]));
            }
          },
        );
        if (o.snapshotEvery > 0 && (step % o.snapshotEvery === 0 || step === o.steps)) {
          const frame = await renderCodes(ctx, generator, codes, g);
          snapSteps.push(step);
          for (const v of toModelRows(frame, 0, frame.length, g).data) snapshots.push(v);
          trace.push(...(await objectiveValues(ctx, terms, frame, g)));
        }
        ctx.progress(step, o.steps);
      }
      const final = await renderCodes(ctx, generator, codes, g);
      return {
        map: toModelRows(final, 0, final.length, g),
        extras: {
          objective: await objectiveValues(ctx, terms, final, g),
          ...(snapSteps.length > 0 ? { snapshotSteps: snapSteps, snapshots, objectiveTrace: trace } : {}),
        },
        resolvedOptions: { objective: formatObjective(objective), generator: generator.info.name },
      };
    },
  });
}
