import { type Check, defineCheck } from '@xlens/core';
import { finiteMean, similaritiesToReference, similarityMeasures } from './internal/checks.js';

/** Options of `dataRandomisation`. */
export interface DataRandomisationOptions {
  /**
   * Class explained on the second model: `same` — the classes explained on the first model;
   * `top1` — the second model's own prediction (on its training images that is the permuted label
   * it memorised).
   */
  readonly secondTarget: 'same' | 'top1';
}

/**
 * Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, "Sanity Checks for Saliency Maps",
 * NeurIPS, arXiv:1810.03292 — data randomisation test. The explainer's maps of the model are
 * compared with its maps of a model of the same architecture trained on randomly permuted labels
 * (`secondModel`, supplied by the caller; the zoo ships one for shapes). Such a model can only
 * memorise, so a map that still looks the same does not reflect what the model learned from the
 * labels. Similarity by Spearman rank correlation of magnitudes (`spearman-abs`) and signed values,
 * SSIM and HOG correlation of magnitudes, as in `model-randomisation`.
 *
 * Pass: mean `spearman-abs` below 0.5 (the same cut-off as model randomisation).
 */
export const dataRandomisation: Check<DataRandomisationOptions> = defineCheck<DataRandomisationOptions>({
  id: 'data-randomisation',
  title: 'Data randomisation',
  citation:
    'Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, Sanity Checks for Saliency Maps, NeurIPS, arXiv:1810.03292',
  description:
    'Maps of the model vs maps of the same architecture trained on permuted labels; a method that passes gives different maps.',
  needs: ['model', 'explainer', 'second-model'],
  requires: [],
  threshold: {
    statistic: 'spearman-abs',
    pass: 'below',
    value: 0.5,
    rationale:
      'rank correlation of map magnitudes between a model and a label-memorising one must fall below halfway between identical (1) and unrelated (0)',
  },
  defaults: { secondTarget: 'top1' },
  options: {
    secondTarget: {
      type: 'enum',
      doc: 'class explained on the second model: the first model’s classes, or its own top prediction',
      values: ['same', 'top1'],
    },
  },
  async compute(ctx) {
    const n = ctx.input.shape[0];
    const a = (await ctx.explain(ctx.model, ctx.input)).maps;
    ctx.progress(1, 2);
    const second = await ctx.explain(
      ctx.secondModel,
      ctx.input,
      ctx.options.secondTarget === 'top1' ? { target: 'top1' } : {},
    );
    ctx.progress(2, 2);
    const rows = Array.from({ length: n }, (_, i) => similaritiesToReference(a, second.maps, i));
    const statistics: Record<string, number> = {};
    const perItem: Record<string, number[]> = {};
    for (const m of similarityMeasures) {
      perItem[m] = rows.map((r) => r[m]);
      statistics[m] = finiteMean(perItem[m]);
    }
    perItem['second-target'] = [...(second.attribution.targets ?? [])];
    const constant = rows.filter((r) => r.constant).length;
    const warnings = constant
      ? [
          `${constant} map(s) of the second model are constant (no pixel ranks above another); scored 0 on every measure`,
        ]
      : [];
    return { statistics, perItem, warnings };
  },
});
