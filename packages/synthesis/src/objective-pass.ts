import type { BackwardSeed, ExplainContext } from '@xlens/core';
import { type Geometry, itemChannelsFirst, toModelRows } from './image-space.js';
import type { Term } from './terms.js';

/** Activations of every item at each site (`null` = the outputs), one Float32Array per item. */
type SiteActivations = Map<string | null, Float32Array[]>;

const sitesOf = (terms: readonly Term[]): (string | null)[] => [...new Set(terms.map((t) => t.site))];

/** One streamed forward (with captures when layers are asked) of the images: activations per item at `sites`. */
async function activationsAt(
  ctx: ExplainContext<unknown>,
  images: readonly Float32Array[],
  g: Geometry,
  sites: readonly (string | null)[],
): Promise<SiteActivations> {
  const found: SiteActivations = new Map(sites.map((s) => [s, []]));
  const layers = sites.filter((s): s is string => s !== null);
  const rows = {
    rows: images.length,
    input: (s: number, e: number) => toModelRows(images, s, e, g),
    progress: false,
  };
  const keep = (
    start: number,
    output: Float32Array,
    k: number,
    acts: Readonly<Record<string, { data: Float32Array }>>,
  ) => {
    const n = output.length / k;
    for (let r = 0; r < n; r++) {
      const outputs = found.get(null);
      if (outputs) outputs[start + r] = output.slice(r * k, (r + 1) * k);
      for (const l of layers) {
        const a = acts[l].data;
        const per = a.length / n;
        found.get(l)![start + r] = a.slice(r * per, (r + 1) * per);
      }
    }
  };
  const k = ctx.model.info.numClasses;
  if (layers.length === 0) await ctx.streamForward(rows, (c) => keep(c.start, c.output.data, k, {}));
  else await ctx.streamCapture({ ...rows, layers }, (c) => keep(c.start, c.output.data, k, c.activations));
  return found;
}

/**
 * ∂objective/∂image of every item (channels-first): one backward pass per site, each seeded with
 * the sum of its terms' cotangents, after one capture pass when a cotangent depends on the
 * activation. Rows are items; core chunks them by `batchSize`, and every row's gradient depends on
 * its own image only (the `diversity` term excepted, by design).
 */
export async function objectiveGradients(
  ctx: ExplainContext<unknown>,
  terms: readonly Term[],
  images: readonly Float32Array[],
  g: Geometry,
): Promise<Float32Array[]> {
  const sites = sitesOf(terms);
  const captured = sites.filter((s) => terms.some((t) => t.site === s && t.needsActivation));
  const acts = captured.length > 0 ? await activationsAt(ctx, images, g, captured) : new Map();
  const grads = images.map(() => new Float32Array(g.size));
  for (const site of sites) {
    const own = terms.filter((t) => t.site === site);
    const shape = own[0].shape;
    const per = shape.reduce((a, b) => a * b, 1);
    const all: Float32Array[] | null = acts.get(site) ?? null;
    await ctx.streamGradient(
      {
        rows: images.length,
        input: (s, e) => toModelRows(images, s, e, g),
        progress: false,
        seed(start, end, items): BackwardSeed {
          const data = new Float32Array((end - start) * per);
          for (let r = 0; r < end - start; r++) {
            const out = data.subarray(r * per, (r + 1) * per);
            for (const t of own) t.addCotangent(out, all?.[items[r]] ?? null, items[r], all);
          }
          const cotangent = { data, shape: [end - start, ...shape] };
          return site === null ? { kind: 'output', cotangent } : { kind: 'layer', layer: site, cotangent };
        },
      },
      (chunk) => {
        const gi = chunk.inputGradient!;
        for (let r = 0; r < chunk.end - chunk.start; r++) {
          const cf = itemChannelsFirst(gi.data, r, g);
          const acc = grads[chunk.start + r];
          for (let p = 0; p < cf.length; p++) acc[p] += cf[p];
        }
      },
    );
  }
  return grads;
}

/** The objective's value for every item: Σ of its terms at one capture pass of the images. */
export async function objectiveValues(
  ctx: ExplainContext<unknown>,
  terms: readonly Term[],
  images: readonly Float32Array[],
  g: Geometry,
): Promise<number[]> {
  const acts = await activationsAt(ctx, images, g, sitesOf(terms));
  return images.map((_, i) =>
    terms.reduce((s, t) => {
      const all = acts.get(t.site)!;
      return s + t.value(all[i], i, all);
    }, 0),
  );
}
