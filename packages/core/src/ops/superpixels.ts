import { InputError, OptionError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { gaussianBlur } from './blur.js';

/**
 * A segmentation of one image into superpixels: one label per pixel (row-major `height×width`),
 * numbered `0…count−1` in raster order of first appearance, every label used and every segment
 * 4-connected (SLIC) or 8-connected (Felzenszwalb).
 */
export interface Segmentation {
  readonly labels: Int32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
}

/** Options of `slic`. */
export interface SlicOptions {
  /** Approximate number of segments (the grid has ≈ this many cells). */
  readonly segments?: number;
  /**
   * Weight of the spatial distance against the colour distance: the distance of a pixel to a
   * centre is √(d_colour² + (m·d_xy / S)²) with S the grid step, so a pixel one step away costs
   * as much as a colour difference of `m`. Colour differences are in the image's own units: for
   * images in [0, 1], 0.1 plays the part of skimage's default 10 on Lab colours.
   */
  readonly compactness?: number;
  /**
   * SLICO, the zero-parameter variant: each segment's colour distances are divided by the largest
   * one it held in the previous round (`compactness` only sets the first round), so segments stay
   * compact in textured or noisy areas and still follow edges in smooth ones.
   */
  readonly adaptive?: boolean;
  /** Most assignment / update rounds (stops earlier when no pixel changes segment). */
  readonly iterations?: number;
  /** Gaussian pre-smoothing of the image before clustering, in pixels (0: none). */
  readonly sigma?: number;
}

/** Options of `felzenszwalb`. */
export interface FelzenszwalbOptions {
  /**
   * Free parameter k of the merge threshold τ(C) = k / |C|: larger values give larger segments.
   * As in skimage, k is divided by 255, so images in [0, 1] behave like the 0–255 images of the
   * reference implementation.
   */
  readonly scale?: number;
  /** Gaussian smoothing of the image before building the graph, in pixels. */
  readonly sigma?: number;
  /** Segments smaller than this many pixels are merged into a neighbour. */
  readonly minSize?: number;
}

/** One item as `C×H×W` planes (accepts `[C, H, W]` and `[1, C, H, W]`). */
function planes(image: Tensor, op: string): { c: number; h: number; w: number; data: Float32Array } {
  const shape = image.shape.length === 4 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InputError(
      'invalid-shape',
      `${op} segments one channels-first image [C, H, W] (or [1, C, H, W]); got shape [${image.shape.join(', ')}]`,
    );
  }
  const [c, h, w] = shape;
  if (image.data.length !== c * h * w)
    throw new InputError(
      'invalid-shape',
      `${op}: ${image.data.length} values do not fill [${shape.join(', ')}]`,
    );
  return { c, h, w, data: image.data };
}

function positive(op: string, name: string, v: number, integer = false): number {
  if (!Number.isFinite(v) || v < 0 || (integer && (!Number.isInteger(v) || v < 1))) {
    throw new OptionError(
      'invalid-option',
      `${op}: ${name} = ${v} is invalid; expected ${integer ? 'an integer ≥ 1' : 'a finite number ≥ 0'}`,
    );
  }
  return v;
}

function smoothed(image: Tensor, op: string, sigma: number) {
  const p = planes(image, op);
  if (sigma === 0) return p;
  const blurred = gaussianBlur({ data: p.data, shape: [1, p.c, p.h, p.w] }, sigma, 'NCHW');
  return { ...p, data: blurred.data };
}

/** Renumber the labels `0…K−1` in raster order of first appearance. */
function relabel(labels: Int32Array, h: number, w: number): Segmentation {
  const map = new Map<number, number>();
  const out = new Int32Array(labels.length);
  for (let p = 0; p < labels.length; p++) {
    let l = map.get(labels[p]);
    if (l === undefined) {
      l = map.size;
      map.set(labels[p], l);
    }
    out[p] = l;
  }
  return { labels: out, count: map.size, height: h, width: w };
}

/**
 * Split 4-connected components of equal label apart, then merge every component smaller than
 * `minSize` (smallest first) into the neighbouring component of the nearest mean colour — so a
 * fragment joins the side of an edge it looks like, whatever its position.
 */
function enforceConnectivity(
  labels: Int32Array,
  planes: { c: number; h: number; w: number; data: Float32Array },
  minSize: number,
): Int32Array {
  const { c, h, w, data } = planes;
  const hw = h * w;
  const comp = new Int32Array(hw).fill(-1);
  const queue = new Int32Array(hw);
  const sizes: number[] = [];
  for (let start = 0; start < hw; start++) {
    if (comp[start] >= 0) continue;
    const id = sizes.length;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    comp[start] = id;
    while (head < tail) {
      const p = queue[head++];
      const y = Math.floor(p / w);
      const x = p % w;
      for (const q of [
        x > 0 ? p - 1 : -1,
        x < w - 1 ? p + 1 : -1,
        y > 0 ? p - w : -1,
        y < h - 1 ? p + w : -1,
      ]) {
        if (q >= 0 && comp[q] < 0 && labels[q] === labels[start]) {
          comp[q] = id;
          queue[tail++] = q;
        }
      }
    }
    sizes.push(tail);
  }
  const n = sizes.length;
  const colour = new Float64Array(n * c);
  for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) colour[comp[p] * c + ch] += data[ch * hw + p];
  const neighbours: Set<number>[] = Array.from({ length: n }, () => new Set());
  for (let p = 0; p < hw; p++) {
    const right = p % w < w - 1 ? comp[p + 1] : comp[p];
    const down = p + w < hw ? comp[p + w] : comp[p];
    for (const q of [right, down])
      if (q !== comp[p]) {
        neighbours[comp[p]].add(q);
        neighbours[q].add(comp[p]);
      }
  }
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (a: number): number => {
    let x = a;
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => sizes[a] - sizes[b] || a - b);
  for (const small of order) {
    const a = find(small);
    if (sizes[a] >= minSize) continue;
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const q of neighbours[a]) {
      const b = find(q);
      if (b === a) continue;
      let d = 0;
      for (let ch = 0; ch < c; ch++)
        d += (colour[a * c + ch] / sizes[a] - colour[b * c + ch] / sizes[b]) ** 2;
      if (d < bestDistance) {
        bestDistance = d;
        best = b;
      }
    }
    if (best < 0) continue;
    parent[a] = best;
    sizes[best] += sizes[a];
    for (let ch = 0; ch < c; ch++) colour[best * c + ch] += colour[a * c + ch];
    for (const q of neighbours[a]) neighbours[best].add(q);
  }
  const out = new Int32Array(hw);
  for (let p = 0; p < hw; p++) out[p] = find(comp[p]);
  return out;
}

/**
 * SLIC superpixels — Achanta, Shaji, Smith, Lucchi, Fua & Süsstrunk, 2012, "SLIC Superpixels
 * Compared to State-of-the-Art Superpixel Methods", IEEE TPAMI 34(11), DOI 10.1109/TPAMI.2012.120.
 *
 * k-means in (colour, position) space with centres started on a regular grid of step
 * S = √(H·W / segments) and each centre searching a 4S×4S window (as skimage), optionally with
 * SLICO's per-segment colour scale (`adaptive`), then a connectivity pass that
 * splits disconnected fragments and merges those under S²/2 pixels into the neighbour of nearest
 * colour. Colours are
 * the image's channels as given (no Lab conversion). Deterministic: no random draws.
 */
export function slic(image: Tensor, options: SlicOptions = {}): Segmentation {
  const segments = positive('slic', 'segments', options.segments ?? 100, true);
  const m = positive('slic', 'compactness', options.compactness ?? 0.1);
  const iterations = positive('slic', 'iterations', options.iterations ?? 10, true);
  const { c, h, w, data } = smoothed(image, 'slic', positive('slic', 'sigma', options.sigma ?? 0));
  const hw = h * w;
  const step = Math.max(1, Math.sqrt(hw / segments));
  // Centres: (y, x, colour...) on the grid, starting half a step in.
  const cols = Math.max(1, Math.min(w, Math.round(w / step)));
  const rows = Math.max(1, Math.min(h, Math.round(segments / cols)));
  const k = rows * cols;
  const dim = 2 + c;
  const centres = new Float64Array(k * dim);
  for (let r = 0; r < rows; r++)
    for (let q = 0; q < cols; q++) {
      const y = Math.min(h - 1, Math.floor(((r + 0.5) * h) / rows));
      const x = Math.min(w - 1, Math.floor(((q + 0.5) * w) / cols));
      const o = (r * cols + q) * dim;
      centres[o] = y;
      centres[o + 1] = x;
      for (let ch = 0; ch < c; ch++) centres[o + 2 + ch] = data[ch * hw + y * w + x];
    }
  const adaptive = options.adaptive ?? false;
  // Distance = d_colour² / m_j² + d_xy² / S²; m_j = m, or (SLICO) segment j's largest d_colour
  // of the previous round.
  const colourScale = new Float64Array(k).fill(Math.max(m * m, 1e-12));
  const colourMax = new Float64Array(k);
  const spatial = 1 / (step * step);
  const labels = new Int32Array(hw).fill(-1);
  const distance = new Float64Array(hw);
  const colourOf = new Float64Array(hw);
  const sums = new Float64Array(k * dim);
  const counts = new Float64Array(k);
  const reach = Math.ceil(2 * step);
  for (let it = 0; it < iterations; it++) {
    distance.fill(Number.POSITIVE_INFINITY);
    let changed = false;
    for (let j = 0; j < k; j++) {
      const o = j * dim;
      const cy = Math.round(centres[o]);
      const cx = Math.round(centres[o + 1]);
      for (let y = Math.max(0, cy - reach); y < Math.min(h, cy + reach + 1); y++)
        for (let x = Math.max(0, cx - reach); x < Math.min(w, cx + reach + 1); x++) {
          const p = y * w + x;
          let dc = 0;
          for (let ch = 0; ch < c; ch++) dc += (data[ch * hw + p] - centres[o + 2 + ch]) ** 2;
          const d = ((y - centres[o]) ** 2 + (x - centres[o + 1]) ** 2) * spatial + dc / colourScale[j];
          if (d < distance[p]) {
            distance[p] = d;
            colourOf[p] = dc;
            if (labels[p] !== j) {
              labels[p] = j;
              changed = true;
            }
          }
        }
    }
    if (!changed) break;
    if (adaptive) {
      colourMax.fill(0);
      for (let p = 0; p < hw; p++) colourMax[labels[p]] = Math.max(colourMax[labels[p]], colourOf[p]);
      for (let j = 0; j < k; j++) if (colourMax[j] > 0) colourScale[j] = colourMax[j];
    }
    sums.fill(0);
    counts.fill(0);
    for (let p = 0; p < hw; p++) {
      const o = labels[p] * dim;
      sums[o] += Math.floor(p / w);
      sums[o + 1] += p % w;
      for (let ch = 0; ch < c; ch++) sums[o + 2 + ch] += data[ch * hw + p];
      counts[labels[p]]++;
    }
    for (let j = 0; j < k; j++)
      if (counts[j] > 0) for (let d = 0; d < dim; d++) centres[j * dim + d] = sums[j * dim + d] / counts[j];
  }
  const connected = enforceConnectivity(
    labels,
    { c, h, w, data },
    Math.max(1, Math.floor((step * step) / 2)),
  );
  return relabel(connected, h, w);
}

/** Union–find root with path halving. */
function root(parent: Int32Array, a: number): number {
  let x = a;
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

/**
 * Graph-based segmentation — Felzenszwalb & Huttenlocher, 2004, "Efficient Graph-Based Image
 * Segmentation", IJCV 59(2), DOI 10.1023/B:VISI.0000022288.84224.e2.
 *
 * The image (smoothed by `sigma`) is an 8-connected grid graph weighted by the Euclidean colour
 * distance of neighbours. Edges are visited by increasing weight (ties by position), and two
 * components merge when the edge is no heavier than either one's internal difference plus
 * scale/(255·size); a second pass merges components under `minSize` pixels. This follows skimage's
 * `felzenszwalb` (joint colour distance over channels, scale divided by 255). Deterministic.
 */
export function felzenszwalb(image: Tensor, options: FelzenszwalbOptions = {}): Segmentation {
  return felzenszwalbScales(image, [options.scale ?? 1], options)[0];
}

/**
 * `felzenszwalb` at several scales of one image (as XRAI needs): the smoothing, the graph and the
 * sorting of its edges are done once, so each further scale costs only the merging passes. Gives
 * exactly what `felzenszwalb` gives at each scale.
 */
export function felzenszwalbScales(
  image: Tensor,
  scales: readonly number[],
  options: Omit<FelzenszwalbOptions, 'scale'> = {},
): Segmentation[] {
  for (const scale of scales) positive('felzenszwalb', 'scale', scale);
  const minSize = positive('felzenszwalb', 'minSize', options.minSize ?? 20);
  const sigma = positive('felzenszwalb', 'sigma', options.sigma ?? 0.8);
  const { c, h, w, data } = smoothed(image, 'felzenszwalb', sigma);
  const hw = h * w;
  // Edges to the right, down, down-right and down-left of every pixel.
  const from = new Int32Array(4 * hw);
  const to = new Int32Array(4 * hw);
  const cost = new Float64Array(4 * hw);
  let edges = 0;
  const edge = (a: number, b: number) => {
    let d = 0;
    for (let ch = 0; ch < c; ch++) d += (data[ch * hw + a] - data[ch * hw + b]) ** 2;
    from[edges] = a;
    to[edges] = b;
    cost[edges++] = Math.sqrt(d);
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (x + 1 < w) edge(p, p + 1);
      if (y + 1 < h) edge(p, p + w);
      if (x + 1 < w && y + 1 < h) edge(p, p + w + 1);
      if (x > 0 && y + 1 < h) edge(p, p + w - 1);
    }
  const order = new Uint32Array(edges);
  for (let e = 0; e < edges; e++) order[e] = e;
  order.sort((a, b) => cost[a] - cost[b] || a - b);
  return scales.map((k) => mergeGraph({ from, to, cost, order }, h, w, k / 255, minSize));
}

/** Felzenszwalb's merging passes over sorted edges, at threshold scale `k` (already ÷ 255). */
function mergeGraph(
  graph: { from: Int32Array; to: Int32Array; cost: Float64Array; order: Uint32Array },
  h: number,
  w: number,
  k: number,
  minSize: number,
): Segmentation {
  const { from, to, cost, order } = graph;
  const hw = h * w;
  const parent = Int32Array.from({ length: hw }, (_, i) => i);
  const size = new Float64Array(hw).fill(1);
  const internal = new Float64Array(hw);
  const join = (a: number, b: number): number => {
    // The larger tree absorbs the smaller one, so roots stay shallow.
    const big = size[a] >= size[b] ? a : b;
    const small = big === a ? b : a;
    parent[small] = big;
    size[big] += size[small];
    return big;
  };
  for (const e of order) {
    const a = root(parent, from[e]);
    const b = root(parent, to[e]);
    if (a === b) continue;
    if (cost[e] <= Math.min(internal[a] + k / size[a], internal[b] + k / size[b])) {
      // Edges come in increasing order, so this one is the heaviest of the merged tree.
      internal[join(a, b)] = cost[e];
    }
  }
  for (const e of order) {
    const a = root(parent, from[e]);
    const b = root(parent, to[e]);
    if (a !== b && (size[a] < minSize || size[b] < minSize)) join(a, b);
  }
  const labels = new Int32Array(hw);
  for (let p = 0; p < hw; p++) labels[p] = root(parent, p);
  return relabel(labels, h, w);
}
