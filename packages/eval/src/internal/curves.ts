import type { MetricContext, MetricCurve, MetricResult, Tensor } from '@xlens/core';
import { makeFill } from './fill.js';
import {
  copyPixels,
  type Geometry,
  geometryOf,
  pixelUnits,
  stepCounts,
  type Units,
  unitPixels,
} from './pixels.js';
import { streamSteps } from './rows.js';
import { plane, trapezoid } from './stats.js';

/** A perturbation curve: every item starts as `from` and, step by step, takes `to`'s values on its units. */
export interface CurvePlan {
  /** Each item's units in perturbation order. */
  readonly units: readonly Units[];
  /** Units taken after each step (`counts[0]` is usually 0: the unperturbed start). */
  readonly counts: Int32Array;
  /** Start values, in the input's shape. */
  readonly from: Tensor;
  /** Values the perturbed pixels take, in the input's shape. */
  readonly to: Tensor;
}

/** Per item: `x` = fraction of pixels actually perturbed after each step, `y` = the target's score there. */
export interface Curves {
  readonly x: Float64Array[];
  readonly y: Float64Array[];
}

/**
 * Score every step of a perturbation curve, all channels of a pixel perturbed together, through
 * the streaming context: rows are built a chunk at a time, each extending the previous step.
 */
export async function perturbationCurves<O>(ctx: MetricContext<O>, plan: CurvePlan): Promise<Curves> {
  const g: Geometry = geometryOf(ctx.stream.input, ctx.stream.model.info.layout);
  const { counts } = plan;
  const y = await streamSteps(ctx, counts.length, (i, s, out, previous) => {
    const to = plane(plan.to.data, i, g.per);
    if (previous) {
      out.set(previous);
      copyPixels(out, to, unitPixels(plan.units[i], counts[s - 1], counts[s]), g);
    } else {
      out.set(plane(plan.from.data, i, g.per));
      copyPixels(out, to, unitPixels(plan.units[i], 0, counts[s]), g);
    }
  });
  const x = plan.units.map((u) => Float64Array.from(counts, (c) => u.offsets[c] / g.hw));
  return { x, y };
}

/** Curves as plain arrays for a `MetricResult`. */
export function asCurves(c: Curves): MetricCurve[] {
  return c.x.map((x, i) => ({ x: Array.from(x), y: Array.from(c.y[i]) }));
}

/** Options of the pixel deletion and insertion games. */
export interface PixelGameOptions {
  readonly steps: number;
  /** Core baseline spec of the deleted pixels / the start image. */
  readonly fill: unknown;
  readonly blurSigma: number;
}

/**
 * Petsiuk et al.'s deletion (`delete`: from the input towards the fill) and insertion (`insert`:
 * from the fill towards the input) games: pixels in order of decreasing attribution, all channels
 * at once; the score is the area under the target-score curve over the fraction changed.
 */
export async function pixelGame<O extends PixelGameOptions>(
  ctx: MetricContext<O>,
  game: 'delete' | 'insert',
): Promise<MetricResult> {
  const { maps, options } = ctx;
  const hw = ctx.height * ctx.width;
  const units = Array.from({ length: ctx.n }, (_, i) => pixelUnits(plane(maps.data, i, hw), 'morf'));
  const fill = makeFill(ctx, options.fill, options.blurSigma);
  const curves = await perturbationCurves(ctx, {
    units,
    counts: stepCounts(hw, options.steps),
    from: game === 'delete' ? ctx.stream.input : fill,
    to: game === 'delete' ? fill : ctx.stream.input,
  });
  return { scores: curves.x.map((x, i) => trapezoid(x, curves.y[i])), curves: asCurves(curves) };
}
