import { felzenszwalbScales, resizeBilinear, type Tensor } from '@xlens/core';

/** How XRAI over-segments an image. */
export interface RegionOptions {
  /** Felzenszwalb scales k, one segmentation each. */
  readonly scales: readonly number[];
  /** Felzenszwalb smallest segment, pixels of the segmentation size. */
  readonly minSize: number;
  /** Side the image is resized to before segmenting (0: segment at its own size). */
  readonly segmentationSize: number;
  /** Radius of the disk every segment is dilated by, pixels of the image. */
  readonly dilation: number;
}

/**
 * The candidate regions of one `C×H×W` image, as lists of pixel indices: the segments of a
 * Felzenszwalb segmentation per scale (σ = 0.8) of the image scaled to [−1, 1] and resized to
 * `segmentationSize`², mapped back by nearest neighbour and dilated by a disk — the recipe of the
 * authors' code (PAIR saliency `xrai.py`). Regions come scale by scale, segments by label.
 */
export function xraiRegions(image: Tensor, options: RegionOptions): Int32Array[] {
  const [c, h, w] = image.shape;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const v of image.data) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  const range = high - low || 1;
  const scaled = image.data.map((v) => ((v - low) / range) * 2 - 1);
  const size = options.segmentationSize;
  const [sh, sw] = size > 0 ? [size, size] : [h, w];
  const planes = size > 0 ? resizeBilinear({ data: scaled, shape: [1, c, h, w] }, sh, sw).data : scaled;
  const offsets: [number, number][] = [];
  const r = options.dilation;
  for (let dy = -Math.floor(r); dy <= r; dy++)
    for (let dx = -Math.floor(r); dx <= r; dx++) if (dy * dy + dx * dx <= r * r) offsets.push([dy, dx]);
  const regions: Int32Array[] = [];
  const resized = { data: planes, shape: [c, sh, sw] };
  for (const seg of felzenszwalbScales(resized, options.scales, { sigma: 0.8, minSize: options.minSize })) {
    // Nearest neighbour back to the image's size (pixel centres), then one mask per label.
    const members: number[][] = Array.from({ length: seg.count }, () => []);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / h));
        const sx = Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / w));
        members[seg.labels[sy * sw + sx]].push(y * w + x);
      }
    for (const pixels of members) {
      if (pixels.length === 0) continue;
      const mask = new Uint8Array(h * w);
      for (const p of pixels) {
        const y = Math.floor(p / w);
        const x = p % w;
        for (const [dy, dx] of offsets) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) mask[yy * w + xx] = 1;
        }
      }
      const list: number[] = [];
      for (let p = 0; p < mask.length; p++) if (mask[p]) list.push(p);
      regions.push(Int32Array.from(list));
    }
  }
  return regions;
}

/** The XRAI map of one image and the number of regions it added. */
export interface XraiResult {
  readonly map: Float32Array;
  readonly regions: number;
}

/**
 * XRAI's greedy merge: repeatedly add the region whose not-yet-covered pixels have the highest
 * mean attribution (gain density), dropping regions that would add fewer than `minPixels` pixels,
 * until the covered fraction exceeds `area` or no region is left. A pixel's value is the gain of
 * the region that first covered it; pixels never covered get their own mean attribution.
 */
export function greedyRegions(
  attr: Float64Array,
  regions: readonly Int32Array[],
  area: number,
  minPixels: number,
): XraiResult {
  const size = attr.length;
  const out = new Float32Array(size);
  const covered = new Uint8Array(size);
  let count = 0;
  let added = 0;
  const remaining = new Set(regions.keys());
  while (count / size <= area && remaining.size > 0) {
    let best = Number.NEGATIVE_INFINITY;
    let bestKey = -1;
    for (const key of remaining) {
      let n = 0;
      let sum = 0;
      for (const p of regions[key])
        if (!covered[p]) {
          n++;
          sum += attr[p];
        }
      if (n < Math.max(1, minPixels)) {
        remaining.delete(key);
        continue;
      }
      if (sum / n > best) {
        best = sum / n;
        bestKey = key;
      }
    }
    if (bestKey < 0) break;
    for (const p of regions[bestKey])
      if (!covered[p]) {
        covered[p] = 1;
        out[p] = best;
        count++;
      }
    remaining.delete(bestKey);
    added++;
  }
  if (count < size) {
    let sum = 0;
    for (let p = 0; p < size; p++) if (!covered[p]) sum += attr[p];
    const rest = sum / (size - count);
    for (let p = 0; p < size; p++) if (!covered[p]) out[p] = rest;
  }
  return { map: out, regions: added };
}
