import type { BaselineSpec, ExplainContext, MethodResult, Tensor } from '@xlens/core';
import { makeFill } from './fill.js';
import { contextGeometry } from './image.js';
import {
  cleanScales,
  descend,
  finalScores,
  type GradientFilter,
  keepWeight,
  type MaskObjective,
  ProjectedAdam,
  totalVariation,
  Upsampler,
} from './mask-descent.js';

/** Settings of one mask game (meaningful perturbation and FGVis share it). */
export interface MaskGameSettings {
  readonly objective: MaskObjective;
  readonly steps: number;
  readonly learningRate: number;
  readonly area: number;
  readonly tv: number;
  readonly tvBeta: number;
  readonly fill: BaselineSpec;
  readonly blurSigma: number;
  /** Mask grid `[rows, cols]`; the image size for a per-pixel mask. */
  readonly cells: readonly [number, number];
  /** Clean activations of the filtered layers, for FGVis. */
  readonly filter?: { readonly layers: readonly string[]; readonly clean: Readonly<Record<string, Tensor>> };
}

/** Extras of the mask games: per item, the clean score, the score under the final mask, its area. */
export type MaskGameExtras = {
  readonly cleanScore: readonly number[];
  readonly maskedScore: readonly number[];
  readonly maskArea: readonly number[];
};

/**
 * One mask per item on a grid, upsampled bilinearly to the image, minimised by projected Adam:
 *   deletion:      λ_a·mean(m) + λ_tv·TV_β(m) + s_c(x·(1−m) + fill·m) / |s_c(x)|
 *   preservation:  λ_a·mean(m) + λ_tv·TV_β(m) − s_c(x·m + fill·(1−m)) / |s_c(x)|
 * with s_c the run's target score; dividing by the clean score makes λ_a and λ_tv independent of
 * the score's scale. The mask starts at 0.5. The map is the final mask (1: the region found).
 */
export async function playMaskGame(
  ctx: ExplainContext<unknown>,
  s: MaskGameSettings,
): Promise<MethodResult<MaskGameExtras>> {
  const g = contextGeometry(ctx);
  const { n, h, w } = g;
  const [ch, cw] = s.cells;
  const fill = makeFill(ctx, s.fill, s.blurSigma);
  const { clean, scale } = await cleanScales(ctx);
  const up = new Upsampler(ch, cw, h, w);
  const cellCount = ch * cw;
  const params = new Float64Array(n * cellCount).fill(0.5);
  const optimisers = Array.from(
    { length: n },
    (_, i) => new ProjectedAdam(params.subarray(i * cellCount, (i + 1) * cellCount), s.learningRate),
  );
  const masks = new Map<number, Float32Array>();
  const maskOf = (i: number): Float32Array => {
    let m = masks.get(i);
    if (!m) {
      m = Float32Array.from(up.forward(params.subarray(i * cellCount, (i + 1) * cellCount)));
      masks.set(i, m);
    }
    return m;
  };
  const keepOf = (i: number): Float32Array => maskOf(i).map((m) => keepWeight(s.objective, m));
  const sign = s.objective === 'deletion' ? 1 : -1;
  const grads: Float64Array[] = new Array(n);
  const filter: GradientFilter | undefined = s.filter ? { ...s.filter, sign: () => sign } : undefined;
  await descend({
    ctx,
    g,
    fill,
    steps: s.steps,
    rows: n,
    item: (r) => r,
    keep: keepOf,
    ...(filter ? { filter } : {}),
    onRow: (_, { row, keepGradient }) => {
      // d loss / d m per pixel: the keep weight is 1 − m (deletion) or m (preservation), and the
      // loss carries +score (deletion) or −score (preservation): both give −(d s/d keep)/scale.
      const pix = new Float64Array(h * w);
      for (let p = 0; p < pix.length; p++) pix[p] = -keepGradient[p] / scale[row];
      const grad = up.backward(pix);
      const p = params.subarray(row * cellCount, (row + 1) * cellCount);
      for (let j = 0; j < cellCount; j++) grad[j] += s.area / cellCount;
      totalVariation(p, ch, cw, s.tvBeta, s.tv, grad);
      grads[row] = grad;
    },
    afterStep: () => {
      for (let i = 0; i < n; i++) optimisers[i].step(grads[i]);
      masks.clear();
    },
  });
  const map = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) map.set(maskOf(i), i * h * w);
  const masked = await finalScores({ ctx, rows: n, item: (r) => r, keep: keepOf, g, fill });
  const area: number[] = [];
  for (let i = 0; i < n; i++) area.push(maskOf(i).reduce((a, b) => a + b, 0) / (h * w));
  return {
    map: { data: map, shape: [n, h, w] },
    extras: { cleanScore: Array.from(clean), maskedScore: Array.from(masked), maskArea: area },
  };
}
