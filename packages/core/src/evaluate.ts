import { InputError, XlensError } from './errors.js';
import {
  checkCapabilities,
  checkRunOptions,
  defaultBatchSize,
  makeContext,
  validateInput,
} from './explain.js';
import type { AnyExplainer, ExplainContext, ResolvedTarget, RunOptions, ScoreKind } from './explainer.js';
import { boxesToMasks, boxFromMask } from './ground-truth.js';
import type {
  Box,
  EvaluateOptions,
  EvaluateRequest,
  Evaluation,
  Metric,
  MetricContext,
  MetricNeed,
  MetricSpec,
  ScoreSummary,
} from './metric.js';
import type { Layout, Model } from './model.js';
import { createSampleRng } from './ops/random.js';
import { imageDims, reduceChannels } from './ops/reduce.js';
import { mergeOptions, runOptionKeys } from './options.js';
import { resolveTarget, targetNeedsForward } from './targets.js';
import { firstNonFinite, sameShape, sizeOf, type Tensor } from './tensor.js';

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

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

/** The data a validated request resolves to. */
interface Resolved {
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

/** Check the request against the metric's needs and resolve maps and ground truth. */
function resolveRequest(spec: MetricSpec<object>, request: EvaluateRequest): Resolved {
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

/** Two-sided 97.5% quantiles of Student's t for 1–30 degrees of freedom. */
const t975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Mean, sample standard deviation and 95% confidence half-width (Student t) of the finite scores. */
export function summarizeScores(scores: ArrayLike<number>): ScoreSummary {
  const finite = Array.from(scores).filter(Number.isFinite);
  const count = finite.length;
  if (count === 0) return { count, mean: Number.NaN, std: Number.NaN, ci95: Number.NaN };
  const mean = finite.reduce((a, b) => a + b, 0) / count;
  if (count === 1) return { count, mean, std: 0, ci95: 0 };
  const std = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / (count - 1));
  const df = count - 1;
  // Beyond 30 degrees of freedom the Cornish–Fisher expansion around z = 1.96 is exact to 1e-4.
  const z = 1.959964;
  const t =
    df <= 30
      ? t975[df - 1]
      : z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
  return { count, mean, std, ci95: (t * std) / Math.sqrt(count) };
}

function absent(metric: string, what: string): never {
  throw new XlensError('invalid-input', `${metric} reads ${what} but does not declare it in needs`);
}

/**
 * Evaluate attributions (or an explainer) with a metric (ADR 0004): validate the request, options,
 * capabilities and target before any compute, run the metric on the streaming context, and return
 * per-item scores, curves, a summary and the options used.
 */
export async function evaluate<O extends object>(
  spec: MetricSpec<O>,
  request: EvaluateRequest,
  options?: EvaluateOptions<O>,
): Promise<Evaluation> {
  const started = performance.now();
  const run: RunOptions = options ?? {};
  checkRunOptions(run);
  const resolved = resolveRequest(spec as MetricSpec<object>, request);
  const merged = mergeOptions(spec.id, spec.defaults, spec.options, options as Record<string, unknown>);
  const model = request.model;
  const needsModel = spec.needs.includes('model') || spec.needs.includes('explainer');
  const explainer: AnyExplainer | undefined = spec.needs.includes('explainer')
    ? request.explainer
    : undefined;
  let explainerOptions: Record<string, unknown> = {};
  if (needsModel && model) {
    checkCapabilities(spec.id, spec.requires, model);
    if (explainer) {
      checkCapabilities(explainer.id, explainer.requires, model);
      explainerOptions = mergeOptions(
        explainer.id,
        explainer.defaults,
        explainer.options,
        request.explainerOptions,
      );
      explainer.validate?.(explainerOptions, model, request.input as Tensor);
    }
  }
  spec.validate?.(merged, request);
  const score: ScoreKind = run.score ?? spec.score ?? 'logit';
  const seed = run.seed ?? 0;
  let stream: ExplainContext<O> | undefined;
  let target: ResolvedTarget | undefined;
  if (needsModel && model) {
    const input = request.input as Tensor;
    const parts = {
      method: spec.id,
      model,
      input,
      options: merged,
      run: { ...run, score },
      reportProgress: true,
    };
    let predictions: Tensor | undefined;
    if (targetNeedsForward(request.target)) {
      const placeholder: ResolvedTarget = { classes: new Int32Array(resolved.n), cotangent: null, score };
      predictions = await makeContext({ ...parts, target: placeholder, reportProgress: false }).forward(
        input,
      );
    }
    target = resolveTarget(request.target, model.info, resolved.n, score, predictions);
    stream = makeContext<O>({ ...parts, target });
  }
  const explain = async (input: Tensor, overrides?: Readonly<Record<string, unknown>>, runSeed?: number) => {
    if (!explainer || !model || !target) return absent(spec.id, 'an explainer');
    const opts = overrides
      ? mergeOptions(explainer.id, explainer.defaults, explainer.options, {
          ...explainerOptions,
          ...overrides,
        })
      : explainerOptions;
    if (overrides) explainer.validate?.(opts, model, input);
    const explainScore = run.score ?? 'logit';
    const child = makeContext({
      method: explainer.id,
      model,
      input,
      target: { ...target, score: target.classes ? explainScore : target.score },
      options: opts,
      run: { ...run, score: explainScore, seed: runSeed ?? seed },
      reportProgress: false,
    });
    const result = await explainer.attribute(child);
    const kind = result.mapKind ?? explainer.mapKind;
    const map =
      kind === 'input'
        ? reduceChannels(result.map, model.info.layout, request.reduction ?? 'sum')
        : result.map;
    const expected = [resolved.n, resolved.height, resolved.width];
    if (!sameShape(map.shape, expected))
      throw new InputError(
        'invalid-shape',
        `${spec.id}: ${explainer.id} returned maps of shape ${shapeText(map.shape)}; expected ${shapeText(expected)}`,
      );
    return map;
  };
  const ctx: MetricContext<O> = {
    metric: spec.id,
    options: merged,
    n: resolved.n,
    height: resolved.height,
    width: resolved.width,
    seed,
    get maps() {
      return resolved.maps ?? absent(spec.id, 'maps');
    },
    get inputMaps() {
      return resolved.inputMaps ?? absent(spec.id, 'input-shaped maps (maps and model)');
    },
    get reference() {
      return resolved.reference ?? absent(spec.id, 'a reference map');
    },
    get masks() {
      return resolved.masks ?? absent(spec.id, 'masks');
    },
    get boxes() {
      return resolved.boxes ?? absent(spec.id, 'boxes');
    },
    get stream() {
      return stream ?? absent(spec.id, 'a model');
    },
    explain,
    sampleRng: (s, sample) => createSampleRng(seed, s, sample),
    progress: (done, total) => run.onProgress?.({ method: spec.id, done, total }),
    checkAborted: () => {
      if (run.signal?.aborted) throw new XlensError('aborted', `${spec.id} was aborted`);
    },
  };
  const result = await spec.compute(ctx);
  const scores = Array.from(result.scores);
  if (scores.length !== resolved.n)
    throw new XlensError(
      'invalid-input',
      `${spec.id} returned ${scores.length} scores for ${resolved.n} items`,
    );
  const runUsed: Record<string, unknown> = {};
  for (const key of runOptionKeys) {
    const v = (run as Record<string, unknown>)[key];
    if (typeof v === 'number' || typeof v === 'string') runUsed[key] = v;
  }
  return {
    metric: spec.id,
    title: spec.title,
    category: spec.category,
    direction: spec.direction,
    range: spec.range,
    scores,
    summary: summarizeScores(scores),
    ...(result.curves ? { curves: result.curves, curveAxes: spec.curve } : {}),
    extras: Object.fromEntries(Object.entries(result.extras ?? {}).map(([k, v]) => [k, Array.from(v)])),
    targets: target?.classes ? Array.from(target.classes) : null,
    score: needsModel ? score : null,
    options: {
      ...(merged as Record<string, unknown>),
      ...(needsModel ? { score, batchSize: run.batchSize ?? defaultBatchSize } : {}),
      seed,
      ...runUsed,
    },
    timing: { milliseconds: performance.now() - started },
    warnings: [...(result.warnings ?? [])],
  };
}

/** Turn a spec into a callable `Metric` (adds `evaluate`). Registers nothing. */
export function defineMetric<O extends object>(spec: MetricSpec<O>): Metric<O> {
  return {
    ...spec,
    evaluate(request, options) {
      return evaluate(spec, request, options);
    },
  };
}
