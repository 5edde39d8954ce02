import {
  type Check,
  defineCheck,
  LayerError,
  type Model,
  OptionError,
  randomizeLayers,
  type Tensor,
} from '@xlens/core';
import {
  curveOf,
  finiteMean,
  release,
  type SimilarityMeasure,
  similarities,
  similaritiesToReference,
  similarityMeasures,
} from './internal/checks.js';

/** Options of `modelRandomisation`. */
export interface ModelRandomisationOptions {
  /** `cascading` only, or `both` cascading and independent randomisation. */
  readonly modes: 'cascading' | 'both';
  /**
   * Layers to randomise, comma-separated, or empty for every conv, dense and BatchNorm layer with
   * weights. Randomised from the output side to the input side whatever the order given.
   */
  readonly layers: string;
}

const kinds = new Set(['conv', 'dense', 'batchnorm']);

/** The parameterised layers, top (output side) first. */
export function randomisableLayers(model: Model, wanted: string): string[] {
  const all = model.layers?.() ?? [];
  const names = all.filter((l) => kinds.has(l.kind) && l.hasWeights !== false).map((l) => l.name);
  if (wanted.trim() === '') return names.reverse();
  const asked = wanted
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of asked)
    if (!names.includes(name))
      throw new LayerError(
        'unknown-layer',
        `model-randomisation: layer ${JSON.stringify(name)} is not a conv, dense or BatchNorm layer with weights of ${model.info.name}; such layers: ${names.join(', ')}`,
      );
  return names.filter((n) => asked.includes(n)).reverse();
}

/**
 * Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, "Sanity Checks for Saliency Maps",
 * NeurIPS, arXiv:1810.03292 — model parameter randomisation test. The explainer's maps on the
 * trained model are compared with its maps on copies whose weights are re-initialised (core's
 * `randomizeLayers` through `derive`): *cascading* from the logits down to the first layer, one
 * more layer at each step, and (`modes: both`) each layer *independently*. Similarity per step by
 * Spearman rank correlation of the magnitudes (`spearman-abs`) and of the signed values
 * (`spearman`), and SSIM and HOG correlation of the magnitudes scaled to [0, 1] (HOG cells of
 * min(8, side/2) pixels on small maps). The classes explained are those of the trained model.
 *
 * Pass (the map depends on the learned weights): mean `spearman-abs` between the trained model's
 * map and the map of the fully randomised model (cascade down to the first layer) below 0.5 —
 * halfway between identical ranks (1) and unrelated ones (0). Curves `cascading/<measure>` and
 * `independent/<measure>` give every step, `x` = `original` then the layers randomised.
 */
export const modelRandomisation: Check<ModelRandomisationOptions> = defineCheck<ModelRandomisationOptions>({
  id: 'model-randomisation',
  title: 'Model parameter randomisation',
  citation:
    'Adebayo, Gilmer, Muelly, Goodfellow, Hardt & Kim, 2018, Sanity Checks for Saliency Maps, NeurIPS, arXiv:1810.03292',
  description:
    'Maps of the trained model vs maps after re-initialising its layers from the top (cascading) or one at a time; a method that passes produces different maps once the weights are random.',
  needs: ['model', 'explainer'],
  requires: ['derive', 'layers'],
  threshold: {
    statistic: 'spearman-abs',
    pass: 'below',
    value: 0.5,
    rationale:
      'rank correlation of map magnitudes after randomising every layer must fall below halfway between identical (1) and unrelated (0)',
  },
  curve: { x: 'layers randomised (top → bottom)', y: 'similarity to the trained model’s map' },
  stochastic: true,
  defaults: { modes: 'both', layers: '' },
  options: {
    modes: {
      type: 'enum',
      doc: 'cascading randomisation only, or cascading and independent',
      values: ['cascading', 'both'],
    },
    layers: {
      type: 'string',
      doc: 'comma-separated layers to randomise (default: every conv, dense and BatchNorm layer)',
    },
  },
  validate(options, request) {
    if (request.model) {
      const layers = randomisableLayers(request.model, options.layers);
      if (layers.length === 0)
        throw new OptionError(
          'invalid-option',
          `model-randomisation: ${request.model.info.name} has no conv, dense or BatchNorm layer with weights to randomise`,
        );
    }
  },
  async compute(ctx) {
    const model = ctx.model as Model & { derive: NonNullable<Model['derive']> };
    const layers = randomisableLayers(model, ctx.options.layers);
    const independent = ctx.options.modes === 'both';
    const total = 1 + layers.length * (independent ? 2 : 1);
    let done = 0;
    const n = ctx.input.shape[0];
    const original = (await ctx.explain(model, ctx.input)).maps;
    ctx.progress(++done, total);
    const x = ['original', ...layers];
    const rows = (): Record<SimilarityMeasure, number[][]> =>
      Object.fromEntries(
        similarityMeasures.map((m) => [m, Array.from({ length: n }, () => [1] as number[])]),
      ) as Record<SimilarityMeasure, number[][]>;
    let constantMaps = 0;
    const compare = (maps: Tensor, into: Record<SimilarityMeasure, number[][]>): void => {
      for (let i = 0; i < n; i++) {
        const s = similaritiesToReference(original, maps, i);
        if (s.constant) constantMaps++;
        for (const m of similarityMeasures) into[m][i].push(s[m]);
      }
    };
    // The trained map against itself is 1 by definition for every measure, except where a
    // measure is undefined (a constant map): recompute the first column.
    const self = Array.from({ length: n }, (_, i) => similarities(original, original, i));
    const cascading = rows();
    for (let k = 0; k < layers.length; k++) {
      ctx.checkAborted();
      const derived = await model.derive(randomizeLayers(layers.slice(0, k + 1), ctx.seed));
      try {
        compare((await ctx.explain(derived, ctx.input)).maps, cascading);
      } finally {
        await release(derived);
      }
      ctx.progress(++done, total);
    }
    const single = independent ? rows() : null;
    if (single)
      for (const layer of layers) {
        ctx.checkAborted();
        const derived = await model.derive(randomizeLayers([layer], ctx.seed));
        try {
          compare((await ctx.explain(derived, ctx.input)).maps, single);
        } finally {
          await release(derived);
        }
        ctx.progress(++done, total);
      }
    const curves = [];
    const statistics: Record<string, number> = {};
    const perItem: Record<string, number[]> = {};
    for (const [mode, table] of [
      ['cascading', cascading],
      ['independent', single],
    ] as const) {
      if (!table) continue;
      for (const m of similarityMeasures) {
        for (let i = 0; i < n; i++) table[m][i][0] = self[i][m];
        curves.push(curveOf(`${mode}/${m}`, `${mode} randomisation · ${m}`, x, table[m]));
      }
    }
    for (const m of similarityMeasures) {
      const last = cascading[m].map((row) => row[row.length - 1]);
      statistics[m] = finiteMean(last);
      perItem[m] = last;
      if (single) statistics[`independent/${m}-mean`] = finiteMean(single[m].flatMap((row) => row.slice(1)));
    }
    const warnings = original.data.every((v) => v === original.data[0])
      ? ['the trained model’s maps are constant: rank correlations are undefined']
      : [];
    if (constantMaps > 0)
      warnings.push(
        `${constantMaps} map(s) of randomised models are constant (no pixel ranks above another); scored 0 on every measure`,
      );
    return { statistics, perItem, curves, warnings };
  },
});
