import {
  concatBatch,
  type LayerInfo,
  type Model,
  sizeOf,
  type Tensor,
  toChannelsFirst,
  UnsupportedError,
} from '@xlens/core';

/** Where a linear layer reads from: the model input or another layer's output (channels-first shape). */
export interface LayerSource {
  /** Layer name to capture, or null for the model input. */
  readonly layer: string | null;
  /** Channels-first item shape. */
  readonly shape: readonly number[];
}

/** Everything needed to cut a convolution's input into the patches its outputs see. */
export interface ConvGeometry {
  readonly inC: number;
  readonly inH: number;
  readonly inW: number;
  readonly outC: number;
  readonly outH: number;
  readonly outW: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly groups: number;
}

/** An input-layout batch as channels-first values. */
export function inputChannelsFirst(model: Model, input: Tensor): Tensor {
  return model.info.layout === 'NHWC' && input.shape.length === 4 ? toChannelsFirst(input) : input;
}

/** First and last index along one axis of the footprint, and the spacing of its taps. */
function taps(present: readonly boolean[], k: number): { top: number; dilation: number } {
  const at = present.flatMap((p, i) => (p ? [i] : []));
  if (at.length === 0) return { top: Number.NaN, dilation: 1 };
  const dilation = at.length >= 2 ? at[1] - at[0] : 1;
  // Clipped at the start by padding: the last tap is real, count back from it.
  const top = at[0] > 0 || at.length === k ? at[0] : at[at.length - 1] - (k - 1) * dilation;
  return { top, dilation };
}

/**
 * Stride, padding and dilation of a convolution, measured through the contract rather than
 * guessed from shapes (TF-style and ONNX-style "same" paddings give equal shapes but different
 * alignments): seed a one-hot cotangent at two neighbouring output positions, backpropagate it
 * through the layer with an all-ones pattern weight, and read where it lands in the layer input.
 */
export async function probeConvGeometry(
  model: Model,
  layer: LayerInfo,
  source: LayerSource,
  weightShape: readonly number[],
  sample: Tensor,
): Promise<ConvGeometry> {
  const [outC, outH, outW] = layer.outputShape;
  const [inC, inH, inW] = source.shape;
  const [, perGroup, kH, kW] = weightShape;
  const geometry = { inC, inH, inW, outC, outH, outW, kH, kW, groups: inC / perGroup };
  const py = Math.floor((outH - 1) / 2);
  const px = Math.floor((outW - 1) / 2);
  const cot = new Float32Array(2 * outC * outH * outW);
  cot[py * outW + px] = 1;
  cot[outC * outH * outW + Math.min(py + 1, outH - 1) * outW + Math.min(px + 1, outW - 1)] = 1;
  const result = await model.backward!({
    input: concatBatch([sample, sample]),
    seed: { kind: 'layer', layer: layer.name, cotangent: { data: cot, shape: [2, outC, outH, outW] } },
    wrtInput: source.layer === null,
    ...(source.layer === null ? {} : { wrtLayers: [source.layer] }),
    rules: {
      ...(layer.activation === 'relu' ? { relu: 'deconvnet' as const } : {}),
      linear: {
        [layer.name]: {
          kind: 'pattern',
          weight: { data: new Float32Array(sizeOf(weightShape)).fill(1), shape: [...weightShape] },
        },
      },
    },
  });
  const g =
    source.layer === null
      ? inputChannelsFirst(model, result.inputGradient!)
      : result.layerGradients![source.layer];
  const footprint = (item: number) => {
    const rows = Array.from({ length: inH }, () => false);
    const cols = Array.from({ length: inW }, () => false);
    const base = item * inC * inH * inW;
    for (let y = 0; y < inH; y++)
      for (let x = 0; x < inW; x++) if (g.data[base + y * inW + x] !== 0) rows[y] = cols[x] = true;
    return { rows: taps(rows, kH), cols: taps(cols, kW) };
  };
  const a = footprint(0);
  const b = footprint(1);
  if (!Number.isFinite(a.rows.top) || !Number.isFinite(a.cols.top)) {
    throw new UnsupportedError(
      'unsupported',
      `cannot measure the geometry of convolution ${layer.name}: the probe did not reach its input`,
    );
  }
  const strideH = outH > 1 ? b.rows.top - a.rows.top : 1;
  const strideW = outW > 1 ? b.cols.top - a.cols.top : 1;
  return {
    ...geometry,
    strideH,
    strideW,
    padTop: py * strideH - a.rows.top,
    padLeft: px * strideW - a.cols.top,
    dilationH: a.rows.dilation,
    dilationW: a.cols.dilation,
  };
}
