import { defineMetric, type Metric, OptionError } from '@xlens/core';
import { checkFill, fillSpec, makeFill } from './internal/fill.js';
import { copyPixels, type Geometry, geometryOf } from './internal/pixels.js';
import { itemRanges } from './internal/robust.js';
import { streamSteps } from './internal/rows.js';
import { plane } from './internal/stats.js';

/** Options of `infidelity`. */
export interface InfidelityOptions {
  /** `square`: a random square is removed (set to the fill); `noise`: Gaussian noise is subtracted. */
  readonly perturbation: 'square' | 'noise';
  /** Perturbations per item. */
  readonly samples: number;
  /** Side of the square as a fraction of the image's shorter side. */
  readonly squareSize: number;
  /** Noise standard deviation as a fraction of each item's value range. */
  readonly sigma: number;
  /** What a removed square becomes (core baseline spec). */
  readonly fill: unknown;
  /**
   * `gradient`: the map is a sensitivity (dot product Iᵀφ); `times-input`: the map is already
   * multiplied by the input (G⊙I, IG, LRP), so each pixel's share of the removal counts (I ⊘ (x − x̄)).
   */
  readonly form: 'gradient' | 'times-input';
  /** Scale the map by the β that minimises the infidelity first (the paper's normalised variant). */
  readonly normalize: boolean;
}

/** RNG streams of the square positions and the noise images (sample = perturbation index). */
const squareStream = 23;
const noiseStream = 24;

/**
 * Yeh, Hsieh, Suggala, Inouye & Ravikumar, 2019, "On the (In)fidelity and Sensitivity of
 * Explanations", NeurIPS, arXiv:1901.09392. INFD = E_I[(Iᵀφ(x) − (f(x) − f(x − I)))²] over random
 * perturbations I: the removal of a random square (to the fill, all channels) or Gaussian noise.
 * For maps of the times-input form the dot product uses the fraction of each value removed (as
 * Captum's `multiply_by_inputs`), so Gradient ⊙ Input of a linear model scores exactly 0, as does
 * the gradient under any perturbation. Pixel maps are spread evenly over their channels. Lower is
 * better. Quantus removes every patch of a grid in turn instead of random ones.
 */
export const infidelity: Metric<InfidelityOptions> = defineMetric<InfidelityOptions>({
  id: 'infidelity',
  category: 'faithfulness',
  title: 'Infidelity',
  citation:
    'Yeh, Hsieh, Suggala, Inouye & Ravikumar, 2019, On the (In)fidelity and Sensitivity of Explanations, NeurIPS, arXiv:1901.09392',
  description:
    'Mean squared gap between the map’s predicted and the actual output change under random perturbations.',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'lower',
  range: [0, Number.POSITIVE_INFINITY],
  stochastic: true,
  defaults: {
    perturbation: 'square',
    samples: 50,
    squareSize: 0.25,
    sigma: 0.1,
    fill: 'zero',
    form: 'gradient',
    normalize: false,
  },
  options: {
    perturbation: {
      type: 'enum',
      doc: 'remove a random square, or subtract Gaussian noise',
      values: ['square', 'noise'],
    },
    samples: { type: 'integer', doc: 'perturbations per item', min: 1 },
    squareSize: {
      type: 'number',
      doc: 'side of the square as a fraction of the shorter image side',
      min: 0,
      max: 1,
    },
    sigma: {
      type: 'number',
      doc: 'noise standard deviation',
      min: 0,
      unit: 'fraction of each item’s value range',
    },
    fill: fillSpec,
    form: {
      type: 'enum',
      doc: 'the map is a sensitivity (gradient) or already multiplied by the input',
      values: ['gradient', 'times-input'],
    },
    normalize: { type: 'boolean', doc: 'scale the map by the β that minimises the infidelity first' },
  },
  validate(options, request) {
    if (options.form === 'times-input' && options.perturbation !== 'square')
      throw new OptionError(
        'invalid-option',
        'infidelity: form times-input needs perturbation square (the share of each value removed is only defined for removals)',
      );
    checkFill(options.fill, request);
  },
  async compute(ctx) {
    const { options } = ctx;
    const input = ctx.stream.input;
    const g: Geometry = geometryOf(input, ctx.stream.model.info.layout);
    const fill = makeFill(ctx, options.fill, 0);
    const side = Math.max(1, Math.round(options.squareSize * Math.min(g.h, g.w)));
    const range = itemRanges(input, ctx.n);
    // The pixels of sample s's square (the same for every item).
    const square = (s: number): Int32Array => {
      const rng = ctx.sampleRng(squareStream, s);
      const x0 = rng.int(g.w - side + 1);
      const y0 = rng.int(g.h - side + 1);
      return Int32Array.from(
        { length: side * side },
        (_, k) => (y0 + Math.floor(k / side)) * g.w + x0 + (k % side),
      );
    };
    const at = (p: number, k: number): number => (g.layout === 'NCHW' ? k * g.hw + p : p * g.c + k);
    const noise = (i: number, s: number): Float32Array => {
      const z = ctx.sampleRng(noiseStream, s).fillNormal(new Float32Array(g.per));
      const scale = options.sigma * range[i];
      for (let e = 0; e < g.per; e++) z[e] *= scale;
      return z;
    };
    // Row 0 is the intact item; row s + 1 is perturbation s (x̃ = x − I).
    const y = await streamSteps(ctx, options.samples + 1, (i, r, out) => {
      out.set(plane(input.data, i, g.per));
      if (r === 0) return;
      if (options.perturbation === 'noise') {
        const d = noise(i, r - 1);
        for (let e = 0; e < g.per; e++) out[e] -= d[e];
      } else copyPixels(out, plane(fill.data, i, g.per), square(r - 1), g);
    });
    const scores = y.map((yi, i) => {
      const phi = plane(ctx.inputMaps.data, i, g.per);
      const predicted = new Float64Array(options.samples);
      const actual = new Float64Array(options.samples);
      for (let s = 0; s < options.samples; s++) {
        let dot = 0;
        if (options.perturbation === 'noise') {
          const d = noise(i, s);
          for (let e = 0; e < g.per; e++) dot += d[e] * phi[e];
        } else {
          // I = x − fill on the square; the times-input form takes the share removed, 1 there.
          const x = plane(input.data, i, g.per);
          const f = plane(fill.data, i, g.per);
          for (const p of square(s))
            for (let k = 0; k < g.c; k++) {
              const e = at(p, k);
              dot += options.form === 'times-input' ? phi[e] : (x[e] - f[e]) * phi[e];
            }
        }
        predicted[s] = dot;
        actual[s] = yi[0] - yi[s + 1];
      }
      let beta = 1;
      if (options.normalize) {
        let num = 0;
        let den = 0;
        for (let s = 0; s < options.samples; s++) {
          num += predicted[s] * actual[s];
          den += predicted[s] * predicted[s];
        }
        beta = den > 0 ? num / den : 1;
      }
      let total = 0;
      for (let s = 0; s < options.samples; s++) total += (beta * predicted[s] - actual[s]) ** 2;
      return total / options.samples;
    });
    return { scores };
  },
});
