// Toy networks with known answers for the synthesis tests.
import type { Tensor } from '@xlens/core';
import type { ToySpec } from '@xlens/core/testing';

/** A ±1 ring on an h×w grid: a template whose sign is itself, so squashed maximisers keep it. */
export function ringTemplate(h: number, w: number, channels = 1): number[] {
  const out: number[] = [];
  for (
    let k = 0;
    k < channels;
    k++ // the same in every channel: a grey ring
  )
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const r = Math.hypot(y - (h - 1) / 2, x - (w - 1) / 2);
        out.push(r > h / 5 && r < h / 2.6 ? 1 : -1);
      }
  return out;
}

/**
 * `input [c, h, w]` → `unit`: one valid conv whose kernel covers the whole image (so its single
 * output is ⟨template, x⟩) → flatten → `fc` dense 1→2.
 */
export function templateNet(template: readonly number[], c: number, h: number, w: number): ToySpec {
  return {
    name: 'template-net',
    inputShape: [c, h, w],
    numClasses: 2,
    layers: [
      {
        type: 'conv',
        name: 'unit',
        inChannels: c,
        outChannels: 1,
        kernel: h,
        padding: 'valid',
        weight: [...template],
        bias: [0.1],
      },
      { type: 'flatten', name: 'flatten' },
      { type: 'dense', name: 'fc', inFeatures: 1, outFeatures: 2, weight: [1, -1], bias: [0, 0] },
    ],
  };
}

/** Pearson correlation of two equally long arrays. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Item `i` of a batch, copied, as a batch of one. */
export function itemOf(t: Tensor, i: number): Tensor {
  const per = t.data.length / t.shape[0];
  return { data: t.data.slice(i * per, (i + 1) * per), shape: [1, ...t.shape.slice(1)] };
}

/** A constant batch of `n` items of `shape`. */
export function constant(n: number, shape: readonly number[], value: number): Tensor {
  return { data: new Float32Array(n * shape.reduce((a, b) => a * b, 1)).fill(value), shape: [n, ...shape] };
}

/**
 * One-channel 16×16 scenes, each holding one axis-aligned shape at a seeded position: a 5×5 plus
 * (`cross`, label 0) or a 5×5 filled square (`square`, label 1), with its mask.
 */
export function plusSquareScenes(n: number): { images: Tensor; masks: Tensor; labels: number[] } {
  const images = new Float32Array(n * 256);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const cy = 2 + ((i * 7) % 12);
    const cx = 2 + ((i * 5 + 3) % 12);
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++)
        if (label === 1 || dy === 0 || dx === 0) images[i * 256 + (cy + dy) * 16 + cx + dx] = 1;
    labels.push(label);
  }
  return {
    images: { data: images, shape: [n, 1, 16, 16] },
    masks: { data: images.slice(), shape: [n, 16, 16] },
    labels,
  };
}

/**
 * `detectors`: a 5×5 'same' conv with three hand-built ReLU units — 0 fires only at the centre of
 * a complete plus, 1 where a full 3×3 block of shape lies (inside squares only), 2 on empty pixels
 * (background) — then GAP and a 3→2 dense layer.
 */
export function detectorNet(): ToySpec {
  const plus = Array.from({ length: 25 }, (_, p) => (Math.floor(p / 5) === 2 || p % 5 === 2 ? 1 : -1));
  const block = Array.from({ length: 25 }, (_, p) => {
    const y = Math.floor(p / 5);
    const x = p % 5;
    return y >= 1 && y <= 3 && x >= 1 && x <= 3 ? 1 : 0;
  });
  const empty = Array.from({ length: 25 }, (_, p) => (p === 12 ? -2 : 0));
  return {
    name: 'detectors',
    inputShape: [1, 16, 16],
    numClasses: 2,
    layers: [
      {
        type: 'conv',
        name: 'units',
        inChannels: 1,
        outChannels: 3,
        kernel: 5,
        padding: 'same',
        weight: [...plus, ...block, ...empty],
        bias: [-8.5, -8.5, 1],
        activation: 'relu',
      },
      { type: 'global-avg-pool', name: 'gap' },
      { type: 'dense', name: 'fc', inFeatures: 3, outFeatures: 2, weight: [1, -1, 0, -1, 1, 0] },
    ],
  };
}
