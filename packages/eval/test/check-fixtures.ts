import { defineExplainer, imageDims, type Tensor } from '@xlens/core';

/**
 * A fixed edge detector posing as an explainer: the Sobel gradient magnitude of the channel sum of
 * the input. It never looks at the model, so every model check must find it model-independent.
 */
export const sobel = defineExplainer<Record<never, never>>({
  id: 'sobel',
  family: 'other',
  title: 'Sobel edges',
  citation: 'none (test explainer)',
  description: 'edge magnitude of the input, independent of the model',
  requires: [],
  mapKind: 'pixel',
  defaults: {},
  options: {},
  async attribute(ctx) {
    const { n, c, h, w } = imageDims(ctx.input.shape, ctx.model.info.layout);
    const nchw = ctx.model.info.layout === 'NCHW';
    const out = new Float32Array(n * h * w);
    const at = (i: number, y: number, x: number): number => {
      const yy = Math.min(h - 1, Math.max(0, y));
      const xx = Math.min(w - 1, Math.max(0, x));
      let s = 0;
      for (let k = 0; k < c; k++)
        s += ctx.input.data[nchw ? ((i * c + k) * h + yy) * w + xx : ((i * h + yy) * w + xx) * c + k];
      return s;
    };
    for (let i = 0; i < n; i++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const gx =
            at(i, y - 1, x + 1) +
            2 * at(i, y, x + 1) +
            at(i, y + 1, x + 1) -
            at(i, y - 1, x - 1) -
            2 * at(i, y, x - 1) -
            at(i, y + 1, x - 1);
          const gy =
            at(i, y + 1, x - 1) +
            2 * at(i, y + 1, x) +
            at(i, y + 1, x + 1) -
            at(i, y - 1, x - 1) -
            2 * at(i, y - 1, x) -
            at(i, y - 1, x + 1);
          out[(i * h + y) * w + x] = Math.hypot(gx, gy);
        }
    const map: Tensor = { data: out, shape: [n, h, w] };
    return { map };
  },
});
