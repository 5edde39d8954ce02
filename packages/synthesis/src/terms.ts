import {
  type Capability,
  type ExplainContext,
  findLayer,
  type Model,
  OptionError,
  sizeOf,
} from '@xlens/core';
import { flattenObjective, formatObjective, type Objective } from './objective.js';

/**
 * One weighted atom of an objective, compiled against a model: where its backward pass starts
 * (`site`: a layer, or null for the outputs), its value and its cotangent at that site. Terms of
 * one site share one backward pass; a sum over sites costs one pass per site.
 */
export interface Term {
  readonly site: string | null;
  /** Channels-first item shape of the site. */
  readonly shape: readonly number[];
  /** Whether the cotangent depends on the site's activation (then a capture pass runs first). */
  readonly needsActivation: boolean;
  /** The weighted value of item `item`; `all` holds every item's activation at the site. */
  value(act: Float32Array, item: number, all: readonly Float32Array[]): number;
  /** Add the weighted ∂value/∂activation of item `item` to `out`. */
  addCotangent(
    out: Float32Array,
    act: Float32Array | null,
    item: number,
    all: readonly Float32Array[] | null,
  ): void;
}

/** The layer of an atom, checked against the model; null for output objectives. */
function siteOf(model: Model, o: Objective): { site: string | null; shape: readonly number[] } {
  if (o.kind === 'target' || o.kind === 'class') return { site: null, shape: [model.info.numClasses] };
  if (o.kind === 'sum') throw new Error('unreachable: sums are flattened');
  const layer = findLayer(model, o.layer);
  return { site: layer.name, shape: layer.outputShape };
}

/** Check an objective against a model before compute; returns the capabilities it needs. */
export function checkObjectiveOn(model: Model, objective: Objective, method: string): Capability[] {
  const needs = new Set<Capability>(['gradients']);
  for (const { objective: o } of flattenObjective(objective)) {
    const bad = (why: string): never => {
      throw new OptionError('invalid-option', `${method}: objective ${formatObjective(o)}: ${why}`);
    };
    if (o.kind === 'class' && o.index >= model.info.numClasses)
      bad(`class ${o.index} is out of range; ${model.info.name} has ${model.info.numClasses} classes`);
    if (o.kind === 'target' || o.kind === 'class') continue;
    if (!model.layers || !model.capabilities.has('layers'))
      bad(`naming a layer needs capability layers, which ${model.info.name} does not offer`);
    for (const c of ['layers', 'layer-gradients', 'capture'] as const) needs.add(c);
    const { shape } = siteOf(model, o);
    if (o.kind === 'unit' || o.kind === 'channel') {
      const channels = shape[0];
      if (o.index >= channels)
        bad(`index ${o.index} is out of range; layer ${o.layer} has ${channels} channels`);
      if (o.kind === 'unit' && o.y !== undefined) {
        if (shape.length !== 3)
          bad(`layer ${o.layer} has shape [${shape.join(', ')}], so a unit has no position`);
        if (o.y >= shape[1] || (o.x ?? 0) >= shape[2])
          bad(`position (${o.y}, ${o.x}) is outside the ${shape[1]}×${shape[2]} map of ${o.layer}`);
      }
    }
  }
  return [...needs];
}

const softmax = (row: Float32Array): Float64Array => {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) max = Math.max(max, v);
  const p = Float64Array.from(row, (v) => Math.exp(v - max));
  let s = 0;
  for (const v of p) s += v;
  for (let j = 0; j < p.length; j++) p[j] /= s;
  return p;
};

/** Flat index of a unit: channel `index` at (y, x), default the centre of a spatial map. */
function unitIndex(shape: readonly number[], index: number, y?: number, x?: number): number {
  if (shape.length !== 3) return index;
  const [, h, w] = shape;
  return (index * h + (y ?? Math.floor(h / 2))) * w + (x ?? Math.floor(w / 2));
}

/** The Gram matrices (C×C over positions) of every item's activation and their norms, cached per call. */
const gramCache = new WeakMap<readonly Float32Array[], { grams: Float64Array[]; norms: number[] }>();
function gramsOf(all: readonly Float32Array[], shape: readonly number[]) {
  let found = gramCache.get(all);
  if (found) return found;
  const c = shape[0];
  const p = sizeOf(shape) / c;
  const grams = all.map((a) => {
    const g = new Float64Array(c * c);
    for (let i = 0; i < c; i++)
      for (let j = i; j < c; j++) {
        let s = 0;
        for (let q = 0; q < p; q++) s += a[i * p + q] * a[j * p + q];
        g[i * c + j] = g[j * c + i] = s / p;
      }
    return g;
  });
  const norms = grams.map((g) => Math.sqrt(g.reduce((s, v) => s + v * v, 0)));
  found = { grams, norms };
  gramCache.set(all, found);
  return found;
}

function cosine(a: Float64Array, b: Float64Array, na: number, nb: number): number {
  if (na === 0 || nb === 0) return 0;
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s / (na * nb);
}

/** One atom as a term with weight `w`. */
function atomTerm(ctx: ExplainContext<unknown>, o: Objective, w: number): Term {
  const { site, shape } = siteOf(ctx.model, o);
  const base = { site, shape };
  const probabilities = ctx.model.info.outputKind === 'probabilities';
  switch (o.kind) {
    case 'target': {
      const k = ctx.model.info.numClasses;
      const needs = ctx.target.classes !== null && ctx.target.score !== 'logit';
      return {
        ...base,
        needsActivation: needs,
        value: (act, item) => w * ctx.scores({ data: act, shape: [1, k] }, [item])[0],
        addCotangent(out, act, item) {
          const cot = ctx.outputCotangent(needs ? { data: act!, shape: [1, k] } : null, [item]).data;
          for (let j = 0; j < k; j++) out[j] += w * cot[j];
        },
      };
    }
    case 'class': {
      const score = o.score ?? 'logit';
      const c = o.index;
      if (score === 'logit' || (probabilities && score === 'probability'))
        return {
          ...base,
          needsActivation: false,
          value: (act) => w * act[c],
          addCotangent(out) {
            out[c] += w;
          },
        };
      return {
        ...base,
        needsActivation: true,
        value(act) {
          const p = probabilities ? act[c] : softmax(act)[c];
          return w * (score === 'probability' ? p : Math.log(p));
        },
        addCotangent(out, act) {
          if (probabilities) {
            out[c] += w / act![c]; // d log p_c / d p_c
            return;
          }
          const p = softmax(act!);
          const scale = score === 'probability' ? p[c] : 1;
          for (let j = 0; j < p.length; j++) out[j] += w * scale * ((j === c ? 1 : 0) - p[j]);
        },
      };
    }
    case 'unit':
    case 'channel': {
      const centre = o.kind === 'unit' || o.at === 'centre' || shape.length !== 3;
      if (centre) {
        const at = unitIndex(
          shape,
          o.index,
          o.kind === 'unit' ? o.y : undefined,
          o.kind === 'unit' ? o.x : undefined,
        );
        return {
          ...base,
          needsActivation: false,
          value: (act) => w * act[at],
          addCotangent(out) {
            out[at] += w;
          },
        };
      }
      const plane = shape[1] * shape[2];
      const from = o.index * plane;
      return {
        ...base,
        needsActivation: false,
        value(act) {
          let s = 0;
          for (let q = from; q < from + plane; q++) s += act[q];
          return (w * s) / plane;
        },
        addCotangent(out) {
          for (let q = from; q < from + plane; q++) out[q] += w / plane;
        },
      };
    }
    case 'layer': {
      const size = sizeOf(shape);
      return {
        ...base,
        needsActivation: true,
        value: (act) => (w * act.reduce((s, v) => s + v * v, 0)) / size,
        addCotangent(out, act) {
          for (let q = 0; q < size; q++) out[q] += (2 * w * act![q]) / size;
        },
      };
    }
    case 'diversity': {
      const c = shape[0];
      const p = sizeOf(shape) / c;
      return {
        ...base,
        needsActivation: true,
        value(_act, item, all) {
          if (all.length < 2) return 0;
          const { grams, norms } = gramsOf(all, shape);
          let s = 0;
          for (let j = 0; j < all.length; j++)
            if (j !== item) s += cosine(grams[item], grams[j], norms[item], norms[j]);
          return (-w * s) / (all.length - 1);
        },
        addCotangent(out, _act, item, all) {
          const n = all!.length;
          if (n < 2) return;
          const { grams, norms } = gramsOf(all!, shape);
          const gi = grams[item];
          if (norms[item] === 0) return;
          // M = Σ_j ∂cos_ij/∂G_i; the item's share of −(2/(N−1))·Σ_{i<j} cos_ij is −(2/(N−1))·2·M·A_i / P.
          const m = new Float64Array(c * c);
          for (let j = 0; j < n; j++) {
            if (j === item || norms[j] === 0) continue;
            const cos = cosine(gi, grams[j], norms[item], norms[j]);
            for (let e = 0; e < m.length; e++)
              m[e] += grams[j][e] / (norms[item] * norms[j]) - (cos * gi[e]) / norms[item] ** 2;
          }
          const a = all![item];
          const scale = (-w * 2 * 2) / ((n - 1) * p);
          for (let i = 0; i < c; i++)
            for (let q = 0; q < p; q++) {
              let s = 0;
              for (let k = 0; k < c; k++) s += m[i * c + k] * a[k * p + q];
              out[i * p + q] += scale * s;
            }
        },
      };
    }
    default:
      throw new Error('unreachable: sums are flattened');
  }
}

/** An objective as terms for a run. Checked against the model beforehand by `checkObjectiveOn`. */
export function compileObjective(ctx: ExplainContext<unknown>, objective: Objective): Term[] {
  return flattenObjective(objective).map(({ weight, objective: o }) => atomTerm(ctx, o, weight));
}
