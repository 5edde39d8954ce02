import { InputError } from './errors.js';
import { validateInput } from './explain.js';
import { boxesToMasks, boxFromMask } from './ground-truth.js';
import type { Box, EvaluateRequest, MetricNeed, MetricSpec } from './metric.js';
import type { Layout } from './model.js';
import { imageDims, reduceChannels } from './ops/reduce.js';
import { firstNonFinite, sameShape, sizeOf, type Tensor } from './tensor.js';

/** A shape as `[a, b, c]` for messages. */
export const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

function isTensor(t: unknown): t is Tensor {
  return (
    typeof t === 'object' &&
    t !== null &&
    (t as Tensor).data instanceof Float32Array &&
    Array.isArray((t as Tensor).shape) &&
    (t as Tensor).data.length === sizeOf((t as Tensor).shape)
  );
}

function checkTensor(metric: string, what: string, t: unknown): Tensor {
  if (!isTensor(t))
    throw new InputError(
      'invalid-input',
      `${metric}: ${what} must be a tensor { data: Float32Array, shape }`,
    );
  const bad = firstNonFinite(t.data);
  if (bad >= 0)
    throw new InputError(
      'non-finite-input',
      `${metric}: ${what} contains ${t.data[bad]} at flat index ${bad}`,
    );
  return t;
}

/** The data a validated request resolves to: sizes, layout, pixel maps and ground truth. */
export interface Resolved {
  n: number;
  height: number;
  width: number;
  layout: Layout | null;
  maps?: Tensor;
  inputMaps?: Tensor;
  reference?: Tensor;
  masks?: Tensor;
  boxes?: Box[];
}

/** A pixel map `N×H×W` from a map given as pixels or in the input's shape. */
function pixelMap(
  metric: string,
  what: string,
  t: Tensor,
  dims: { n: number; height: number; width: number } | null,
  layout: Layout | null,
  request: EvaluateRequest,
): Tensor {
  const expect = dims
    ? `[${dims.n}, ${dims.height}, ${dims.width}]${request.input ? ` or the input's shape ${shapeText(request.input.shape)}` : ''}`
    : 'N×H×W (or rank 4 with a model or a layout)';
  if (t.shape.length === 3) {
    if (dims && (t.shape[0] !== dims.n || t.shape[1] !== dims.height || t.shape[2] !== dims.width))
      throw new InputError(
        'invalid-shape',
        `${metric}: ${what} has shape ${shapeText(t.shape)}; expected ${expect}`,
      );
    return t;
  }
  if (t.shape.length === 4 && layout) {
    if (request.input && !sameShape(t.shape, request.input.shape))
      throw new InputError(
        'invalid-shape',
        `${metric}: ${what} has shape ${shapeText(t.shape)}; expected ${expect}`,
      );
    return reduceChannels(t, layout, request.reduction ?? 'sum');
  }
  throw new InputError(
    'invalid-shape',
    `${metric}: ${what} has shape ${shapeText(t.shape)}; expected ${expect}`,
  );
}

/** Each pixel's value spread evenly over the channels of its pixel, in the input's layout. */
function spreadOverChannels(maps: Tensor, inputShape: readonly number[], layout: Layout): Tensor {
  const { n, c, h, w } = imageDims(inputShape, layout);
  const out = new Float32Array(n * c * h * w);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < h * w; p++) {
      const v = maps.data[i * h * w + p] / c;
      for (let k = 0; k < c; k++)
        out[layout === 'NCHW' ? (i * c + k) * h * w + p : (i * h * w + p) * c + k] = v;
    }
  return { data: out, shape: [...inputShape] };
}

function checkMasks(metric: string, masks: Tensor, n: number, height: number, width: number): Tensor {
  const ok =
    (masks.shape.length === 2 && masks.shape[0] === height && masks.shape[1] === width) ||
    (masks.shape.length === 3 &&
      (masks.shape[0] === n || masks.shape[0] === 1) &&
      masks.shape[1] === height &&
      masks.shape[2] === width);
  if (!ok)
    throw new InputError(
      'invalid-shape',
      `${metric}: masks have shape ${shapeText(masks.shape)}; expected [${n}, ${height}, ${width}] or [${height}, ${width}]`,
    );
  const bad = masks.data.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0)
    throw new InputError(
      'invalid-input',
      `${metric}: masks hold ${masks.data[bad]} at flat index ${bad}; a mask holds only 0 and 1`,
    );
  if (masks.shape.length === 3 && masks.shape[0] === n) return masks;
  const out = new Float32Array(n * height * width);
  for (let i = 0; i < n; i++) out.set(masks.data, i * height * width);
  return { data: out, shape: [n, height, width] };
}

function checkBoxes(metric: string, boxes: readonly Box[], n: number, height: number, width: number): Box[] {
  if (!Array.isArray(boxes) || (boxes.length !== n && boxes.length !== 1))
    throw new InputError(
      'invalid-input',
      `${metric}: got ${boxes?.length} boxes for ${n} items; give one per item (or one for all)`,
    );
  for (const b of boxes) {
    const fits =
      Array.isArray(b) &&
      b.length === 4 &&
      b.every((v) => Number.isInteger(v)) &&
      b[0] >= 0 &&
      b[1] >= 0 &&
      b[0] < b[2] &&
      b[1] < b[3] &&
      b[2] <= width &&
      b[3] <= height;
    if (!fits)
      throw new InputError(
        'invalid-input',
        `${metric}: box ${JSON.stringify(b)} is invalid; expected integers [x0, y0, x1, y1] with 0 ≤ x0 < x1 ≤ ${width}, 0 ≤ y0 < y1 ≤ ${height} (half-open)`,
      );
  }
  return boxes.length === n ? [...boxes] : Array.from({ length: n }, () => boxes[0]);
}

const needText: Record<MetricNeed, string> = {
  maps: 'maps (attributions)',
  model: 'a model, an input batch and a target',
  explainer: 'an explainer (and a model and input)',
  'ground-truth': 'masks or boxes',
  reference: 'a reference map per item',
};

/**
 * Check an `EvaluateRequest` against the metric's needs before any compute — input against the
 * model, maps against the input, masks and boxes against the image — and resolve pixel maps and
 * ground truth (boxes rasterised, masks' tightest boxes).
 */
export function resolveRequest(spec: MetricSpec<object>, request: EvaluateRequest): Resolved {
  const id = spec.id;
  const needs = new Set<MetricNeed>(spec.needs);
  if (needs.has('explainer')) needs.add('model');
  const missing = [...needs].filter(
    (need) =>
      (need === 'maps' && !request.maps) ||
      (need === 'model' && (!request.model || !request.input)) ||
      (need === 'explainer' && !request.explainer) ||
      (need === 'ground-truth' && !request.masks && !request.boxes) ||
      (need === 'reference' && !request.reference),
  );
  if (missing.length > 0)
    throw new InputError('invalid-input', `${id} needs ${missing.map((m) => needText[m]).join(' and ')}`);
  let layout: Layout | null = request.layout ?? null;
  let dims: { n: number; height: number; width: number } | null = null;
  // A model and input fix the layout and sizes even for metrics that only read maps.
  if (request.model) layout = request.model.info.layout;
  if (request.model && request.input) {
    validateInput(request.model, request.input);
    const d = imageDims(request.input.shape, request.model.info.layout);
    dims = { n: d.n, height: d.h, width: d.w };
  }
  const out: Partial<Resolved> = {};
  if (needs.has('maps')) {
    const maps = checkTensor(id, 'maps', request.maps);
    out.maps = pixelMap(id, 'maps', maps, dims, layout, request);
    dims = { n: out.maps.shape[0], height: out.maps.shape[1], width: out.maps.shape[2] };
    if (needs.has('model') && layout)
      out.inputMaps =
        maps.shape.length === 4
          ? maps
          : spreadOverChannels(out.maps, (request.input as Tensor).shape, layout);
  }
  if (needs.has('reference')) {
    const ref = pixelMap(
      id,
      'reference',
      checkTensor(id, 'reference', request.reference),
      dims,
      layout,
      request,
    );
    out.reference = ref;
    dims ??= { n: ref.shape[0], height: ref.shape[1], width: ref.shape[2] };
  }
  if (!dims) {
    // Ground truth alone fixes the sizes only when masks are given.
    const m = request.masks ? checkTensor(id, 'masks', request.masks) : null;
    if (m?.shape.length !== 3)
      throw new InputError(
        'invalid-input',
        `${id}: cannot tell the number of items and the image size from the request`,
      );
    dims = { n: m.shape[0], height: m.shape[1], width: m.shape[2] };
  }
  if (needs.has('ground-truth')) {
    const { n, height, width } = dims;
    if (request.masks) {
      out.masks = checkMasks(id, checkTensor(id, 'masks', request.masks), n, height, width);
      out.boxes = Array.from({ length: n }, (_, i) => boxFromMask(out.masks as Tensor, i) ?? [0, 0, 0, 0]);
    }
    if (request.boxes) {
      out.boxes = checkBoxes(id, request.boxes, n, height, width);
      out.masks ??= boxesToMasks(out.boxes, height, width);
    }
  }
  return { ...out, n: dims.n, height: dims.height, width: dims.width, layout };
}
