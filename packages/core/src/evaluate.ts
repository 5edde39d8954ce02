import { InputError, XlensError } from './errors.js';
import { resolveRequest, shapeText } from './evaluate-request.js';
import { checkCapabilities, checkRunOptions, defaultBatchSize, makeContext } from './explain.js';
import type { AnyExplainer, ExplainContext, ResolvedTarget, RunOptions, ScoreKind } from './explainer.js';
import type {
  EvaluateOptions,
  EvaluateRequest,
  Evaluation,
  Metric,
  MetricContext,
  MetricSpec,
  ScoreSummary,
} from './metric.js';
import { createSampleRng } from './ops/random.js';
import { reduceChannels } from './ops/reduce.js';
import { mergeOptions, runOptionKeys } from './options.js';
import { resolveTarget, targetNeedsForward } from './targets.js';
import { sameShape, type Tensor } from './tensor.js';

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
