import type { ExplainContext, Model, Tensor } from '@xlens/core';
import type { DgnAmOptions } from './dgn-am.js';
import { type Geometry, itemChannelsFirst } from './image-space.js';
import { initStream } from './synthesize.js';

/** The generator's output for every code, as channels-first images of the classifier's geometry (DGN-AM). */
export async function renderCodes(
  ctx: ExplainContext<DgnAmOptions>,
  generator: Model,
  codes: Float32Array[],
  g: Geometry,
) {
  const images: Float32Array[] = [];
  const per = codes[0].length;
  await ctx.streamForward(
    {
      rows: codes.length,
      model: generator,
      progress: false,
      input: (s, e) => codeRows(codes, s, e, per, generator),
    },
    (c) => {
      for (let r = 0; r < c.end - c.start; r++) images.push(itemChannelsFirst(c.output.data, r, g));
    },
  );
  return images;
}

export function codeRows(
  codes: readonly Float32Array[],
  s: number,
  e: number,
  per: number,
  generator: Model,
): Tensor {
  const data = new Float32Array((e - s) * per);
  for (let r = s; r < e; r++) data.set(codes[r], (r - s) * per);
  return { data, shape: [e - s, ...generator.info.inputShape] };
}

/** The start codes: the classifier's codes of the inputs (in the generator's layout), shared noise, or zeros. */
export async function startCodes(
  ctx: ExplainContext<DgnAmOptions>,
  generator: Model,
): Promise<Float32Array[]> {
  const n = ctx.input.shape[0];
  const per = generator.info.inputShape.reduce((a, b) => a * b, 1);
  const o = ctx.options;
  if (o.init !== 'input') {
    const shared = new Float32Array(per);
    if (o.init === 'noise') ctx.sampleRng(initStream, 0).fillNormal(shared, 0, o.initNoise);
    for (let p = 0; p < per; p++) shared[p] = Math.abs(shared[p]);
    return Array.from({ length: n }, () => shared.slice());
  }
  const { activations } = await ctx.capture(ctx.input, [o.codeLayer]);
  const a = activations[o.codeLayer];
  const codes: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const cf = a.data.subarray(i * per, (i + 1) * per);
    // The contract captures channels-first; a channels-last generator reads [h, w, C].
    if (generator.info.layout === 'NHWC' && a.shape.length === 4) {
      const [, c, h, w] = a.shape;
      const out = new Float32Array(per);
      for (let k = 0; k < c; k++) for (let p = 0; p < h * w; p++) out[p * c + k] = cf[k * h * w + p];
      codes.push(out);
    } else codes.push(cf.slice());
  }
  return codes;
}
