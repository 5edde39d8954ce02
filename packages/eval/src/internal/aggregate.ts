import {
  type ChannelReduction,
  type ExplainContext,
  type MethodResult,
  type Model,
  OptionError,
  type OptionSpecs,
  reduceChannels,
  type Tensor,
} from '@xlens/core';

/** Options of the aggregation explainers. */
export interface AggregationOptions {
  /** Ids of the methods to combine: an array, or one string joined by `+` (`saliency+grad-cam`). */
  readonly methods: unknown;
  /** Options per method id (`{ "smoothgrad": { "samples": 10 } }`). */
  readonly methodOptions: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** How each method's map is scaled per item before combining. */
  readonly normalize: 'max-abs' | 'l1' | 'none';
  /** How input-shaped maps become pixel maps. */
  readonly reduction: ChannelReduction;
}

export const aggregationDefaults: AggregationOptions = {
  methods: [],
  methodOptions: {},
  normalize: 'max-abs',
  reduction: 'sum',
};

export const aggregationSpecs: OptionSpecs<AggregationOptions> = {
  methods: {
    type: 'json',
    doc: 'method ids to combine: an array, or one string joined by + (saliency+grad-cam)',
  },
  methodOptions: { type: 'json', doc: 'options per method id, e.g. {"smoothgrad":{"samples":10}}' },
  normalize: {
    type: 'enum',
    doc: 'scale of each map per item before combining: by its max |value|, its L1 norm, or none',
    values: ['max-abs', 'l1', 'none'],
  },
  reduction: {
    type: 'enum',
    doc: 'how input-shaped maps become pixel maps',
    values: ['sum', 'mean', 'max', 'max-abs', 'abs-sum', 'l2'],
  },
};

/** The method ids of the `methods` option; throws naming the bad value. */
export function methodIds(method: string, value: unknown): string[] {
  const ids = typeof value === 'string' ? value.split('+').map((s) => s.trim()) : value;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((s) => typeof s === 'string' && s.length > 0))
    throw new OptionError(
      'invalid-option',
      `${method}: option methods = ${JSON.stringify(value)} is invalid; expected method ids, e.g. ["saliency", "grad-cam"] or "saliency+grad-cam"`,
    );
  return ids as string[];
}

/** Validate the options of an aggregation explainer. */
export function validateAggregation(
  method: string,
  options: AggregationOptions,
  _model: Model,
  _input: Tensor,
): void {
  methodIds(method, options.methods);
  const mo = options.methodOptions;
  if (typeof mo !== 'object' || mo === null || Array.isArray(mo))
    throw new OptionError(
      'invalid-option',
      `${method}: option methodOptions = ${JSON.stringify(mo)} is not an object of options per method id`,
    );
}

/**
 * Run every method on the batch (resolved through the registry before any of them runs) and fold
 * their normalised pixel maps, per pixel and in method order, into a mean and a variance (over the
 * methods, float64).
 */
export async function aggregate(
  ctx: ExplainContext<AggregationOptions>,
  output: 'mean' | 'variance',
): Promise<MethodResult> {
  const { options } = ctx;
  const explainers = methodIds(ctx.method, options.methods).map((id) => ctx.resolve(id));
  let mean: Float64Array | null = null;
  let m2: Float64Array | null = null;
  let shape: readonly number[] = [];
  const warnings: string[] = [];
  for (const [j, explainer] of explainers.entries()) {
    const result = await ctx.run(explainer, ctx.input, options.methodOptions[explainer.id] ?? {});
    const kind = result.mapKind ?? explainer.mapKind;
    const map =
      kind === 'input' ? reduceChannels(result.map, ctx.model.info.layout, options.reduction) : result.map;
    if (mean && (map.shape.length !== shape.length || map.shape.some((d, k) => d !== shape[k])))
      throw new OptionError(
        'invalid-option',
        `${ctx.method}: ${explainer.id} gives maps of shape [${map.shape.join(', ')}], the other methods [${shape.join(', ')}]`,
      );
    shape = map.shape;
    const per = map.data.length / map.shape[0];
    mean ??= new Float64Array(map.data.length);
    m2 ??= new Float64Array(map.data.length);
    for (let i = 0; i < map.shape[0]; i++) {
      let scale = 1;
      if (options.normalize !== 'none') {
        let s = 0;
        for (let p = 0; p < per; p++) {
          const v = Math.abs(map.data[i * per + p]);
          s = options.normalize === 'l1' ? s + v : Math.max(s, v);
        }
        if (s === 0) warnings.push(`${explainer.id}: item ${i} has an all-zero map`);
        scale = s > 0 ? 1 / s : 0;
      }
      // Welford's update: one pass over the methods, exact for identical maps.
      for (let p = i * per; p < (i + 1) * per; p++) {
        const v = map.data[p] * scale;
        const d = v - mean[p];
        mean[p] += d / (j + 1);
        m2[p] += d * (v - mean[p]);
      }
    }
    for (const w of result.warnings ?? []) warnings.push(`${explainer.id}: ${w}`);
  }
  const values =
    output === 'mean' ? (mean as Float64Array) : (m2 as Float64Array).map((v) => v / explainers.length);
  return { map: { data: Float32Array.from(values), shape }, mapKind: 'pixel', warnings };
}
