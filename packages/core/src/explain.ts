import { chunkRanges } from './batching.js';
import { capabilityMembers } from './capabilities.js';
import { CapabilityError, InputError, OptionError, RegistryError, XlensError } from './errors.js';
import type {
  Attribution,
  ExplainContext,
  Explainer,
  ExplainerSpec,
  ExplainOptions,
  GradientRequest,
  GradientResult,
  MethodResult,
  ResolvedTarget,
  RunOptions,
  TargetSpec,
} from './explainer.js';
import type { BackwardResult, Model } from './model.js';
import { createRng } from './ops/random.js';
import { mergeOptions, runOptionKeys } from './options.js';
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

function checkRunOptions(options: RunOptions): void {
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

interface ContextParts {
  method: string;
  model: Model;
  input: Tensor;
  target: ResolvedTarget;
  options: object;
  run: RunOptions;
  /** Whether progress reaches the user (false in nested runs). */
  reportProgress: boolean;
}

function makeContext<O>(parts: ContextParts): ExplainContext<O> {
  const { method, model, target, run } = parts;
  const batchSize = run.batchSize ?? defaultBatchSize;
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
    rng: (stream = 0) => createRng(seed, stream),
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
    async forward(input, m = model) {
      const parts: Tensor[] = [];
      for (const [s, e] of chunkRanges(input.shape[0], batchSize)) {
        ctx.checkAborted();
        parts.push(await m.forward(sliceBatch(input, s, e)));
      }
      return concatBatch(parts);
    },
    async gradient(req: GradientRequest): Promise<GradientResult> {
      const m = req.model ?? model;
      if (!m.backward)
        throw new CapabilityError(`${method} needs gradients, which ${m.info.name} does not offer`);
      const rows = req.input.shape[0];
      if (
        req.cotangent &&
        (req.cotangent.shape.length !== 2 || req.cotangent.shape[0] !== rows || req.cotangent.shape[1] !== k)
      ) {
        throw new InputError(
          'invalid-shape',
          `${method}: cotangent has shape [${req.cotangent.shape.join(', ')}]; expected [${rows}, ${k}]`,
        );
      }
      const items = rowItems(rows, req.items);
      const results: BackwardResult[] = [];
      for (const [s, e] of chunkRanges(rows, batchSize)) {
        ctx.checkAborted();
        const chunk = sliceBatch(req.input, s, e);
        const chunkItems = Array.from({ length: e - s }, (_, i) => items[s + i]);
        let cotangent: Tensor;
        if (req.cotangent) cotangent = sliceBatch(req.cotangent, s, e);
        else {
          const needsOutput = target.classes !== null && target.score !== 'logit';
          const output = needsOutput ? await m.forward(chunk) : null;
          cotangent = ctx.outputCotangent(output, chunkItems);
        }
        results.push(
          await m.backward({
            input: chunk,
            seed: { kind: 'output', cotangent },
            wrtInput: req.wrtInput ?? true,
            wrtLayers: req.wrtLayers,
            capture: req.capture,
            rules: req.rules,
            relevance: req.relevance,
          }),
        );
      }
      const join = (pick: (r: BackwardResult) => Tensor | undefined): Tensor | undefined => {
        const got = results.map(pick);
        return got.every((t) => t !== undefined) ? concatBatch(got as Tensor[]) : undefined;
      };
      const joinMap = (
        names: readonly string[] | undefined,
        pick: (r: BackwardResult) => Readonly<Record<string, Tensor>> | undefined,
      ) => {
        const out: Record<string, Tensor> = {};
        for (const name of names ?? []) out[name] = concatBatch(results.map((r) => pick(r)![name]));
        return out;
      };
      return {
        output: join((r) => r.output)!,
        inputGradient: join((r) => r.inputGradient),
        inputRelevance: join((r) => r.inputRelevance),
        layerGradients: joinMap(req.wrtLayers, (r) => r.layerGradients),
        activations: joinMap(req.capture, (r) => r.activations),
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
export async function explain<O extends object>(
  explainer: ExplainerSpec<O>,
  model: Model,
  input: Tensor,
  target?: TargetSpec,
  options?: ExplainOptions<O>,
): Promise<Attribution> {
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
    // Predict before resolving so `top1` also validates the target path; chunked like everything else.
    const parts: Tensor[] = [];
    for (const [s, e] of chunkRanges(n, run.batchSize ?? defaultBatchSize))
      parts.push(await model.forward(sliceBatch(input, s, e)));
    predictions = concatBatch(parts);
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
  const result: MethodResult = await explainer.attribute(ctx);
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
      batchSize: run.batchSize ?? defaultBatchSize,
      seed: run.seed ?? 0,
      ...runUsed,
    },
    timing: { milliseconds: performance.now() - started },
    extras: result.extras ?? {},
    warnings: result.warnings ?? [],
  };
}

/** Turn a spec into a callable `Explainer` (adds `explain`). Registers nothing. */
export function defineExplainer<O extends object>(spec: ExplainerSpec<O>): Explainer<O> {
  return {
    ...spec,
    explain(model, input, target, options) {
      return explain(spec, model, input, target, options);
    },
  };
}
