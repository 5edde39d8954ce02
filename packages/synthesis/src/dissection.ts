import { findLayer, InputError, type Model, OptionError, resizeBilinear, type Tensor } from '@xlens/core';
import { type DataRunOptions, dataContext, layerActivations } from './data-context.js';
import { geometryOf } from './image-space.js';

/** A visual concept: a binary mask per data-set image (`N×H×W`, 1 where the concept is). */
export interface Concept {
  readonly name: string;
  readonly masks: Tensor;
}

/** What dissection found for one unit (channel) of the layer. */
export interface UnitLabel {
  readonly unit: number;
  /** The concept of highest IoU, or `none` when that IoU is below `minIoU`. */
  readonly label: string;
  readonly iou: number;
  /** IoU with every concept, in the order given. */
  readonly ious: readonly number[];
  /** The activation threshold T_k: the unit's `quantile` over all positions of all images. */
  readonly threshold: number;
}

/** Options of `dissect`. */
export interface DissectionOptions {
  readonly layer: string;
  readonly concepts: readonly Concept[];
  /** T_k is this quantile of the unit's activations over the data set (Bau et al.: 0.995). */
  readonly quantile?: number;
  /** Below this IoU a unit is labelled `none` (Bau et al.: 0.04). */
  readonly minIoU?: number;
}

/**
 * Bau, Zhou, Khosla, Oliva & Torralba, 2017, "Network Dissection: Quantifying Interpretability of
 * Deep Visual Representations", CVPR, arXiv:1704.05796, in a small form: each unit's activation
 * map, upsampled bilinearly to the image size, is thresholded at T_k (its `quantile` over the
 * whole data set, before upsampling), and compared with each concept's masks by IoU_k,c = Σ|M_k ∩ L_c| / Σ|M_k ∪ L_c|
 * summed over the data set; the unit takes the label of its best concept. `conceptsFromLabels`
 * builds concepts from segmentation masks and class labels (the zoo shapes: one per shape class,
 * plus the background). Activations of the layer are held for the whole data set (N·C·h·w floats).
 */
export async function dissect(
  model: Model,
  images: Tensor,
  options: DissectionOptions,
  run?: DataRunOptions,
): Promise<UnitLabel[]> {
  const ctx = dataContext('dissection', model, images, ['layers', 'capture'], run);
  const g = geometryOf(model, images, 'dissection');
  const quantile = options.quantile ?? 0.995;
  const minIoU = options.minIoU ?? 0.04;
  if (!(quantile > 0 && quantile < 1))
    throw new OptionError(
      'invalid-option',
      `dissection: quantile = ${quantile} is invalid; expected a number in (0, 1)`,
    );
  if (options.concepts.length === 0)
    throw new OptionError('invalid-option', 'dissection: give at least one concept');
  for (const concept of options.concepts)
    if (concept.masks.shape.join() !== [g.n, g.h, g.w].join())
      throw new InputError(
        'invalid-shape',
        `dissection: concept ${concept.name} has masks [${concept.masks.shape.join(', ')}]; expected [${g.n}, ${g.h}, ${g.w}]`,
      );
  const layer = findLayer(model, options.layer);
  const acts = await layerActivations(ctx, layer.name);
  const [, c] = acts.shape;
  const [h, w] = acts.shape.length === 4 ? [acts.shape[2], acts.shape[3]] : [1, 1];
  const plane = h * w;
  const tops: boolean[] = [];
  const thresholds = Array.from({ length: c }, (_, k) => {
    const values = new Float32Array(g.n * plane);
    for (let i = 0; i < g.n; i++)
      values.set(acts.data.subarray((i * c + k) * plane, (i * c + k + 1) * plane), i * plane);
    values.sort();
    const t = values[Math.min(values.length - 1, Math.floor(quantile * values.length))];
    tops.push(t === values[values.length - 1]);
    return t;
  });
  const size = g.h * g.w;
  const inter = Array.from({ length: c }, () => new Float64Array(options.concepts.length));
  const union = Array.from({ length: c }, () => new Float64Array(options.concepts.length));
  for (let i = 0; i < g.n; i++) {
    ctx.checkAborted();
    const maps = resizeBilinear(
      { data: acts.data.subarray(i * c * plane, (i + 1) * c * plane), shape: [c, h, w] },
      g.h,
      g.w,
    );
    for (let k = 0; k < c; k++) {
      const t = thresholds[k];
      // M_k is a > T_k (so the zeros of a sparse ReLU unit stay out), or a ≥ T_k when T_k is the
      // unit's maximum (so a unit that sits at its top on many positions still has a mask).
      const top = tops[k];
      options.concepts.forEach((concept, j) => {
        const mask = concept.masks.data;
        let both = 0;
        let either = 0;
        for (let p = 0; p < size; p++) {
          const v = maps.data[k * size + p];
          const a = v > t || (top && v === t);
          const b = mask[i * size + p] > 0.5;
          if (a && b) both++;
          if (a || b) either++;
        }
        inter[k][j] += both;
        union[k][j] += either;
      });
    }
    ctx.progress(i + 1, g.n);
  }
  return thresholds.map((threshold, unit) => {
    const ious = options.concepts.map((_, j) => (union[unit][j] > 0 ? inter[unit][j] / union[unit][j] : 0));
    const best = ious.reduce((b, v, j) => (v > ious[b] ? j : b), 0);
    return {
      unit,
      label: ious[best] >= minIoU ? options.concepts[best].name : 'none',
      iou: ious[best],
      ious,
      threshold,
    };
  });
}

/**
 * Concepts from object masks and class labels: concept `classNames[c]` is an image's mask when its
 * label is c (empty otherwise), and `background` (unless false) is everything outside the masks.
 */
export function conceptsFromLabels(
  masks: Tensor,
  labels: ArrayLike<number>,
  classNames: readonly string[],
  background = true,
): Concept[] {
  const [n, h, w] = masks.shape;
  if (labels.length !== n)
    throw new InputError('invalid-shape', `conceptsFromLabels: ${labels.length} labels for ${n} masks`);
  const size = h * w;
  const concepts: Concept[] = classNames.map((name, c) => {
    const data = new Float32Array(n * size);
    for (let i = 0; i < n; i++)
      if (labels[i] === c) data.set(masks.data.subarray(i * size, (i + 1) * size), i * size);
    return { name, masks: { data, shape: [n, h, w] } };
  });
  if (background)
    concepts.push({
      name: 'background',
      masks: { data: Float32Array.from(masks.data, (v) => (v > 0.5 ? 0 : 1)), shape: [n, h, w] },
    });
  return concepts;
}
