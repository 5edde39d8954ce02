import { defineMetric, type Metric, type Tensor } from '@xlens/core';
import { checkFill, fillSpec, makeFill } from './internal/fill.js';
import { type Geometry, geometryOf } from './internal/pixels.js';
import { itemDistance } from './internal/robust.js';
import { plane } from './internal/stats.js';

/** Options of `continuity`. */
export interface ContinuityOptions {
  /** Translation steps after the original position. */
  readonly steps: number;
  /** Shift per step (fractional shifts interpolate linearly). */
  readonly stepPixels: number;
  /** Translate along columns (`x`, to the right) or rows (`y`, down). */
  readonly axis: 'x' | 'y';
  /** What pixels shifted in from outside take (core baseline spec). */
  readonly fill: unknown;
  /** Divide every map by its L1 norm first, so methods with different units compare. */
  readonly normalize: boolean;
}

/** The batch translated by `shift` pixels along `axis`; samples from outside take the fill. */
function translate(input: Tensor, fill: Tensor, g: Geometry, axis: 'x' | 'y', shift: number): Tensor {
  const out = new Float32Array(input.data.length);
  const base = Math.floor(shift);
  const f = shift - base;
  const at = (p: number, k: number): number => (g.layout === 'NCHW' ? k * g.hw + p : p * g.c + k);
  for (let i = 0; i < g.n; i++) {
    const src = plane(input.data, i, g.per);
    const bg = plane(fill.data, i, g.per);
    const dst = plane(out, i, g.per);
    for (let y = 0; y < g.h; y++)
      for (let x = 0; x < g.w; x++) {
        const p = y * g.w + x;
        for (let k = 0; k < g.c; k++) {
          const sample = (d: number): number => {
            const sx = axis === 'x' ? x - d : x;
            const sy = axis === 'y' ? y - d : y;
            return sx >= 0 && sx < g.w && sy >= 0 && sy < g.h ? src[at(sy * g.w + sx, k)] : bg[at(p, k)];
          };
          dst[at(p, k)] = (1 - f) * sample(base) + (f > 0 ? f * sample(base + 1) : 0);
        }
      }
  }
  return { data: out, shape: [...input.shape] };
}

function l1Normalized(maps: Tensor, n: number): Tensor {
  const per = maps.data.length / n;
  const out = new Float32Array(maps.data.length);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let e = 0; e < per; e++) s += Math.abs(maps.data[i * per + e]);
    for (let e = 0; e < per; e++) out[i * per + e] = s > 0 ? maps.data[i * per + e] / s : 0;
  }
  return { data: out, shape: maps.shape };
}

/**
 * Montavon, Samek & Müller, 2018, "Methods for Interpreting and Understanding Deep Neural
 * Networks", Digital Signal Processing, arXiv:1706.07979, §5.1. The input is translated step by
 * step and explained at every position; continuity is the strongest variation of the explanation,
 * max ‖R(x) − R(x')‖₁ / ‖x − x'‖₂ over consecutive positions (the paper's formula). Lower is
 * better: a continuous explanation (LRP) moves with the input, a discontinuous one (gradients of
 * ReLU nets) jumps. The curve gives the ratio per step. Set `normalize` to compare methods whose
 * maps have different units. Quantus's Continuity instead correlates patch sums with the output.
 */
export const continuity: Metric<ContinuityOptions> = defineMetric<ContinuityOptions>({
  id: 'continuity',
  category: 'robustness',
  title: 'Explanation continuity',
  citation:
    'Montavon, Samek & Müller, 2018, Methods for Interpreting and Understanding Deep Neural Networks, Digital Signal Processing, arXiv:1706.07979',
  description: 'Largest change of the map per unit change of the input along a translation of the input.',
  needs: ['model', 'explainer'],
  requires: [],
  direction: 'lower',
  range: [0, Number.POSITIVE_INFINITY],
  curve: { x: 'shift (pixels)', y: '‖ΔR‖₁ / ‖Δx‖₂' },
  stochastic: true,
  defaults: { steps: 10, stepPixels: 1, axis: 'x', fill: 'zero', normalize: false },
  options: {
    steps: { type: 'integer', doc: 'translation steps after the original position', min: 1 },
    stepPixels: { type: 'number', doc: 'shift per step (fractions interpolate)', min: 0.01, unit: 'pixels' },
    axis: { type: 'enum', doc: 'translate along columns (x) or rows (y)', values: ['x', 'y'] },
    fill: fillSpec,
    normalize: { type: 'boolean', doc: 'divide every map by its L1 norm first' },
  },
  validate(options, request) {
    checkFill(options.fill, request);
  },
  async compute(ctx) {
    const { options, n } = ctx;
    const input = ctx.stream.input;
    const g = geometryOf(input, ctx.stream.model.info.layout);
    const fill = makeFill(ctx, options.fill, 0);
    const explainAt = async (t: number): Promise<{ x: Tensor; maps: Tensor }> => {
      const x = translate(input, fill, g, options.axis, t * options.stepPixels);
      const maps = await ctx.explain(x);
      return { x, maps: options.normalize ? l1Normalized(maps, n) : maps };
    };
    let previous = await explainAt(0);
    const ratios = Array.from({ length: n }, () => [] as number[]);
    for (let t = 1; t <= options.steps; t++) {
      ctx.checkAborted();
      const next = await explainAt(t);
      for (let i = 0; i < n; i++) {
        const dx = itemDistance(next.x, previous.x, i, g.per);
        const a = plane(next.maps.data, i, g.hw);
        const b = plane(previous.maps.data, i, g.hw);
        let dr = 0;
        for (let p = 0; p < g.hw; p++) dr += Math.abs(a[p] - b[p]);
        ratios[i].push(dx > 0 ? dr / dx : Number.NaN);
      }
      previous = next;
      ctx.progress(t, options.steps);
    }
    const warnings: string[] = [];
    const scores = ratios.map((r, i) => {
      const finite = r.filter(Number.isFinite);
      if (finite.length < r.length)
        warnings.push(
          `item ${i}: some consecutive positions give the same input (shifted out of the image); those steps are skipped`,
        );
      return finite.length > 0 ? Math.max(...finite) : Number.NaN;
    });
    const x = Array.from({ length: options.steps }, (_, t) => (t + 1) * options.stepPixels);
    return { scores, curves: ratios.map((y) => ({ x, y })), warnings };
  },
});
