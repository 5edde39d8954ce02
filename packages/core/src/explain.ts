import { MeasuredBatchSize, measuredBatchBytes, measuredBatchMax, measuredBatchStart } from './batching.js';
import { capabilityMembers } from './capabilities.js';
import { CapabilityError, InputError, OptionError, RegistryError, XlensError } from './errors.js';
import type {
  Attribution,
  AttributionOf,
  ExplainContext,
  Explainer,
  ExplainerSpec,
  ExplainOptions,
  Extras,
  GradientRequest,
  GradientResult,
  MethodResult,
  ResolvedTarget,
  RunOptions,
  TargetSpec,
} from './explainer.js';
import type { BackwardResult, BackwardSeed, CaptureResult, Model } from './model.js';
import { createRng, createSampleRng } from './ops/random.js';
import { mergeOptions, runOptionKeys } from './options.js';
import {
  batchStream,
  type Chunk,
  concatBackwardResults,
  concatCaptureResults,
  type Reducer,
  type RowStream,
  rowItems,
  rulesForRows,
  type ScaledStream,
  scalingOf,
} from './stream.js';
import { checkScoreKind, resolveTarget, scoreCotangent, scoreOf, targetNeedsForward } from './targets.js';
import { concatBatch, firstNonFinite, sizeOf, sliceBatch, type Tensor } from './tensor.js';

/** Default number of items per model pass for methods that expand their input. */
export const defaultBatchSize = 16;

/**
 * Check an input batch against the model: a Float32Array tensor of rank `1 + inputShape.length`
 * whose item shape matches `info.inputShape` (a dimension of -1 there is free), with finite values.
 */
export function validateInput(model: Model, input: Tensor): void {
  if (!input || !(input.data instanceof Float32Array) || !Array.isArray(input.shape)) {
    throw new InputError('invalid-input', 'input must be a tensor { data: Float32Array, shape: number[] }');
  }
  const expected = model.info.inputShape;
  const shown = `[N, ${expected.join(', ')}] (${model.info.layout})`;
  if (input.shape.length !== expected.length + 1) {
    throw new InputError(
      'invalid-shape',
      `input has rank ${input.shape.length} (shape [${input.shape.join(', ')}]); ${model.info.name} expects rank ${expected.length + 1}: ${shown}`,
    );
  }
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] >= 0 && input.shape[i + 1] !== expected[i]) {
      throw new InputError(
        'invalid-shape',
        `input shape [${input.shape.join(', ')}] does not match ${shown} at axis ${i + 1}`,
      );
    }
  }
  if (input.shape[0] < 1) throw new InputError('invalid-shape', 'input batch is empty');
  if (input.data.length !== sizeOf(input.shape)) {
    throw new InputError(
      'invalid-shape',
      `input has ${input.data.length} values but shape [${input.shape.join(', ')}] needs ${sizeOf(input.shape)}`,
    );
  }
  const bad = firstNonFinite(input.data);
  if (bad >= 0) {
    const per = sizeOf(input.shape.slice(1));
    throw new InputError(
      'non-finite-input',
      `input contains ${input.data[bad]} (item ${Math.floor(bad / per)}, flat index ${bad % per}): NaN and infinite values cannot be explained`,
    );
  }
}

/** Check that the model offers every capability the method requires (and the member behind it). */
export function checkCapabilities(method: string, requires: readonly string[], model: Model): void {
  const members: Readonly<Record<string, keyof Model>> = capabilityMembers;
  const missing = requires.filter(
    (c) => !model.capabilities.has(c as never) || typeof model[members[c]] !== 'function',
  );
  if (missing.length > 0) {
    const has = [...model.capabilities].join(', ') || 'forward only';
    throw new CapabilityError(
      `${method} needs ${missing.join(', ')}, which ${model.info.name} does not offer (it has: ${has})`,
    );
  }
}

/** Check the run options shared by every explain and evaluate call (batch size, seed, score kind). */
export function checkRunOptions(options: RunOptions): void {
  if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
    throw new OptionError(
      'invalid-option',
      `batchSize = ${options.batchSize} is invalid; expected an integer ≥ 1`,
    );
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new OptionError('invalid-option', `seed = ${options.seed} is invalid; expected an integer`);
  }
  if (options.score !== undefined) checkScoreKind(options.score);
}

/** What a context is made of: used by `explain()` and by other drivers of the streaming context (metrics). */
export interface ContextParts {
  method: string;
  model: Model;
  input: Tensor;
  target: ResolvedTarget;
  options: object;
  run: RunOptions;
  /** Whether progress reaches the user (false in nested runs). */
  reportProgress: boolean;
}

/** Largest |value| of a tensor, for messages. */
function maxAbs(data: Float32Array): number {
  let m = 0;
  for (const v of data) if (Math.abs(v) > m) m = Math.abs(v);
  return m;
}

/**
 * Throw when model outputs or a map hold NaN or ±Infinity although the input was finite: the
 * input's values are extreme enough to overflow float32 inside the model (e.g. ±3e38), or the
 * model itself produces them. Naming the cause beats a report full of NaN.
 */
export function checkFiniteResult(method: string, what: string, values: Tensor, input: Tensor): void {
  const bad = firstNonFinite(values.data);
  if (bad < 0) return;
  const per = sizeOf(values.shape.slice(1));
  throw new InputError(
    'non-finite-output',
    `${method}: ${what} holds ${values.data[bad]} (item ${Math.floor(bad / per)}) although the input is finite; the input's largest |value| is ${maxAbs(input.data).toPrecision(3)}, so check its scale and preprocessing`,
  );
}

function missing(method: string, capability: string, model: Model): CapabilityError {
  return new CapabilityError(`${method} needs ${capability}, which ${model.info.name} does not offer`);
}

/** What a measured batch size is kept for: one kind of model pass on rows of one size (ADR 0011). */
interface MeasuredSizing {
  readonly kind: 'forward' | 'capture' | 'scaled' | 'gradient';
  /** Floats per row (the explained input's item size). */
  readonly rowFloats: number;
}

/** Settled measured batch sizes, per model and sizing. */
const measuredSizes = new WeakMap<Model, Map<string, number>>();

const sizingKey = (m: MeasuredSizing): string => `${m.kind}:${m.rowFloats}`;

function rememberSize(model: Model, m: MeasuredSizing, size: number): void {
  const sizes = measuredSizes.get(model) ?? new Map<string, number>();
  sizes.set(sizingKey(m), size);
  measuredSizes.set(model, sizes);
}

/** The sizer of a stream: settled at the size measured earlier on this model, else measuring. */
function measuredSizer(model: Model, m: MeasuredSizing): MeasuredBatchSize {
  const max = Math.min(measuredBatchMax, Math.floor(measuredBatchBytes / (4 * Math.max(1, m.rowFloats))));
  const known = measuredSizes.get(model)?.get(sizingKey(m));
  return known === undefined
    ? new MeasuredBatchSize(measuredBatchStart(defaultBatchSize, m.rowFloats), max)
    : new MeasuredBatchSize(known, max, true);
}

/**
 * The one chunk loop of xlens: build the rows of `[start, end)`, run `pass` on them, hand the chunk
 * to `reduce`, report progress; abort is checked before every chunk. Only one chunk of rows is
 * alive at a time (the previous one is released once `reduce` returns).
 */
async function streamRows<R extends { output: Tensor }, C extends Chunk>(
  ctx: ExplainContext<unknown>,
  stream: RowStream,
  pass: (model: Model, input: Tensor, start: number, end: number, items: Int32Array) => Promise<R>,
  reduce: Reducer<C>,
  measured: MeasuredSizing | null = null,
): Promise<void> {
  const model = stream.model ?? ctx.model;
  const total = stream.rows;
  const sizer = measured ? measuredSizer(model, measured) : null;
  for (let start = 0, end = 0; start < total; start = end) {
    ctx.checkAborted();
    end = Math.min(total, start + (sizer ? sizer.size : ctx.batchSize));
    const items = rowItems(stream, start, end);
    const input = stream.input(start, end);
    if (input.shape[0] !== end - start) {
      throw new InputError(
        'invalid-shape',
        `${ctx.method}: a stream built ${input.shape[0]} rows for rows [${start}, ${end})`,
      );
    }
    const began = performance.now();
    const result = await pass(model, input, start, end, items);
    if (sizer && measured) {
      sizer.record(end - start, performance.now() - began);
      if (sizer.settled) rememberSize(model, measured, sizer.size);
    }
    checkFiniteResult(ctx.method, 'the model output', result.output, input);
    await reduce({ ...result, start, end, items, input } as unknown as C);
    if (stream.progress === undefined || stream.progress === true) ctx.progress(end, total);
    else if (stream.progress) stream.progress(end);
  }
}

/**
 * Build the streaming context of a run (ADR 0003). `explain()` uses it for methods; other drivers
 * (metric evaluation) use it to get the same chunking, targets, progress, abort and seeded draws.
 */
export function makeContext<O>(parts: ContextParts): ExplainContext<O> {
  const { method, model, target, run } = parts;
  const batchSize = run.batchSize ?? defaultBatchSize;
  // No batchSize from the user: rows per model call are chosen by measurement (ADR 0011).
  const rowFloats = sizeOf(parts.input.shape.slice(1));
  const measured = (kind: MeasuredSizing['kind']): MeasuredSizing | null =>
    run.batchSize === undefined ? { kind, rowFloats } : null;
  const seed = run.seed ?? 0;
  const k = model.info.numClasses;
  const rowItems = (rows: number, items?: readonly number[] | Int32Array): ArrayLike<number> =>
    items ?? Array.from({ length: rows }, (_, i) => i);
  const classesFor = (items: ArrayLike<number>): Int32Array => {
    const out = new Int32Array(items.length);
    for (let i = 0; i < items.length; i++) out[i] = target.classes![items[i]];
    return out;
  };
  const ctx: ExplainContext<O> = {
    method,
    model,
    input: parts.input,
    target,
    options: parts.options as O,
    batchSize,
    seed,
    signal: run.signal,
    files: run.files,
    rng: (stream = 0) => createRng(seed, stream),
    sampleRng: (stream, sample) => createSampleRng(seed, stream, sample),
    progress: (done, total) => {
      if (parts.reportProgress) run.onProgress?.({ method, done, total });
    },
    checkAborted: () => {
      if (run.signal?.aborted) throw new XlensError('aborted', `${method} was aborted`);
    },
    scores(output, items) {
      const its = rowItems(output.shape[0], items);
      const out = new Float32Array(its.length);
      for (let i = 0; i < its.length; i++) {
        const row = output.data.subarray(i * k, (i + 1) * k);
        if (target.classes) out[i] = scoreOf(row, target.classes[its[i]], target.score);
        else {
          let s = 0;
          for (let j = 0; j < k; j++) s += row[j] * target.cotangent!.data[its[i] * k + j];
          out[i] = s;
        }
      }
      return out;
    },
    outputCotangent(output, items) {
      if (!target.classes) {
        const out = new Float32Array(items.length * k);
        for (let i = 0; i < items.length; i++)
          out.set(target.cotangent!.data.subarray(items[i] * k, (items[i] + 1) * k), i * k);
        return { data: out, shape: [items.length, k] };
      }
      return scoreCotangent(output, classesFor(items), k, target.score);
    },
    streamForward: (stream, reduce) =>
      streamRows(
        ctx,
        stream,
        async (m, input) => ({ output: await m.forward(input) }),
        reduce,
        measured('forward'),
      ),
    streamCapture(stream, reduce) {
      return streamRows(
        ctx,
        stream,
        async (m, input) => {
          if (!m.capture) throw missing(method, 'capture', m);
          return m.capture(input, stream.layers);
        },
        reduce,
        measured('capture'),
      );
    },
    streamScaled(stream, reduce) {
      return streamRows(
        ctx,
        stream,
        async (m, input, start, end) => {
          if (!m.forwardScaled) throw missing(method, 'forward-scaled', m);
          return { output: await m.forwardScaled(input, scalingOf(stream, start, end)) };
        },
        reduce,
        measured('scaled'),
      );
    },
    streamGradient(stream, reduce) {
      const n = parts.input.shape[0];
      const rank = parts.input.shape.length;
      return streamRows(
        ctx,
        stream,
        async (m, input, start, end, items) => {
          if (!m.backward) throw missing(method, 'gradients', m);
          let seed: BackwardSeed;
          if (stream.seed) seed = stream.seed(start, end, items);
          else {
            // Scores other than the logit need the outputs to build their cotangent.
            const needsOutput = target.classes !== null && target.score !== 'logit';
            seed = {
              kind: 'output',
              cotangent: ctx.outputCotangent(needsOutput ? await m.forward(input) : null, items),
            };
          }
          const rules =
            typeof stream.rules === 'function'
              ? stream.rules(start, end, items)
              : rulesForRows(stream.rules, n, rank, items);
          const r = await m.backward({
            input,
            seed,
            wrtInput: stream.wrtInput ?? true,
            wrtLayers: stream.wrtLayers,
            capture: stream.capture,
            rules,
            relevance: stream.relevance,
          });
          return { ...r, layerGradients: r.layerGradients ?? {}, activations: r.activations ?? {} };
        },
        reduce,
        measured('gradient'),
      );
    },
    async forward(input, m = model) {
      const outputs: Tensor[] = [];
      await ctx.streamForward({ ...batchStream(input, undefined, m), progress: false }, (c) => {
        outputs.push(c.output);
      });
      return concatBatch(outputs);
    },
    async capture(input, layers, m = model) {
      const got: CaptureResult[] = [];
      await ctx.streamCapture({ ...batchStream(input, undefined, m), layers, progress: false }, (c) => {
        got.push(c);
      });
      return concatCaptureResults(got, layers);
    },
    async forwardScaled(input, scaling, m = model) {
      const outputs: Tensor[] = [];
      const stream: ScaledStream = {
        ...batchStream(input, undefined, m),
        layer: scaling.layer,
        scale: (s, e) => sliceBatch(scaling.scale, s, e),
        progress: false,
      };
      await ctx.streamScaled(stream, (c) => {
        outputs.push(c.output);
      });
      return concatBatch(outputs);
    },
    async gradient(req: GradientRequest): Promise<GradientResult> {
      const rows = req.input.shape[0];
      const cotangent = req.cotangent;
      if (
        cotangent &&
        (cotangent.shape.length !== 2 || cotangent.shape[0] !== rows || cotangent.shape[1] !== k)
      ) {
        throw new InputError(
          'invalid-shape',
          `${method}: cotangent has shape [${cotangent.shape.join(', ')}]; expected [${rows}, ${k}]`,
        );
      }
      const got: BackwardResult[] = [];
      await ctx.streamGradient(
        {
          ...batchStream(req.input, req.items, req.model),
          wrtInput: req.wrtInput,
          wrtLayers: req.wrtLayers,
          capture: req.capture,
          rules: req.rules,
          relevance: req.relevance,
          seed: cotangent
            ? (s, e) => ({ kind: 'output', cotangent: sliceBatch(cotangent, s, e) })
            : undefined,
          progress: false,
        },
        (c) => {
          got.push(c);
        },
      );
      const joined = concatBackwardResults(got, req);
      return {
        ...joined,
        layerGradients: joined.layerGradients ?? {},
        activations: joined.activations ?? {},
      };
    },
    async run(explainer, input, options, m = model) {
      if (input.shape[0] !== parts.input.shape[0]) {
        throw new InputError(
          'invalid-shape',
          `${method}: nested run got ${input.shape[0]} items for a batch of ${parts.input.shape[0]}`,
        );
      }
      checkCapabilities(explainer.id, explainer.requires, m);
      const merged = mergeOptions(
        explainer.id,
        explainer.defaults,
        explainer.options,
        options as Record<string, unknown>,
      );
      explainer.validate?.(merged, m, input);
      const child = makeContext<typeof merged>({
        ...parts,
        method: explainer.id,
        model: m,
        input,
        options: merged,
        reportProgress: false,
      });
      return explainer.attribute(child);
    },
    resolve(id) {
      if (!run.registry)
        throw new RegistryError(
          'unknown-method',
          `${method} needs a registry to find method ${JSON.stringify(id)}; pass { registry } in the options`,
        );
      return run.registry.get(id);
    },
  };
  return ctx;
}

/**
 * Explain `input` with a method: validate input, options, capabilities and target (before any
 * compute), run, and return the raw attribution with the options and timing used.
 */
export async function explain<O extends object, E extends Extras = Extras>(
  explainer: ExplainerSpec<O, E>,
  model: Model,
  input: Tensor,
  target?: TargetSpec,
  options?: ExplainOptions<O>,
): Promise<Attribution<E>> {
  const started = performance.now();
  const run: RunOptions = options ?? {};
  validateInput(model, input);
  checkRunOptions(run);
  checkCapabilities(explainer.id, explainer.requires, model);
  const merged = mergeOptions(
    explainer.id,
    explainer.defaults,
    explainer.options,
    options as Record<string, unknown>,
  );
  explainer.validate?.(merged, model, input);
  const score = run.score ?? 'logit';
  const n = input.shape[0];
  let predictions: Tensor | undefined;
  if (targetNeedsForward(target)) {
    // Predict before resolving so `top1` also validates the target path. A forward needs no
    // target, so a context with a placeholder one streams it like every other pass.
    const placeholder: ResolvedTarget = { classes: new Int32Array(n), cotangent: null, score };
    const parts = { method: explainer.id, model, input, target: placeholder, options: merged, run };
    predictions = await makeContext<O>({ ...parts, reportProgress: false }).forward(input);
  }
  const resolved = resolveTarget(target, model.info, n, score, predictions);
  const ctx = makeContext<O>({
    method: explainer.id,
    model,
    input,
    target: resolved,
    options: merged,
    run,
    reportProgress: true,
  });
  const result: MethodResult<E> = await explainer.attribute(ctx);
  checkFiniteResult(explainer.id, 'the map', result.map, input);
  const runUsed: Record<string, unknown> = {};
  for (const key of runOptionKeys) {
    const v = (run as Record<string, unknown>)[key];
    if (v !== undefined && (typeof v === 'number' || typeof v === 'string')) runUsed[key] = v;
  }
  const mapKind = result.mapKind ?? explainer.mapKind;
  return {
    method: explainer.id,
    map: result.map,
    mapKind,
    layout: mapKind === 'input' ? model.info.layout : 'NHW',
    coarse: result.coarse,
    targets: resolved.classes ? Array.from(resolved.classes) : null,
    score: resolved.score,
    options: {
      ...(merged as Record<string, unknown>),
      ...result.resolvedOptions,
      batchSize: run.batchSize ?? defaultBatchSize,
      seed: run.seed ?? 0,
      ...runUsed,
    },
    timing: { milliseconds: performance.now() - started },
    // A method that declares extras returns them; one that reports none gets an empty record.
    extras: result.extras ?? ({} as E),
    warnings: result.warnings ?? [],
  };
}

/** Turn a spec into a callable `Explainer` (adds `explain`). Registers nothing. */
export function defineExplainer<
  O extends object,
  E extends Extras = Extras,
  Id extends string = string,
  Coarse extends boolean = false,
>(spec: ExplainerSpec<O, E, Id>): Explainer<O, E, Id, Coarse> {
  return {
    ...spec,
    explain(model, input, target, options) {
      // `Coarse` is the descriptor's promise that `attribute` always returns a coarse map.
      return explain(spec, model, input, target, options) as Promise<AttributionOf<E, Coarse>>;
    },
  };
}
