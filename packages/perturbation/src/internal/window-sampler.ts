import {
  type FileSource,
  InputError,
  OptionError,
  parseNpy,
  type Rng,
  readFileBytes,
  type Tensor,
} from '@xlens/core';
import type { Geometry } from './image.js';
import { conditionalSampler, elementIndex, fitPatchGaussian } from './patch-sampler.js';
import type { Rect } from './windows.js';

/**
 * The reference images of prediction difference analysis: `null`, a tensor `M×inputShape` in the
 * input's layout, or (given `files`) a `.npy` path holding one. Throws naming the bad value.
 */
export function referenceData(spec: unknown, g: Geometry, method: string, files?: FileSource): Tensor | null {
  if (spec === null || spec === undefined) return null;
  const item = g.layout === 'NCHW' ? [g.c, g.h, g.w] : [g.h, g.w, g.c];
  const t = (
    typeof spec === 'string' ? parseNpy(readFileBytes(files, spec, 'data file'), spec) : spec
  ) as Tensor;
  if (!(t.data instanceof Float32Array) || !Array.isArray(t.shape))
    throw new OptionError(
      'invalid-option',
      `${method}: option data must be a tensor M×[${item.join(', ')}], a .npy path or null`,
    );
  if (
    t.shape.length !== 4 ||
    t.shape.slice(1).some((d, i) => d !== item[i]) ||
    t.data.length !== t.shape[0] * g.per
  )
    throw new InputError(
      'invalid-shape',
      `${method}: data has shape [${t.shape.join(', ')}]; expected [M, ${item.join(', ')}] (the input's layout)`,
    );
  return t;
}

/** Writes one draw of a window's values into `row` (a copy of the item `x`), from `rng`. */
export type WindowSampler = (win: Rect, x: Float32Array, row: Float32Array, rng: Rng) => void;

/**
 * How a window is removed. `marginal`: the values of a random data image at the same place, or
 * without data each pixel (all channels) from a random pixel of the item itself; `conditional`: a
 * draw from the patch Gaussian fitted to the data (with `fitRng`), conditioned on the
 * `padding`-pixel frame. Every draw comes from the row's `rng`, whatever the item.
 */
export function windowSampler(
  kind: 'marginal' | 'conditional',
  data: Tensor | null,
  g: Geometry,
  window: [number, number],
  padding: number,
  fitRng: Rng,
): WindowSampler {
  if (kind === 'conditional') {
    const gauss = fitPatchGaussian(data!, g, window[0] + 2 * padding, window[1] + 2 * padding, fitRng);
    const conditional = conditionalSampler(gauss, g, padding);
    return (win, x, row, rng) => {
      const z = rng.fillNormal(new Float64Array(g.c * (win.bottom - win.top) * (win.right - win.left)));
      conditional(win, x, row, z);
    };
  }
  return (win, x, row, rng) => {
    const j = data ? rng.int(data.shape[0]) : -1;
    for (let y = win.top; y < win.bottom; y++)
      for (let xx = win.left; xx < win.right; xx++) {
        const from = data ? 0 : rng.int(g.h * g.w);
        for (let ch = 0; ch < g.c; ch++) {
          const e = elementIndex(g, y, xx, ch);
          row[e] = data
            ? data.data[j * g.per + e]
            : x[elementIndex(g, Math.floor(from / g.w), from % g.w, ch)];
        }
      }
  };
}
