import { type Check, defineCheck } from '@xlens/core';
import { finiteMean, similarities, similarityMeasures } from './internal/checks.js';

/** Options of `classSensitivity` (none). */
export type ClassSensitivityOptions = Record<never, never>;

/** Index of the smallest value of each row of an `N×K` output. */
function argminRows(data: Float32Array, n: number, k: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < k; c++) if (data[i * k + c] < data[i * k + best]) best = c;
    return best;
  });
}

/**
 * Nie, Zhang & Patel, 2018, "A Theoretical Explanation for Perplexing Behaviors of
 * Backpropagation-based Visualizations", ICML, arXiv:1805.07039 — class sensitivity. The map for
 * the explained class (by default the top prediction) is compared with the map for the least
 * likely class of the same input. Nie et al. show that Guided Backprop and DeconvNet mostly
 * reconstruct the image and barely change with the class, whereas a map that explains a decision
 * must. Similarity by Spearman rank correlation of magnitudes (`spearman-abs`), signed values,
 * SSIM and HOG correlation of magnitudes.
 *
 * Pass: mean `spearman-abs` between the two classes' maps below 0.8 — the maps of the most and the
 * least likely class may share structure (the same input, the same active units), but a method
 * whose two maps rank the pixels nearly alike is not explaining the class.
 */
export const classSensitivity: Check<ClassSensitivityOptions> = defineCheck<ClassSensitivityOptions>({
  id: 'class-sensitivity',
  title: 'Class sensitivity',
  citation:
    'Nie, Zhang & Patel, 2018, A Theoretical Explanation for Perplexing Behaviors of Backpropagation-based Visualizations, ICML, arXiv:1805.07039',
  description:
    'Maps for the top class vs the least likely class; a method that passes gives visibly different maps.',
  needs: ['model', 'explainer'],
  requires: [],
  threshold: {
    statistic: 'spearman-abs',
    pass: 'below',
    value: 0.8,
    rationale:
      'maps of the most and least likely class that rank pixels this alike do not depend on the class',
  },
  defaults: {},
  options: {},
  async compute(ctx) {
    const n = ctx.input.shape[0];
    const output = await ctx.model.forward(ctx.input);
    const least = argminRows(output.data, n, output.shape[1]);
    const top = await ctx.explain(ctx.model, ctx.input);
    ctx.progress(1, 2);
    const low = await ctx.explain(ctx.model, ctx.input, { target: least });
    ctx.progress(2, 2);
    const rows = Array.from({ length: n }, (_, i) => similarities(top.maps, low.maps, i));
    const statistics: Record<string, number> = {};
    const perItem: Record<string, number[]> = {};
    for (const m of similarityMeasures) {
      perItem[m] = rows.map((r) => r[m]);
      statistics[m] = finiteMean(perItem[m]);
    }
    perItem['least-likely-class'] = least;
    const warnings = (top.attribution.targets ?? []).some((t, i) => t === least[i])
      ? ['an item’s explained class is also its least likely one; its two maps are the same']
      : [];
    return { statistics, perItem, warnings };
  },
});
