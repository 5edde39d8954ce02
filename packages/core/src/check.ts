import { chunkRanges } from './batching.js';
import { InputError, OptionError, XlensError } from './errors.js';
import { checkCapabilities, checkRunOptions, defaultBatchSize, explain, validateInput } from './explain.js';
import type {
  AnyExplainer,
  Attribution,
  OptionSpecs,
  RunOptions,
  ScoreKind,
  TargetSpec,
} from './explainer.js';
import type { Capability, Model } from './model.js';
import { createSampleRng, type Rng } from './ops/random.js';
import { type ChannelReduction, reduceChannels } from './ops/reduce.js';
import { mergeOptions, runOptionKeys } from './options.js';
import { argmaxRows } from './targets.js';
import type { Tensor } from './tensor.js';

/**
 * What a sanity check reads besides its options (ADR 0009). `run` checks each one before any
 * compute.
 * - `model`: the model under test, an input batch and a target (default `top1`);
 * - `explainer`: the explainer under test, run by the check on the models it builds;
 * - `second-model`: a second model the caller supplies (data randomisation: the same
 *   architecture trained on permuted labels).
 */
export type CheckNeed = 'model' | 'explainer' | 'second-model';

/**
 * The fixed pass/fail rule of a check: the explainer passes when the statistic named
 * `statistic` is `below` (strictly less than) or `above` (strictly greater than) `value`. Fixed in
 * the check's code and docs; a run cannot change it, so every report states the rule it was judged by.
 */
export interface CheckThreshold {
  /** Key of `CheckReport.statistics` the rule reads (`spearman-abs`, `relative-difference`, …). */
  readonly statistic: string;
  readonly pass: 'below' | 'above';
  readonly value: number;
  /** Why this value, one sentence (for reports). */
  readonly rationale: string;
}

/** `undecided` when the statistic is not finite or the check could not build a valid test case. */
export type CheckVerdict = 'pass' | 'fail' | 'undecided';

/**
 * One curve of a check: a value per step (model-randomisation: per randomised layer, `x` the
 * layer names from `original` down to the input side). `y` is the mean over items, `items[i]` the
 * values of item i (same length as `x`).
 */
export interface CheckCurve {
  /** Kebab-case id, unique within the report (`cascading/spearman-abs`). */
  readonly id: string;
  readonly title: string;
  readonly x: readonly string[];
  readonly y: readonly number[];
  readonly items: readonly (readonly number[])[];
}

/** What a check's `compute` returns. */
export interface CheckComputeResult {
  /**
   * Named statistics over the items (means unless the name says otherwise); must contain the
   * threshold's `statistic`.
   */
  readonly statistics: Readonly<Record<string, number>>;
  /** Per-item values by name (one entry per item). */
  readonly perItem?: Readonly<Record<string, ArrayLike<number>>>;
  readonly curves?: readonly CheckCurve[];
  /** Set when no verdict can be given (the test case is invalid); the verdict is then `undecided`. */
  readonly undecided?: string;
  readonly warnings?: readonly string[];
}

/** The result of running a check on an explainer. */
export interface CheckReport {
  readonly check: string;
  readonly title: string;
  readonly citation: string;
  /** The explainer judged (null for a check without one). */
  readonly explainer: string | null;
  readonly verdict: CheckVerdict;
  /** The value of the threshold's statistic. */
  readonly score: number;
  readonly threshold: CheckThreshold;
  /** One sentence: `spearman-abs = 0.12 < 0.5: pass`, or why undecided. */
  readonly summary: string;
  readonly statistics: Readonly<Record<string, number>>;
  readonly perItem: Readonly<Record<string, readonly number[]>>;
  readonly curves: readonly CheckCurve[];
  readonly curveAxes?: { readonly x: string; readonly y: string };
  /** Classes explained per item on the request's model (null for a cotangent target or no model). */
  readonly targets: readonly number[] | null;
  /** Check options used (defaults merged) plus run options. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly explainerOptions: Readonly<Record<string, unknown>>;
  readonly timing: { readonly milliseconds: number };
  readonly warnings: readonly string[];
}

/** The data a check reads, as a caller hands it to `runCheck`. Which members: `CheckSpec.needs`. */
export interface CheckRequest {
  readonly model?: Model;
  /** Input batch `N×inputShape` in the model's layout. */
  readonly input?: Tensor;
  /** Target per item (default `top1`, resolved once on `model` and kept for derived models). */
  readonly target?: TargetSpec;
  readonly explainer?: AnyExplainer;
  readonly explainerOptions?: Readonly<Record<string, unknown>>;
  /** Need `second-model`: e.g. the model trained on permuted labels. */
  readonly secondModel?: Model;
  /** How input-shaped maps become pixel maps `N×H×W` before comparison. Default `sum`. */
  readonly reduction?: ChannelReduction;
}

/** Options a caller passes to `runCheck`: any subset of the check's options plus run options. */
export type CheckOptions<O> = Partial<O> & RunOptions;

/** What one `ctx.explain` call returns. */
export interface CheckMaps {
  /** Pixel maps `N×H×W` (input-shaped maps reduced with the request's `reduction`). */
  readonly maps: Tensor;
  readonly attribution: Attribution;
}

/** Everything a check sees. A member whose need is not declared throws when read. */
export interface CheckContext<O> {
  readonly check: string;
  readonly options: Readonly<O>;
  readonly seed: number;
  readonly batchSize: number;
  readonly score: ScoreKind;
  /** Need `model`. */
  readonly model: Model;
  /** Need `model`. */
  readonly input: Tensor;
  /** Need `model`: the request's target resolved on `model` (class indices per item, or the cotangent). */
  readonly target: TargetSpec;
  /** Need `second-model`. */
  readonly secondModel: Model;
  /** Need `explainer`. */
  readonly explainer: AnyExplainer;
  /** The explainer's options after merging with its defaults. Need `explainer`. */
  readonly explainerOptions: Readonly<Record<string, unknown>>;
  /**
   * Run the request's explainer on any model (the request's, a derived one, a pair the check
   * built) through core's `explain` — validation, batching, seed, abort. `options` override the
   * explainer's options, `target` the resolved target, `seed` the run seed. Need `explainer`.
   */
  explain(
    model: Model,
    input: Tensor,
    overrides?: {
      readonly options?: Readonly<Record<string, unknown>>;
      readonly target?: TargetSpec;
      readonly seed?: number;
    },
  ): Promise<CheckMaps>;
  /** Draws that depend on (seed, stream, sample) only (ADR 0003). */
  sampleRng(stream: number, sample: number): Rng;
  /** Report progress of `done` out of `total` units. */
  progress(done: number, total: number): void;
  /** Throw an `aborted` error if the signal fired. */
  checkAborted(): void;
}

/** A sanity-check descriptor: data about the check plus its `compute` (ADR 0009). */
export interface CheckSpec<O extends object> {
  /** Kebab-case id (`model-randomisation`). */
  readonly id: string;
  readonly title: string;
  /** Authors, year, venue and arXiv/DOI of the primary paper. */
  readonly citation: string;
  /** What is tested and what passing means, one or two sentences. */
  readonly description: string;
  readonly needs: readonly CheckNeed[];
  /** Capabilities of the request's model beyond those of the explainer (`derive`). */
  readonly requires: readonly Capability[];
  readonly threshold: CheckThreshold;
  /** Axis labels of the curves, for checks that return them. */
  readonly curve?: { readonly x: string; readonly y: string };
  /** Whether the check draws random numbers (then it honours `seed`). */
  readonly stochastic?: boolean;
  readonly defaults: Readonly<O>;
  readonly options: OptionSpecs<O>;
  /** Extra validation of merged options against the request, before compute. Throw an `XlensError`. */
  validate?(options: Readonly<O>, request: CheckRequest): void;
  compute(ctx: CheckContext<O>): Promise<CheckComputeResult>;
}

/** A callable check. */
export interface Check<O extends object = Record<string, unknown>> extends CheckSpec<O> {
  /** Validate everything, then compute and judge. Same as core's `runCheck(this, …)`. */
  run(request: CheckRequest, options?: CheckOptions<O>): Promise<CheckReport>;
}

/** A check whatever its option type (what lists hold). */
// biome-ignore lint/suspicious/noExplicitAny: options are checked per check by mergeOptions at run time.
export type AnyCheck = Check<any>;

/** The verdict of a threshold on a score: NaN and ±Infinity give `undecided`. */
export function judge(threshold: CheckThreshold, score: number): CheckVerdict {
  if (!Number.isFinite(score)) return 'undecided';
  const ok = threshold.pass === 'below' ? score < threshold.value : score > threshold.value;
  return ok ? 'pass' : 'fail';
}

function absent(check: string, what: string): never {
  throw new XlensError('invalid-input', `${check} reads ${what} but does not declare it in needs`);
}

const needText: Record<CheckNeed, string> = {
  model: 'a model and an input batch',
  explainer: 'an explainer',
  'second-model': 'a second model (secondModel)',
};

function format(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v);
}

/**
 * Run a sanity check (ADR 0009): validate the request, options and capabilities before any
 * compute, resolve the target once on the request's model, run the check, and judge the
 * threshold's statistic by the check's fixed rule.
 */
export async function runCheck<O extends object>(
  spec: CheckSpec<O>,
  request: CheckRequest,
  options?: CheckOptions<O>,
): Promise<CheckReport> {
  const started = performance.now();
  const run: RunOptions = options ?? {};
  checkRunOptions(run);
  const needs = new Set(spec.needs);
  const missing = [...needs].filter(
    (need) =>
      (need === 'model' && (!request.model || !request.input)) ||
      (need === 'explainer' && !request.explainer) ||
      (need === 'second-model' && !request.secondModel),
  );
  if (missing.length > 0)
    throw new InputError(
      'invalid-input',
      `${spec.id} needs ${missing.map((m) => needText[m]).join(' and ')}`,
    );
  const runKeys = runOptionKeys;
  const own: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options ?? {})) if (!runKeys.has(k)) own[k] = v;
  const merged = mergeOptions(spec.id, spec.defaults, spec.options, own);
  const model = needs.has('model') ? request.model : undefined;
  const input = needs.has('model') ? request.input : undefined;
  if (model && input) {
    validateInput(model, input);
    checkCapabilities(spec.id, spec.requires, model);
  }
  if (needs.has('second-model') && model && request.secondModel) {
    const a = model.info;
    const b = request.secondModel.info;
    if (a.inputShape.join() !== b.inputShape.join() || a.layout !== b.layout || a.numClasses !== b.numClasses)
      throw new InputError(
        'invalid-input',
        `${spec.id}: secondModel (${b.layout} [${b.inputShape.join(', ')}] → ${b.numClasses}) does not match model (${a.layout} [${a.inputShape.join(', ')}] → ${a.numClasses})`,
      );
  }
  const explainer = needs.has('explainer') ? request.explainer : undefined;
  let explainerOptions: Record<string, unknown> = {};
  if (explainer) {
    if (typeof explainer.attribute !== 'function' || typeof explainer.id !== 'string')
      throw new InputError('invalid-input', `${spec.id}: explainer is not an xlens explainer`);
    explainerOptions = mergeOptions(
      explainer.id,
      explainer.defaults,
      explainer.options,
      request.explainerOptions,
    );
    if (model && input) {
      checkCapabilities(explainer.id, explainer.requires, model);
      explainer.validate?.(explainerOptions, model, input);
    }
  }
  spec.validate?.(merged, request);
  const seed = run.seed ?? 0;
  const batchSize = run.batchSize ?? defaultBatchSize;
  const score: ScoreKind = run.score ?? 'logit';
  let target: TargetSpec | undefined;
  let targets: number[] | null = null;
  if (model && input) {
    const spec0 = request.target ?? 'top1';
    if (spec0 === 'top1') {
      // Chunked like every other pass, so a large batch never runs through the model at once.
      const per = input.data.length / input.shape[0];
      targets = [];
      for (const [s, e] of chunkRanges(input.shape[0], batchSize)) {
        if (run.signal?.aborted) throw new XlensError('aborted', `${spec.id} was aborted`);
        const rows = { data: input.data.subarray(s * per, e * per), shape: [e - s, ...input.shape.slice(1)] };
        targets.push(...argmaxRows(await model.forward(rows)));
      }
      target = targets;
    } else {
      target = spec0;
      if (typeof spec0 === 'number') targets = Array(input.shape[0]).fill(spec0);
      else if (Array.isArray(spec0)) targets = [...(spec0 as readonly number[])];
    }
  }
  const reduction = request.reduction ?? 'sum';
  const ctx: CheckContext<O> = {
    check: spec.id,
    options: merged,
    seed,
    batchSize,
    score,
    get model() {
      return model ?? absent(spec.id, 'a model');
    },
    get input() {
      return input ?? absent(spec.id, 'an input');
    },
    get target() {
      return target ?? absent(spec.id, 'a target (need model)');
    },
    get secondModel() {
      return (
        (needs.has('second-model') ? request.secondModel : undefined) ?? absent(spec.id, 'a second model')
      );
    },
    get explainer() {
      return explainer ?? absent(spec.id, 'an explainer');
    },
    get explainerOptions() {
      return explainer ? explainerOptions : absent(spec.id, 'an explainer');
    },
    async explain(m, x, overrides = {}) {
      if (!explainer) return absent(spec.id, 'an explainer');
      const attribution = await explain(explainer, m, x, overrides.target ?? target ?? 'top1', {
        ...explainerOptions,
        ...overrides.options,
        batchSize,
        seed: overrides.seed ?? seed,
        score,
        ...(run.signal ? { signal: run.signal } : {}),
        ...(run.files ? { files: run.files } : {}),
        ...(run.registry ? { registry: run.registry } : {}),
      });
      const maps =
        attribution.mapKind === 'input'
          ? reduceChannels(attribution.map, m.info.layout, reduction)
          : attribution.map;
      return { maps, attribution };
    },
    sampleRng: (stream, sample) => createSampleRng(seed, stream, sample),
    progress: (done, total) => run.onProgress?.({ method: spec.id, done, total }),
    checkAborted: () => {
      if (run.signal?.aborted) throw new XlensError('aborted', `${spec.id} was aborted`);
    },
  };
  const result = await spec.compute(ctx);
  const t = spec.threshold;
  if (!(t.statistic in result.statistics))
    throw new XlensError(
      'invalid-input',
      `${spec.id} returned no statistic ${JSON.stringify(t.statistic)} for its threshold`,
    );
  const value = result.statistics[t.statistic];
  const verdict = result.undecided ? 'undecided' : judge(t, value);
  const rule = `${t.statistic} = ${format(value)} ${verdict === 'pass' ? (t.pass === 'below' ? '<' : '>') : t.pass === 'below' ? '≥' : '≤'} ${t.value}`;
  const summary = result.undecided
    ? `undecided: ${result.undecided}`
    : verdict === 'undecided'
      ? `undecided: ${t.statistic} = ${format(value)} is not finite`
      : `${rule}: ${verdict}`;
  const runUsed: Record<string, unknown> = {};
  for (const key of runOptionKeys) {
    const v = (run as Record<string, unknown>)[key];
    if (typeof v === 'number' || typeof v === 'string') runUsed[key] = v;
  }
  return {
    check: spec.id,
    title: spec.title,
    citation: spec.citation,
    explainer: explainer?.id ?? null,
    verdict,
    score: value,
    threshold: t,
    summary,
    statistics: { ...result.statistics },
    perItem: Object.fromEntries(Object.entries(result.perItem ?? {}).map(([k, v]) => [k, Array.from(v)])),
    curves: result.curves ?? [],
    ...(spec.curve ? { curveAxes: spec.curve } : {}),
    targets,
    options: { ...(merged as Record<string, unknown>), seed, batchSize, score, ...runUsed },
    explainerOptions,
    timing: { milliseconds: performance.now() - started },
    warnings: [...(result.warnings ?? [])],
  };
}

/** Turn a spec into a callable `Check` (adds `run`). Registers nothing; checks the threshold's form. */
export function defineCheck<O extends object>(spec: CheckSpec<O>): Check<O> {
  const t = spec.threshold;
  if (
    !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(spec.id) ||
    !Number.isFinite(t?.value) ||
    !(t.pass === 'below' || t.pass === 'above')
  )
    throw new OptionError(
      'invalid-option',
      `check ${JSON.stringify(spec.id)} needs a kebab-case id and a finite threshold with pass 'below' or 'above'`,
    );
  return {
    ...spec,
    run(request, options) {
      return runCheck(spec, request, options);
    },
  };
}
