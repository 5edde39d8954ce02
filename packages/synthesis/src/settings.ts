import { type Model, OptionError, type OptionSpec } from '@xlens/core';
import { rangeOf } from './image-space.js';
import type { OptimizerName } from './optimizer.js';

/**
 * Every knob of the optimisation loop (`synthesize`). Methods expose the ones their paper has as
 * options and fix the rest.
 */
export interface SynthesisSettings {
  /** Optimisation steps. */
  readonly steps: number;
  /** Adam's α, or the SGD step on the raw gradient (θ units per step). */
  readonly learningRate: number;
  readonly optimizer: OptimizerName;
  /** `pixel`: θ is the image. `fourier`: Olah's decorrelated spectrum + colour + sigmoid. */
  readonly parametrization: 'pixel' | 'fourier';
  /** Exponent p of the Fourier scale 1/max(|f|, 1/size)^p. */
  readonly decayPower: number;
  /** Mix channels through ImageNet's colour correlation (Fourier, 3 channels). */
  readonly decorrelate: boolean;
  /** The start: the explained input, shared noise, or the range centre. */
  readonly init: 'input' | 'noise' | 'centre';
  /** Pixel: ± this fraction of the range, uniform; Fourier: standard deviation of the spectrum. */
  readonly initNoise: number;
  /** `[low, high]` of valid input values, or empty for the model's `inputRange`. */
  readonly range: readonly number[];
  /** Weight λ of the penalty −λ·Σ|x − centre|^`normPower`. */
  readonly l2: number;
  readonly normPower: number;
  /** Weight λ of the penalty −λ·TV^β (`tvBeta`). */
  readonly tv: number;
  readonly tvBeta: number;
  /** Pixel only: x ← centre + (1 − decay)(x − centre) after every step. */
  readonly decay: number;
  /** Pixel only: blur with σ `blurSigma` every `blurEvery` steps (0: never). */
  readonly blurEvery: number;
  readonly blurSigma: number;
  /** Pixel only: percentiles (0–100) of pixel norm / contribution below which pixels are reset. */
  readonly normClip: number;
  readonly contributionClip: number;
  /** Random shift (pixels), scales and rotation (degrees) drawn per step, the same for every item. */
  readonly jitter: number;
  readonly scales: readonly number[];
  readonly rotate: number;
  /** Keep an image every this many steps (0: none) in `extras.snapshots`. */
  readonly snapshotEvery: number;
}

/** Option specs of every setting, for methods to pick from. */
export const settingSpecs: { readonly [K in keyof SynthesisSettings]-?: OptionSpec } = {
  steps: { type: 'integer', doc: 'optimisation steps', min: 1 },
  learningRate: {
    type: 'number',
    doc: "step size: Adam's α, or the plain ascent step on the raw gradient (sgd)",
    min: 0,
  },
  optimizer: { type: 'enum', doc: 'adam (Lucid) or sgd (plain gradient ascent)', values: ['adam', 'sgd'] },
  parametrization: {
    type: 'enum',
    doc: 'pixel: optimise the image itself; fourier: a decorrelated spectrum + colour, squashed into the range (Olah 2017)',
    values: ['pixel', 'fourier'],
  },
  decayPower: { type: 'number', doc: 'fourier: exponent p of the frequency scale 1/|f|^p', min: 0 },
  decorrelate: { type: 'boolean', doc: 'fourier: mix channels through the colour correlation (3 channels)' },
  init: {
    type: 'enum',
    doc: 'start image: input (the explained batch; pass a data-set mean for Nguyen 2016), noise (one seeded draw shared by every item), centre (the range midpoint)',
    values: ['input', 'noise', 'centre'],
  },
  initNoise: {
    type: 'number',
    doc: 'init noise: pixel ± this fraction of the range; fourier standard deviation of the spectrum',
    min: 0,
  },
  range: { type: 'numbers', doc: '[low, high] of valid input values; empty: the model inputRange' },
  l2: {
    type: 'number',
    doc: 'weight λ of the penalty λ·Σ|x − centre|^normPower (sum over all values)',
    min: 0,
  },
  normPower: { type: 'number', doc: 'exponent α of the norm penalty (2: L2)', min: 1 },
  tv: { type: 'number', doc: 'weight λ of the total-variation penalty λ·TV^β (sum over all values)', min: 0 },
  tvBeta: { type: 'number', doc: 'exponent β of total variation', min: 1 },
  decay: {
    type: 'number',
    doc: 'pixel: L2 decay x ← centre + (1 − decay)(x − centre) per step',
    min: 0,
    max: 1,
  },
  blurEvery: { type: 'integer', doc: 'pixel: Gaussian blur every this many steps (0: never)', min: 0 },
  blurSigma: { type: 'number', doc: 'standard deviation of that blur', min: 0, unit: 'pixels' },
  normClip: {
    type: 'number',
    doc: 'pixel: reset pixels whose norm is below this percentile',
    min: 0,
    max: 100,
  },
  contributionClip: {
    type: 'number',
    doc: 'pixel: reset pixels whose |Σ (x − centre)·∇| is below this percentile',
    min: 0,
    max: 100,
  },
  jitter: { type: 'integer', doc: 'random shift of the image per step, up to this many pixels', min: 0 },
  scales: { type: 'numbers', doc: 'random scale per step, drawn from these factors (empty: none)' },
  rotate: { type: 'number', doc: 'random rotation per step, up to this many degrees', min: 0 },
  snapshotEvery: { type: 'integer', doc: 'keep the image every this many steps in extras (0: none)', min: 0 },
};

/** Neutral settings: plain gradient ascent in pixel space without priors or transforms. */
export const baseSettings: SynthesisSettings = {
  steps: 256,
  learningRate: 0.05,
  optimizer: 'adam',
  parametrization: 'pixel',
  decayPower: 1,
  decorrelate: true,
  init: 'noise',
  initNoise: 0.1,
  range: [],
  l2: 0,
  normPower: 2,
  tv: 0,
  tvBeta: 2,
  decay: 0,
  blurEvery: 0,
  blurSigma: 0.5,
  normClip: 0,
  contributionClip: 0,
  jitter: 0,
  scales: [],
  rotate: 0,
  snapshotEvery: 0,
};

/** Checks that need the model: Fourier needs a bounded range; pixel operators need pixels. */
export function checkSettings(s: SynthesisSettings, model: Model, channels: number, method: string): void {
  const range = rangeOf(model, channels, s.range, method);
  if (s.parametrization === 'fourier') {
    if (!range.bounded)
      throw new OptionError(
        'invalid-option',
        `${method}: parametrization fourier squashes images into the input range, but ${model.info.name} has no inputRange; pass range: [low, high]`,
      );
    const pixelOnly = (['decay', 'blurEvery', 'normClip', 'contributionClip'] as const).filter(
      (k) => s[k] > 0,
    );
    if (pixelOnly.length > 0)
      throw new OptionError(
        'invalid-option',
        `${method}: ${pixelOnly.join(', ')} act on pixels after each step, so they need parametrization pixel (fourier has tv, l2 and the transforms)`,
      );
  }
  for (const f of s.scales)
    if (!(f > 0)) throw new OptionError('invalid-option', `${method}: scales must be > 0, got ${f}`);
}
