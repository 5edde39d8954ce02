import {
  type Extras,
  imageDims,
  type LayerInfo,
  type MethodResult,
  type Model,
  maxAbsPerItem,
  resizeBilinear,
  type Tensor,
} from '@xlens/core';
import type { CamLayerOptions } from './layers.js';
import { layerDims } from './layers.js';

/** `M[n] = Σ_k w[n, k] · A[n, k]`: channel weights `N×C` (row-major) over activations `N×C×h×w`. */
export function weightedSum(activations: Tensor, weights: ArrayLike<number>, layer = 'layer'): Tensor {
  const { n, c, h, w } = layerDims(activations, layer);
  const hw = h * w;
  const out = new Float32Array(n * hw);
  const acc = new Float64Array(hw);
  for (let b = 0; b < n; b++) {
    acc.fill(0);
    for (let k = 0; k < c; k++) {
      const wk = weights[b * c + k];
      if (wk === 0) continue;
      const base = (b * c + k) * hw;
      for (let p = 0; p < hw; p++) acc[p] += wk * activations.data[base + p];
    }
    out.set(acc, b * hw);
  }
  return { data: out, shape: [n, h, w] };
}

/** `M[n] = Σ_k W[n, k] ⊙ A[n, k]`: element-wise weights shaped like the activations. */
export function elementwiseSum(activations: Tensor, weights: Tensor, layer = 'layer'): Tensor {
  const { n, c, h, w } = layerDims(activations, layer);
  const hw = h * w;
  const out = new Float32Array(n * hw);
  const acc = new Float64Array(hw);
  for (let b = 0; b < n; b++) {
    acc.fill(0);
    for (let k = 0; k < c; k++) {
      const base = (b * c + k) * hw;
      for (let p = 0; p < hw; p++) acc[p] += weights.data[base + p] * activations.data[base + p];
    }
    out.set(acc, b * hw);
  }
  return { data: out, shape: [n, h, w] };
}

/** Spatial mean of every channel: `N×C×h×w` → `N·C` values. */
export function channelMeans(t: Tensor, layer = 'layer'): Float64Array {
  const { n, c, h, w } = layerDims(t, layer);
  const hw = h * w;
  const out = new Float64Array(n * c);
  for (let i = 0; i < n * c; i++) {
    let s = 0;
    for (let p = 0; p < hw; p++) s += t.data[i * hw + p];
    out[i] = s / hw;
  }
  return out;
}

/** Whether channel `k` of item `b` is constant over space (max = min). */
export function isConstantChannel(t: Tensor, b: number, k: number): boolean {
  const [, c, h, w] = t.shape;
  const base = (b * c + k) * h * w;
  const first = t.data[base];
  for (let p = 1; p < h * w; p++) if (t.data[base + p] !== first) return false;
  return true;
}

function reluInPlace(t: Tensor): Tensor {
  for (let i = 0; i < t.data.length; i++) if (!(t.data[i] > 0)) t.data[i] = 0;
  return t;
}

function resizeTo(t: Tensor, height: number, width: number): Tensor {
  return t.shape[1] === height && t.shape[2] === width ? t : resizeBilinear(t, height, width);
}

function average(maps: readonly Tensor[]): Tensor {
  const out = new Float32Array(maps[0].data.length);
  for (const m of maps) for (let i = 0; i < out.length; i++) out[i] += m.data[i] / maps.length;
  return { data: out, shape: [...maps[0].shape] };
}

/**
 * Fuse the coarse maps of several layers on a `height×width` grid. A single layer is only
 * resized, keeping its raw values. Several layers have incomparable scales, so each is first
 * divided by its per-item max |value| on its own grid, then resized bilinearly and the results
 * averaged: every layer counts equally and signs are kept.
 */
export function fuseMaps(maps: readonly Tensor[], height: number, width: number): Tensor {
  if (maps.length === 1) return resizeTo(maps[0], height, width);
  return average(maps.map((m) => resizeTo(maxAbsPerItem(m), height, width)));
}

/** Input height and width of a model's image batch. */
export function inputSize(model: Model, input: Tensor): { height: number; width: number } {
  const { h, w } = imageDims(input.shape, model.info.layout);
  return { height: h, width: w };
}

/**
 * Finish a CAM: optional final ReLU per layer map, fusion, and upsampling. `coarse` is the map
 * on the finest coarse grid among the layers (the layer's own grid for one layer); `map` is the
 * same maps fused at input resolution when `upsample` is on, else `coarse`.
 */
export function finishCam<E extends Extras = Extras>(
  coarseMaps: readonly Tensor[],
  layers: readonly LayerInfo[],
  options: Pick<CamLayerOptions, 'upsample' | 'relu'>,
  size: { height: number; width: number },
  extras?: E,
): MethodResult<E> {
  const maps = options.relu
    ? coarseMaps.map((m) => reluInPlace({ data: m.data.slice(), shape: m.shape }))
    : coarseMaps;
  let gridH = 0;
  let gridW = 0;
  for (const m of maps) {
    if (m.shape[1] * m.shape[2] > gridH * gridW) {
      gridH = m.shape[1];
      gridW = m.shape[2];
    }
  }
  const coarse = fuseMaps(maps, gridH, gridW);
  const map = options.upsample ? fuseMaps(maps, size.height, size.width) : coarse;
  const resolvedOptions = layerOptions(layers);
  return extras ? { map, coarse, extras, resolvedOptions } : { map, coarse, resolvedOptions };
}

/**
 * The layers a CAM actually used, for `Attribution.options`: `layer` for one layer (also when it
 * was picked automatically), `layers` as a comma list for fused ones.
 */
export function layerOptions(layers: readonly LayerInfo[]): Record<string, string> {
  return layers.length === 1 ? { layer: layers[0].name } : { layers: layers.map((l) => l.name).join(',') };
}
