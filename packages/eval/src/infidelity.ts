import { defineMetric, type Metric, OptionError } from '@xlens/core';
import { checkFill, fillSpec, makeFill } from './internal/fill.js';
import { type Geometry, geometryOf } from './internal/pixels.js';
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
    const range = Array.from({ length: ctx.n }, (_, i) => {
      const x = plane(input.data, i, g.per);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const v of x) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      return hi - lo;
    });
    const square = (s: number): [number, number] => {
      const rng = ctx.sampleRng(squareStream, s);
      return [rng.int(g.w - side + 1), rng.int(g.h - side + 1)];
    };
    const inSquare = (e: number, x0: number, y0: number): boolean => {
      const p = g.layout === 'NCHW' ? e % g.hw : Math.floor(e / g.c);
      const x = p % g.w;
      const y = (p - x) / g.w;
      return x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
    };
    // Perturbation I of sample s for item i, one value per input element (x̃ = x − I).
    const perturbation = (i: number, s: number): Float64Array => {
      const x = plane(input.data, i, g.per);
      if (options.perturbation === 'noise') {
        const z = ctx.sampleRng(noiseStream, s).fillNormal(new Float32Array(g.per));
        return Float64Array.from(z, (v) => v * options.sigma * range[i]);
      }
      const [x0, y0] = square(s);
      const f = plane(fill.data, i, g.per);
      return Float64Array.from(x, (v, e) => (inSquare(e, x0, y0) ? v - f[e] : 0));
    };
    // Row 0 is the intact item; row s + 1 is perturbation s.
    const y = await streamSteps(ctx, options.samples + 1, (i, r, out) => {
      const x = plane(input.data, i, g.per);
      if (r === 0) out.set(x);
      else {
        const d = perturbation(i, r - 1);
        for (let e = 0; e < g.per; e++) out[e] = x[e] - d[e];
      }
    });
    const scores = y.map((yi, i) => {
      const phi = plane(ctx.inputMaps.data, i, g.per);
      const predicted = new Float64Array(options.samples);
      const actual = new Float64Array(options.samples);
      for (let s = 0; s < options.samples; s++) {
        let dot = 0;
        if (options.form === 'times-input') {
          const [x0, y0] = square(s);
          for (let e = 0; e < g.per; e++) if (inSquare(e, x0, y0)) dot += phi[e];
        } else {
          const d = perturbation(i, s);
          for (let e = 0; e < g.per; e++) dot += d[e] * phi[e];
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
