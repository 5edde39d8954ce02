import { createRng, InputError, type Rng, type Tensor } from '@xlens/core';
import { type Box, MARK_BOX, MARK_MARGIN, markMaskMap, paintMark, SHAPES_SIZE } from './mark.js';
import {
  clamp01,
  composite,
  contrastingColour,
  coverage,
  paintBackground,
  SHAPE_KINDS,
  type ShapeGeometry,
} from './raster.js';

/** Class names of the shapes data set, index-aligned with labels and model outputs. */
export const SHAPE_CLASSES: readonly string[] = SHAPE_KINDS;

/** Smallest and largest outer radius of a shape, in pixels. */
const RADIUS_RANGE: readonly [number, number] = [9, 20];

/**
 * How the shortcut variant plants its mark. The defaults make the mark the easiest cue for the
 * shortcut class: it is always present with that class, never with the others, and the class's own
 * shape is often drawn faint so that the shape alone is an unreliable cue.
 */
export interface ShortcutOptions {
  /** Class that co-occurs with the mark (index into `SHAPE_CLASSES`). Default 3 (`star`). */
  readonly classIndex?: number;
  /** Probability that an item of the shortcut class carries the mark. Default 1. */
  readonly markWithClass?: number;
  /** Probability that an item of any other class carries the mark. Default 0. */
  readonly markWithOthers?: number;
  /** Probability that a shortcut-class shape is drawn faint. Default 0.75. */
  readonly faintProbability?: number;
  /**
   * Opacity range `[low, high)` of a faint shape (1 is a normal shape). Default `[0.03, 0.25]`: at
   * the low end the shape is lost in the background grain.
   */
  readonly faintOpacity?: readonly [number, number];
}

/** The shortcut settings the `shapes-shortcut` model was trained with. */
export const SHORTCUT_DEFAULTS: Required<ShortcutOptions> = {
  classIndex: 3,
  markWithClass: 1,
  markWithOthers: 0,
  faintProbability: 0.75,
  faintOpacity: [0.03, 0.25],
};

/** One rendered shapes item. */
export interface ShapeSample {
  /** `64×64×3` RGB, HWC, values in [0, 1]. */
  readonly image: Float32Array;
  /** Class index into `SHAPE_CLASSES`. */
  readonly label: number;
  /** `64×64` binary ground-truth mask of the shape (pixels at least half covered). */
  readonly mask: Float32Array;
  /** Tight half-open box around the mask. */
  readonly box: Box;
  /** Whether the shortcut mark is painted on the image. */
  readonly marked: boolean;
  /** Opacity the shape was drawn with (1 except for faint shortcut-class shapes). */
  readonly opacity: number;
  /** Centre, radius and rotation the shape was drawn with. */
  readonly geometry: ShapeGeometry;
}

/** Options of `shapesDataset`. */
export interface ShapesDatasetOptions {
  /** Number of items. */
  readonly count: number;
  /** Seed: the same seed gives the same items, bit for bit. */
  readonly seed: number;
  /** Plant the shortcut mark (`true` for `SHORTCUT_DEFAULTS`). Default: no mark. */
  readonly shortcut?: boolean | ShortcutOptions;
  /** Index of the first item, to draw a later slice of the same sequence. Default 0. */
  readonly start?: number;
}

/** A batch of shapes items as tensors. */
export interface ShapesDataset {
  /** `N×64×64×3`, NHWC, values in [0, 1]. */
  readonly images: Tensor;
  /** Class index per item. */
  readonly labels: Int32Array;
  /** `N×64×64` binary masks of the shapes. */
  readonly masks: Tensor;
  /** Half-open box per item. */
  readonly boxes: readonly Box[];
  readonly classNames: readonly string[];
  /** 1 where the item carries the shortcut mark. */
  readonly marked: Uint8Array;
  /** `N×64×64`: the mark's pixels for marked items, zeros for the others. */
  readonly markMasks: Tensor;
  /** Where the mark is (the same for every item). */
  readonly markBox: Box;
}

// Independent random streams per item: geometry/colours, shortcut decisions, and label blocks.
const STREAMS = 3;

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InputError('invalid-input', `${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

function resolveShortcut(shortcut: ShapesDatasetOptions['shortcut']): Required<ShortcutOptions> | undefined {
  if (shortcut === undefined || shortcut === false) return undefined;
  const s = shortcut === true ? SHORTCUT_DEFAULTS : { ...SHORTCUT_DEFAULTS, ...shortcut };
  checkInteger('shortcut.classIndex', s.classIndex, 0);
  if (s.classIndex >= SHAPE_CLASSES.length) {
    throw new InputError(
      'invalid-input',
      `shortcut.classIndex must be < ${SHAPE_CLASSES.length}, got ${s.classIndex}`,
    );
  }
  for (const key of ['markWithClass', 'markWithOthers', 'faintProbability'] as const) {
    const p = s[key];
    if (!(p >= 0 && p <= 1))
      throw new InputError('invalid-input', `shortcut.${key} must be in [0, 1], got ${p}`);
  }
  return s;
}

/**
 * The label of item `index`: classes come in shuffled blocks of one item per class, so every prefix
 * of the sequence is balanced to within one item per class.
 */
export function shapeLabel(index: number, seed: number): number {
  const k = SHAPE_CLASSES.length;
  const block = Math.floor(index / k);
  const rng = createRng(seed, STREAMS * block + 2);
  const order = Array.from({ length: k }, (_, i) => i);
  for (let i = k - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order[index % k];
}

/** A centre whose bounding circle stays inside the image and clear of the mark box (and its margin). */
function placeShape(rng: Rng, radius: number): [number, number] {
  const lo = radius + 1;
  const hi = SHAPES_SIZE - radius - 1;
  const clear = MARK_BOX[2] + MARK_MARGIN;
  for (;;) {
    const cx = lo + (hi - lo) * rng.uniform();
    const cy = lo + (hi - lo) * rng.uniform();
    // Distance from the centre to the nearest point of the (margin-grown) mark box.
    const dx = Math.max(0, cx - clear);
    const dy = Math.max(0, cy - clear);
    if (Math.hypot(dx, dy) > radius + 1) return [cx, cy];
  }
}

/**
 * Render item `index` of the shapes sequence for `seed` (the same item `shapesDataset` returns at
 * that position). A shape of random position, size, rotation and saturated colour over a textured
 * background (gradient, stripes or value noise, plus grain). With `shortcut`, the mark and the faint
 * drawing are decided from a separate random stream, so the clean and shortcut versions of an item
 * show the same shape on the same background.
 */
export function shapeSample(index: number, seed: number, shortcut?: boolean | ShortcutOptions): ShapeSample {
  checkInteger('index', index, 0);
  if (!Number.isInteger(seed)) throw new InputError('invalid-input', `seed must be an integer, got ${seed}`);
  return renderSample(index, seed, resolveShortcut(shortcut));
}

function renderSample(
  index: number,
  seed: number,
  shortcut: Required<ShortcutOptions> | undefined,
): ShapeSample {
  const label = shapeLabel(index, seed);
  const rng = createRng(seed, STREAMS * index);
  const size = SHAPES_SIZE;
  const image = new Float32Array(size * size * 3);
  const background = paintBackground(image, size, rng);
  const radius = RADIUS_RANGE[0] + (RADIUS_RANGE[1] - RADIUS_RANGE[0]) * rng.uniform();
  const [cx, cy] = placeShape(rng, radius);
  const geometry: ShapeGeometry = {
    kind: SHAPE_KINDS[label],
    cx,
    cy,
    radius,
    angle: rng.uniform() * 2 * Math.PI,
  };
  const colour = contrastingColour(rng, background);
  const cover = coverage(geometry, size);

  let opacity = 1;
  let marked = false;
  if (shortcut) {
    const srng = createRng(seed, STREAMS * index + 1);
    const isClass = label === shortcut.classIndex;
    marked = srng.uniform() < (isClass ? shortcut.markWithClass : shortcut.markWithOthers);
    const faint = srng.uniform();
    const level = srng.uniform();
    if (isClass && faint < shortcut.faintProbability) {
      const [lo, hi] = shortcut.faintOpacity;
      opacity = lo + (hi - lo) * level;
    }
  }
  composite(image, cover, colour, opacity);
  clamp01(image);
  if (marked) paintMark(image, size);

  const mask = new Float32Array(size * size);
  let x0 = size;
  let y0 = size;
  let x1 = 0;
  let y1 = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (cover[y * size + x] < 0.5) continue;
      mask[y * size + x] = 1;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + 1);
      y1 = Math.max(y1, y + 1);
    }
  }
  return { image, label, mask, box: [x0, y0, x1, y1], marked, opacity, geometry };
}

/**
 * A procedural data set of coloured shapes on textured backgrounds, with ground-truth masks and
 * boxes, deterministic from `seed`. Classes are balanced (see `shapeLabel`). With `shortcut`, a small
 * checker mark in the top-left corner co-occurs with one class (see `ShortcutOptions`).
 */
export function shapesDataset(options: ShapesDatasetOptions): ShapesDataset {
  const { count, seed, start = 0 } = options;
  checkInteger('count', count, 1);
  checkInteger('start', start, 0);
  if (!Number.isInteger(seed)) throw new InputError('invalid-input', `seed must be an integer, got ${seed}`);
  const shortcut = resolveShortcut(options.shortcut);
  const px = SHAPES_SIZE * SHAPES_SIZE;
  const images = new Float32Array(count * px * 3);
  const masks = new Float32Array(count * px);
  const markMasks = new Float32Array(count * px);
  const labels = new Int32Array(count);
  const marked = new Uint8Array(count);
  const boxes: Box[] = [];
  const markMap = markMaskMap();
  for (let i = 0; i < count; i++) {
    const s = renderSample(start + i, seed, shortcut);
    images.set(s.image, i * px * 3);
    masks.set(s.mask, i * px);
    labels[i] = s.label;
    boxes.push(s.box);
    if (s.marked) {
      marked[i] = 1;
      markMasks.set(markMap, i * px);
    }
  }
  return {
    images: { data: images, shape: [count, SHAPES_SIZE, SHAPES_SIZE, 3] },
    labels,
    masks: { data: masks, shape: [count, SHAPES_SIZE, SHAPES_SIZE] },
    boxes,
    classNames: SHAPE_CLASSES,
    marked,
    markMasks: { data: markMasks, shape: [count, SHAPES_SIZE, SHAPES_SIZE] },
    markBox: MARK_BOX,
  };
}

/** Options of `shortcutDataset`: those of `shapesDataset` with the shortcut settings inline. */
export interface ShortcutDatasetOptions extends ShortcutOptions {
  readonly count: number;
  readonly seed: number;
  readonly start?: number;
}

/**
 * The shortcut variant of the shapes data set, with `SHORTCUT_DEFAULTS` unless overridden: the
 * distribution the `shapes-shortcut` model was trained on. Item `i` shows the same shape and
 * background as item `i` of `shapesDataset` with the same seed.
 */
export function shortcutDataset(options: ShortcutDatasetOptions): ShapesDataset {
  const { count, seed, start, ...shortcut } = options;
  return shapesDataset({ count, seed, start, shortcut });
}

/**
 * `labels` under a seeded Fisher–Yates permutation of the items: the training labels of the zoo's
 * `shapes-permuted` model (Adebayo et al.'s data-randomisation test), from its meta's
 * `data.permutationSeed`.
 */
export function permutedLabels(labels: ArrayLike<number>, seed: number): number[] {
  const rng = createRng(seed, 0);
  const out = Array.from(labels);
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
