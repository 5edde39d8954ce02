import { type Check, defineCheck, OptionError, type Tensor } from '@xlens/core';

/** Options of `explanationManipulation`. */
export interface ExplanationManipulationOptions {
  /**
   * The explanation the manipulation forces, row-major on a `forcedGrid` grid (e.g. the 8×8 grid
   * of the layer Grad-CAM reads), values ≥ 0; empty when it is not known in advance (a map that
   * depends on the input). When given, the report adds `forced-error`.
   */
  readonly forced: readonly number[];
  /** `[height, width]` of `forced`; empty for a square grid. */
  readonly forcedGrid: readonly number[];
  /** Largest |logit difference| between the two models for which they count as the same function. */
  readonly tolerance: number;
}

/** Each map divided by its largest |value| (an all-zero map stays zero). */
function maxNormalised(data: Float32Array, items: number, size: number): Float32Array {
  const out = new Float32Array(items * size);
  for (let i = 0; i < items; i++) {
    let top = 0;
    for (let p = 0; p < size; p++) top = Math.max(top, Math.abs(data[i * size + p]));
    for (let p = 0; p < size; p++) out[i * size + p] = top > 0 ? data[i * size + p] / top : 0;
  }
  return out;
}

/** Item `i` of an `N×H×W` map as an `h×w` grid: the coarse map itself, or block means of the pixels. */
function onGrid(
  map: Tensor,
  coarse: Tensor | undefined,
  i: number,
  h: number,
  w: number,
): Float32Array | null {
  if (coarse && coarse.shape[1] === h && coarse.shape[2] === w)
    return coarse.data.slice(i * h * w, (i + 1) * h * w);
  const [, mh, mw] = map.shape;
  if (mh % h !== 0 || mw % w !== 0) return null;
  const bh = mh / h;
  const bw = mw / w;
  const out = new Float32Array(h * w);
  for (let y = 0; y < mh; y++)
    for (let x = 0; x < mw; x++)
      out[Math.floor(y / bh) * w + Math.floor(x / bw)] += map.data[(i * mh + y) * mw + x] / (bh * bw);
  return out;
}

/**
 * Viering, Wang, Loog & Eisemann, 2019, "How to Manipulate CNNs to Make Them Lie: the GradCAM
 * Case", BMVC workshop, arXiv:1907.10901 (the review's §4.3). The caller supplies a manipulated
 * copy of the model as `secondModel` — the same function of the input (every logit within
 * `tolerance`) built to force an explanation, e.g. by `manipulateGradCam` of
 * `@xlens/backend-onnx` — and the check runs the explainer on both models for the same input and
 * classes (those of the original model).
 *
 * Statistic `relative-difference`: per item `Σ|â − b̂| / max(Σ|â|, Σ|b̂|)` (in [0, 2]), with `â`,
 * `b̂` the original and manipulated maps each divided by its largest |value| (so a mere rescaling
 * is not a change), averaged over the items with a non-zero map. Pass (the explainer resists the manipulation): below 0.05. An
 * explanation that is a function of the model's input–output behaviour only cannot change, since
 * the logits are the same. When `forced` is given, `forced-error` is the mean |difference| between
 * the manipulated map on the forced grid (the explainer's coarse map when it has that grid, else
 * block means of the pixel map), scaled to max 1, and the forced map scaled to max 1: near 0 means
 * the map *is* the forced explanation. The verdict is `undecided` when the two models' logits
 * differ by more than `tolerance` (the pair is not a manipulation that keeps the predictions).
 */
export const explanationManipulation: Check<ExplanationManipulationOptions> =
  defineCheck<ExplanationManipulationOptions>({
    id: 'explanation-manipulation',
    title: 'Explanation manipulation',
    citation:
      'Viering, Wang, Loog & Eisemann, 2019, How to Manipulate CNNs to Make Them Lie: the GradCAM Case, BMVC workshop, arXiv:1907.10901',
    description:
      'Maps of the model vs maps of a manipulated copy with the same logits that forces an explanation; a method that passes gives (up to scale) the same map for both.',
    needs: ['model', 'explainer', 'second-model'],
    requires: [],
    threshold: {
      statistic: 'relative-difference',
      pass: 'below',
      value: 0.05,
      rationale:
        'two models with the same logits must get the same explanation up to scale; 5% slack as for the invariance checks',
    },
    defaults: { forced: [], forcedGrid: [], tolerance: 1e-4 },
    options: {
      forced: {
        type: 'numbers',
        doc: 'the forced explanation on its grid, row-major, values ≥ 0; [] if unknown',
      },
      forcedGrid: { type: 'numbers', doc: '[height, width] of `forced`; [] for a square grid' },
      tolerance: { type: 'number', doc: 'largest |logit difference| of an equivalent pair', min: 0 },
    },
    validate(options) {
      const f = options.forced;
      if (f.length === 0) return;
      const [h, w] =
        options.forcedGrid.length === 2 ? options.forcedGrid : [Math.sqrt(f.length), Math.sqrt(f.length)];
      if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0 && h * w === f.length))
        throw new OptionError(
          'invalid-option',
          `explanation-manipulation: forced has ${f.length} values, which is not ${options.forcedGrid.length === 2 ? `${options.forcedGrid.join('×')}` : 'a square grid'}`,
        );
      if (f.some((v) => !(Number.isFinite(v) && v >= 0)))
        throw new OptionError(
          'invalid-option',
          'explanation-manipulation: forced must hold finite values ≥ 0',
        );
    },
    async compute(ctx) {
      const { model, secondModel, input, options } = ctx;
      const n = input.shape[0];
      const [y0, y1] = [await model.forward(input), await secondModel.forward(input)];
      let logitDifference = 0;
      for (let i = 0; i < y0.data.length; i++)
        logitDifference = Math.max(logitDifference, Math.abs(y0.data[i] - y1.data[i]));
      ctx.progress(0, 2);
      const a = await ctx.explain(model, input);
      ctx.progress(1, 2);
      ctx.checkAborted();
      const b = await ctx.explain(secondModel, input);
      ctx.progress(2, 2);
      const size = a.maps.data.length / n;
      const na = maxNormalised(a.maps.data, n, size);
      const nb = maxNormalised(b.maps.data, n, size);
      const relative = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let diff = 0;
        let normA = 0;
        let normB = 0;
        for (let p = i * size; p < (i + 1) * size; p++) {
          diff += Math.abs(na[p] - nb[p]);
          normA += Math.abs(na[p]);
          normB += Math.abs(nb[p]);
        }
        const norm = Math.max(normA, normB);
        relative[i] = norm > 0 ? diff / norm : Number.NaN;
      }
      const finite = Array.from(relative).filter(Number.isFinite);
      const statistics: Record<string, number> = {
        'relative-difference': finite.length ? finite.reduce((s, v) => s + v, 0) / finite.length : Number.NaN,
        'logit-difference': logitDifference,
      };
      const perItem: Record<string, ArrayLike<number>> = { 'relative-difference': relative };
      const warnings: string[] = [];
      if (finite.length < n)
        warnings.push(`${n - finite.length} item(s) have an all-zero map on both models`);
      const f = options.forced;
      if (f.length > 0) {
        const [h, w] =
          options.forcedGrid.length === 2 ? options.forcedGrid : [Math.sqrt(f.length), Math.sqrt(f.length)];
        const forced = maxNormalised(Float32Array.from(f), 1, f.length);
        const errors = new Float64Array(n).fill(Number.NaN);
        for (let i = 0; i < n; i++) {
          const grid = onGrid(b.maps, b.attribution.coarse, i, h, w);
          if (!grid) continue;
          const g = maxNormalised(grid, 1, h * w);
          let e = 0;
          for (let p = 0; p < h * w; p++) e += Math.abs(g[p] - forced[p]) / (h * w);
          errors[i] = e;
        }
        const ok = Array.from(errors).filter(Number.isFinite);
        if (ok.length < n)
          warnings.push(
            `the ${b.maps.shape[1]}×${b.maps.shape[2]} maps do not divide into the ${h}×${w} forced grid`,
          );
        statistics['forced-error'] = ok.length ? ok.reduce((s, v) => s + v, 0) / ok.length : Number.NaN;
        perItem['forced-error'] = errors;
      }
      return {
        statistics,
        perItem,
        warnings,
        ...(logitDifference > options.tolerance
          ? {
              undecided: `the two models' logits differ by up to ${logitDifference.toPrecision(3)} (> ${options.tolerance}), so the second model is not a prediction-preserving manipulation`,
            }
          : {}),
      };
    },
  });
