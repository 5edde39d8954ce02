import { InputError, type Tensor } from '@xlens/core';
import type { Box } from './mark.js';
import { mnistSamples, mnistSplitSize } from './mnist.js';
import { checkName, type ZooModelName } from './models.js';
import { shapesDataset, shortcutDataset } from './shapes.js';

/** Seed of the default sample images (distinct from the training and evaluation seeds). */
export const SAMPLE_SEED = 4242;

/** A handful of ready-to-explain images for a bundled model. */
export interface SampleImages {
  /** Model-ready batch, NHWC, values in [0, 1]. */
  readonly images: Tensor;
  /** True class per item. */
  readonly labels: Int32Array;
  readonly classNames: readonly string[];
  /** A short file-name-safe name per item, e.g. `03-star`. */
  readonly names: readonly string[];
  /** Ground-truth `N×H×W` masks (shapes models only). */
  readonly masks?: Tensor;
  /** Ground-truth boxes (shapes models only). */
  readonly boxes?: readonly Box[];
  /** `N×H×W` maps of the shortcut mark, zero where absent (shapes models only). */
  readonly markMasks?: Tensor;
  /** 1 where the item carries the shortcut mark (shapes models only). */
  readonly marked?: Uint8Array;
}

/**
 * Default sample images for a bundled model, from a fixed seed: for `shapes`, the first items of the
 * shapes sequence (one per class in every run of six); for `shapes-shortcut`, the same items drawn
 * as in its training distribution (stars carry the mark, often faint); for `mnist`, held-out test
 * digits.
 */
export function sampleImages(name: string, count = 6): SampleImages {
  const model: ZooModelName = checkName(name);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw new InputError('invalid-input', `count must be an integer in [1, 1000], got ${count}`);
  }
  if (model === 'mnist') {
    if (count > mnistSplitSize('test')) {
      throw new InputError(
        'invalid-input',
        `count must be ≤ ${mnistSplitSize('test')} for mnist, got ${count}`,
      );
    }
    const s = mnistSamples(count, SAMPLE_SEED, { split: 'test' });
    return { ...s, names: itemNames(s.labels, s.classNames) };
  }
  const d =
    model === 'shapes' || model === 'shapes-permuted'
      ? shapesDataset({ count, seed: SAMPLE_SEED })
      : shortcutDataset({ count, seed: SAMPLE_SEED });
  return {
    images: d.images,
    labels: d.labels,
    classNames: d.classNames,
    names: itemNames(d.labels, d.classNames),
    masks: d.masks,
    boxes: d.boxes,
    markMasks: d.markMasks,
    marked: d.marked,
  };
}

function itemNames(labels: Int32Array, classNames: readonly string[]): string[] {
  const width = String(labels.length - 1).length;
  return Array.from(labels, (l, i) => `${String(i).padStart(Math.max(2, width), '0')}-${classNames[l]}`);
}
