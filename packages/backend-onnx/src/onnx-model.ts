import {
  allCapabilities,
  type BackwardRequest,
  type BackwardResult,
  type Capability,
  type CaptureResult,
  type ChannelScaling,
  checkItemValues,
  findLayer,
  firstNonFinite,
  InputError,
  type LayerInfo,
  type Layout,
  type Model,
  type ModelInfo,
  type OutputKind,
  sameShape,
  type Tensor,
  toChannelsFirst,
  validateInput,
  type WeightParam,
  type WeightTransform,
  XlensError,
} from '@xlens/core';
import { type BackwardPlanInput, BackwardRunner } from './backward-runner.js';
import { deriveModel, readWeights } from './derive.js';
import { GraphInfo, type TensorFacts } from './graph/graph-info.js';
import { type PreparedModel, prepareModel, shallowCopy } from './graph/prepare.js';
import { probeGraph } from './graph/probe.js';
import { fusedLayerHints, itemShape, listLayers } from './layer-list.js';
import { nodeFiles } from './load-node.js';
import { decodeOnnxModel } from './proto/codec.js';
import type { OnnxModel } from './proto/types.js';
import { checkRuntime, defaultRuntime, type OnnxRuntime } from './runtime.js';
import { scaledGraph } from './scaled-graph.js';
import {
  createSession,
  createSessionFromBytes,
  floatInput,
  floatOutput,
  type ort,
  runSession,
} from './session.js';
import { cacheFormat, type OnnxSessionCache, sha256Hex } from './session-cache.js';

/** Options of `fromOnnx`. */
export interface OnnxModelOptions {
  /** Name for reports (default: the graph name or file name). */
  readonly name?: string;
  /** Class labels, index-aligned with the outputs. */
  readonly labels?: readonly string[];
  /** Valid input range after preprocessing (see `ModelInfo.inputRange`). */
  readonly inputRange?: ModelInfo['inputRange'];
  /**
   * Whether the output is logits or probabilities. Default: logits, or probabilities when a
   * softmax head is kept (`stripSoftmax: false`).
   */
  readonly outputKind?: OutputKind;
  /**
   * Remove a `Softmax`/`LogSoftmax` head over the last axis at the output (through `Identity`),
   * so that outputs and gradients are the logits it reads; `info.outputActivation` records it
   * (ADR 0007). Default true.
   */
  readonly stripSoftmax?: boolean;
  /** ORT intra-op threads per session (default: ORT's choice). */
  readonly intraOpThreads?: number;
  /**
   * Let ONNX Runtime's idle worker threads spin-wait for the next operator (ORT's
   * `session.intra_op.allow_spinning`). Default false: a model holds several sessions (forward,
   * each backward configuration) and most methods alternate between them, and a session's
   * spinning workers then take the cores from the one that runs (on 2 cores, measured: forward
   * and backward each about 2× slower when alternating). Spinning gains at most ~8% on graphs of
   * many small operators (MobileNetV2) when a single session runs alone.
   */
  readonly spinWait?: boolean;
  /** Graph input to feed, when the model has several. */
  readonly inputName?: string;
  /** Graph output to explain (default: the first). */
  readonly outputName?: string;
  /** Input layout; default NCHW unless the input is `[N, H, W, C]` with C ∈ {1, 3, 4} and H > 4. */
  readonly layout?: Layout;
  /** Item shape for models whose input dims are symbolic (e.g. `[3, 224, 224]`). */
  readonly inputShape?: readonly number[];
  /**
   * The ONNX Runtime to run on: the `onnxruntime-web` or `onnxruntime-node` module (anything
   * implementing `OnnxRuntime`, the part of onnxruntime-common's API xlens uses). Default: in
   * Node.js, `onnxruntime-node`, imported on first use; elsewhere required.
   */
  readonly runtime?: OnnxRuntime;
  /**
   * ORT execution providers in order of preference, e.g. `['webgpu', 'wasm']` on onnxruntime-web
   * (default: the runtime's own default, `cpu` / `wasm`).
   */
  readonly executionProviders?: readonly string[];
  /**
   * Keep built sessions between processes: `sessionCache(dir)` from `@xlens/backend-onnx/node`
   * (Node.js). Each session — the probe's results, forward, capture sets, every backward
   * configuration — is stored once as ONNX Runtime's optimized model (ORT format), keyed by the
   * model (a file path by the file's resolved path, size and modification time, as Python keys its
   * bytecode cache; bytes by their SHA-256), these options, the ONNX Runtime version and the
   * session's configuration, and later loaded without rebuilding or re-optimising. Default: no cache.
   */
  readonly cache?: OnnxSessionCache;
}

/** Options with the runtime resolved. */
type ResolvedOptions = OnnxModelOptions & { readonly runtime: OnnxRuntime };

function guessLayout(dims: readonly number[]): Layout {
  return dims.length === 3 && [1, 3, 4].includes(dims[2]) && dims[0] > 4 && ![1, 3, 4].includes(dims[0])
    ? 'NHWC'
    : 'NCHW';
}

/**
 * Load an ONNX model as an xlens `Model`: the bytes (anywhere), or a file path (Node.js only;
 * external data is read next to it). Sessions run on `options.runtime` (default: onnxruntime-node
 * in Node.js).
 */
export async function fromOnnx(source: string | Uint8Array, options: OnnxModelOptions = {}): Promise<Model> {
  let decoded: OnnxModel;
  let modelKey: Promise<string> | undefined;
  if (typeof source === 'string') {
    const files = await nodeFiles('fromOnnx with a file path');
    if (options.cache) {
      const read = await files.readOnnxSource(source);
      decoded = read.model;
      // A file is keyed by its identity (path, size, modification time), not a hash of its bytes:
      // hashing 50 MB took about as long as loading a cached session.
      modelKey = sha256Hex([new TextEncoder().encode(`file\n${read.identity}`)]);
    } else decoded = await files.readOnnxModel(source);
  } else {
    // Hashing runs off the main thread while the bytes are decoded.
    if (options.cache) modelKey = sha256Hex([source]);
    decoded = decodeOnnxModel(source);
  }
  const fallback =
    typeof source === 'string' ? (source.split(/[\\/]/).pop() ?? 'onnx') : decoded.graph.name || 'onnx';
  return createOnnxModel(decoded, { ...options, name: options.name ?? fallback }, await modelKey);
}

/**
 * Build the model around a decoded ONNX graph. `modelKey` (the hash of the source bytes) enables
 * `options.cache`; without it nothing is cached.
 */
export async function createOnnxModel(
  decoded: OnnxModel,
  given: OnnxModelOptions,
  modelKey?: string,
): Promise<Model> {
  const runtime = given.runtime === undefined ? await defaultRuntime() : checkRuntime(given.runtime);
  const options: ResolvedOptions = { ...given, runtime };
  const prepared = prepareModel(decoded, options);
  let itemDims = prepared.itemDims;
  if (options.inputShape) {
    if (
      options.inputShape.length !== itemDims.length ||
      options.inputShape.some((d, i) => itemDims[i] > 0 && d !== itemDims[i])
    ) {
      throw new InputError(
        'invalid-shape',
        `inputShape [${options.inputShape.join(', ')}] does not match the model input [${itemDims.join(', ')}]`,
      );
    }
    itemDims = [...options.inputShape];
  }
  if (itemDims.some((d) => d <= 0)) {
    throw new InputError(
      'invalid-shape',
      `model input ${prepared.inputName} has symbolic item dims [${itemDims.join(', ')}]; pass inputShape, e.g. [3, 224, 224]`,
    );
  }
  const info = new GraphInfo(prepared.model);
  // Every later step allocates whole items; refuse a declared size no typed array can hold.
  checkItemValues(`model input ${prepared.inputName}`, itemDims);
  const keyOf =
    options.cache && modelKey !== undefined
      ? (session: string) => cacheKey(modelKey, { ...prepared, itemDims }, options, session)
      : undefined;
  const dynamicBatch = await probeCached(info, prepared.inputName, itemDims, options, keyOf);
  const model = new OnnxRuntimeModel({ ...prepared, itemDims }, info, dynamicBatch, options, keyOf);
  return model;
}

/**
 * The key of a session in `options.cache`: the model's hash, every option that changes the
 * prepared graph or the session, the runtime's version, and the session's own configuration.
 */
function cacheKey(
  modelKey: string,
  prepared: PreparedModel,
  options: ResolvedOptions,
  session: string,
): string {
  return JSON.stringify({
    format: cacheFormat,
    model: modelKey,
    input: prepared.inputName,
    output: prepared.outputName,
    itemDims: prepared.itemDims,
    outputActivation: prepared.outputActivation ?? null,
    ort: options.runtime.env?.versions ?? null,
    threads: options.intraOpThreads ?? null,
    providers: options.executionProviders ?? null,
    session,
  });
}

/** `probeGraph`, its facts read from / written to the session cache when there is one. */
async function probeCached(
  info: GraphInfo,
  inputName: string,
  itemDims: readonly number[],
  options: ResolvedOptions,
  keyOf: ((session: string) => string) | undefined,
): Promise<boolean> {
  const cache = options.cache;
  if (!cache || !keyOf) return (await probeGraph(info, inputName, itemDims, options)).dynamicBatch;
  const key = keyOf('probe');
  const hit = await cache.get(key).catch(() => undefined);
  if (hit) {
    try {
      const stored = JSON.parse(hit.meta) as { dynamicBatch: unknown; facts: unknown };
      if (typeof stored.dynamicBatch !== 'boolean' || !Array.isArray(stored.facts))
        throw new Error('malformed probe record');
      for (const [name, facts] of stored.facts as [string, TensorFacts][]) info.facts.set(name, facts);
      return stored.dynamicBatch;
    } catch {
      info.facts.clear();
      await cache.delete(key).catch(() => undefined);
    }
  }
  const { dynamicBatch } = await probeGraph(info, inputName, itemDims, options);
  await cache.put(key, JSON.stringify({ dynamicBatch, facts: [...info.facts] })).catch(() => undefined);
  return dynamicBatch;
}

/** A session and the metadata its graph was built with (names of inputs and outputs). */
interface OpenSession {
  readonly session: ort.InferenceSession;
  readonly meta: string;
  /**
   * The cached model bytes the session reads its weights from in place (ORT-format entries are
   * loaded without a copy), kept alive as long as the session.
   */
  readonly bytes?: Uint8Array;
}

/**
 * Session configuration of cache entries: written in ORT format (a flat buffer that loads several
 * times faster than the protobuf form), read with its initializers used in place. Measured on the
 * ResNet-18 LRP session (138 MB): 70–90 ms to create instead of 330–410 ms.
 */
const cacheWriteConfig = { 'session.save_model_format': 'ORT' };
const cacheReadConfig = {
  'session.use_ort_model_bytes_directly': '1',
  'session.use_ort_model_bytes_for_initializers': '1',
};

/** The `Model` over an ONNX graph. Sessions are created lazily and cached per configuration. */
class OnnxRuntimeModel implements Model {
  readonly info: ModelInfo;
  readonly capabilities: ReadonlySet<Capability> = new Set(allCapabilities);
  private readonly sessions = new Map<string, Promise<OpenSession>>();
  private readonly layerList: LayerInfo[];
  private readonly aliases: ReadonlyMap<string, string>;
  private readonly runner: BackwardRunner;
  private disposed = false;

  constructor(
    private readonly prepared: PreparedModel,
    private readonly graph: GraphInfo,
    private readonly dynamicBatch: boolean,
    private readonly options: ResolvedOptions,
    /** The session cache key of a session configuration; undefined: no caching (e.g. derived models). */
    private readonly keyOf?: (session: string) => string,
  ) {
    const dims = prepared.itemDims;
    const layout = options.layout ?? guessLayout(dims);
    const outputItem = itemShape(graph, prepared.outputName) ?? [];
    this.info = {
      name: options.name ?? 'onnx',
      inputShape: [...dims],
      layout,
      numClasses: outputItem.reduce((a, b) => a * b, 1),
      outputKind:
        options.outputKind ??
        (prepared.outputActivation?.kind === 'softmax' && !prepared.outputActivation.removed
          ? 'probabilities'
          : 'logits'),
      ...(prepared.outputActivation ? { outputActivation: prepared.outputActivation } : {}),
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.inputRange ? { inputRange: options.inputRange } : {}),
    };
    const channelsFirst = layout === 'NHWC' && dims.length === 3 ? [dims[2], dims[0], dims[1]] : [...dims];
    const listed = listLayers(
      graph,
      prepared.inputName,
      channelsFirst,
      fusedLayerHints(prepared.model.metadataProps),
    );
    this.layerList = listed.layers;
    this.aliases = listed.aliases;
    this.runner = new BackwardRunner(this, graph, prepared, dynamicBatch);
  }

  /** @internal Session for a key, built once. */
  /** Time spent building graphs and ONNX Runtime sessions so far (one-time, per configuration). */
  setupMilliseconds = 0;

  async session(key: string, build: () => OnnxModel, what: string): Promise<ort.InferenceSession> {
    return (await this.sessionWithMeta(key, () => ({ model: build(), meta: '' }), what)).session;
  }

  /** @internal Session for a key with the metadata `build` returned along with its graph, built once. */
  sessionWithMeta(
    key: string,
    build: () => { model: OnnxModel; meta: string },
    what: string,
  ): Promise<OpenSession> {
    this.alive();
    let s = this.sessions.get(key);
    if (!s) {
      const started = performance.now();
      s = (async () => {
        try {
          return await this.openSession(key, build, what);
        } finally {
          // Graph building and session creation are one-time costs, reported apart from warm time.
          this.setupMilliseconds += performance.now() - started;
        }
      })();
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  /**
   * A new session: from the cache when it holds a valid entry (loaded without re-optimising),
   * else built, with ONNX Runtime writing its optimized model into the cache.
   */
  private async openSession(
    key: string,
    build: () => { model: OnnxModel; meta: string },
    what: string,
  ): Promise<OpenSession> {
    const cache = this.options.cache;
    if (!cache || !this.keyOf) {
      const { model, meta } = build();
      return { session: await createSession(model, this.options, what), meta };
    }
    const cacheKey = this.keyOf(key);
    const hit = await cache.get(cacheKey).catch(() => undefined);
    if (hit?.model) {
      try {
        const bytes = typeof hit.model === 'string' ? undefined : hit.model;
        const [session, ok] = await Promise.all([
          createSessionFromBytes(
            hit.model,
            this.options,
            what,
            { graphOptimizationLevel: 'disabled' },
            bytes ? cacheReadConfig : {},
          ),
          hit.verified ?? true,
        ]);
        if (ok) return { session, meta: hit.meta, bytes };
        // The file did not match its record (the cache removed it): rebuild.
        await session.release();
      } catch {
        // A file ONNX Runtime refuses (damaged, or written by another ORT build): drop it and
        // rebuild.
        await cache.delete(cacheKey).catch(() => undefined);
      }
    }
    const { model, meta } = build();
    let staged: string | undefined;
    try {
      staged = cache.stagingPath(cacheKey);
    } catch {
      staged = undefined;
    }
    let session: ort.InferenceSession;
    try {
      session = await createSession(
        model,
        this.options,
        what,
        staged === undefined ? {} : { optimizedModelFilePath: staged },
        staged === undefined ? {} : cacheWriteConfig,
      );
    } catch (error) {
      if (staged === undefined) throw error;
      // ONNX Runtime could not write the optimized model (e.g. an unwritable cache folder): the
      // session itself does not need it.
      staged = undefined;
      session = await createSession(model, this.options, what);
    }
    if (staged !== undefined) await cache.put(cacheKey, meta, staged).catch(() => undefined);
    return { session, meta };
  }

  /** @internal Run `session` on `input` (chunked per item when the batch is pinned) and return the named outputs, batch-stacked. */
  async run(
    session: ort.InferenceSession,
    feeds: Record<string, Tensor>,
    outputs: readonly string[],
  ): Promise<Record<string, Tensor>> {
    const n = feeds[this.prepared.inputName].shape[0];
    const chunks = this.dynamicBatch ? [[0, n]] : Array.from({ length: n }, (_, i) => [i, i + 1]);
    const parts: Record<string, Float32Array[]> = {};
    const shapes: Record<string, number[]> = {};
    for (const [s, e] of chunks) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) {
        const item = t.data.length / t.shape[0];
        ortFeeds[name] = floatInput(this.options.runtime, t.data.subarray(s * item, e * item), [
          e - s,
          ...t.shape.slice(1),
        ]);
      }
      const result = await runSession(session, ortFeeds, outputs);
      for (const o of outputs) {
        parts[o] ??= [];
        parts[o].push(floatOutput(result[o]));
        shapes[o] = [...result[o].dims];
      }
    }
    const out: Record<string, Tensor> = {};
    for (const o of outputs) {
      const total = parts[o].reduce((a, p) => a + p.length, 0);
      const data = parts[o].length === 1 ? parts[o][0] : new Float32Array(total);
      if (parts[o].length > 1) {
        let offset = 0;
        for (const p of parts[o]) {
          data.set(p, offset);
          offset += p.length;
        }
      }
      out[o] = { data, shape: chunks.length > 1 ? [n, ...shapes[o].slice(1)] : shapes[o] };
    }
    return out;
  }

  /** @internal Per-item shape of a tensor as reported in the contract. */
  itemShapeOf(name: string): number[] {
    if (name === this.prepared.inputName) return [...this.layerList[0].outputShape];
    return itemShape(this.graph, name) ?? [];
  }

  /** @internal The input batch channels-first (the input "layer" activation). */
  inputChannelsFirst(input: Tensor): Tensor {
    return this.info.layout === 'NHWC' && input.shape.length === 4 ? toChannelsFirst(input) : input;
  }

  /**
   * @internal The tensor a layer name addresses: a listed layer, or any other float tensor of the
   * graph (e.g. a pre-activation hidden inside a fused layer). Unknown names throw `unknown-layer`.
   */
  resolve(name: string): string {
    if (typeof name === 'string' && (name === this.prepared.inputName || this.graph.facts.has(name))) {
      const dtype = this.graph.dtype(name);
      if (name === this.prepared.inputName || dtype === 1) return name;
    }
    return findLayer(this, name).name;
  }

  alive(): void {
    if (this.disposed) throw new XlensError('disposed', `${this.info.name} was disposed`);
  }

  async forward(input: Tensor): Promise<Tensor> {
    this.alive();
    validateInput(this, input);
    const out = this.prepared.outputName;
    const session = await this.session('forward', () => this.prepared.model, 'model');
    const result = await this.run(session, { [this.prepared.inputName]: input }, [out]);
    return { data: result[out].data, shape: [input.shape[0], this.info.numClasses] };
  }

  layers(): readonly LayerInfo[] {
    this.alive();
    return this.layerList;
  }

  async capture(input: Tensor, names: readonly string[]): Promise<CaptureResult> {
    this.alive();
    validateInput(this, input);
    // Keys stay as asked (a module path like `layer4`); the tensors are the resolved ones.
    const tensorOf = new Map(names.map((name) => [name, this.resolve(name)]));
    const wanted = [
      ...new Set(
        [...tensorOf.values()].filter((t) => t !== this.prepared.inputName && t !== this.prepared.outputName),
      ),
    ].sort();
    const session = await this.session(
      `capture:${JSON.stringify(wanted)}`,
      () => this.withOutputs(wanted),
      'model with captures',
    );
    const outputName = this.prepared.outputName;
    const result = await this.run(session, { [this.prepared.inputName]: input }, [outputName, ...wanted]);
    const n = input.shape[0];
    const activations: Record<string, Tensor> = {};
    for (const name of names) {
      const t = tensorOf.get(name)!;
      activations[name] =
        t === this.prepared.inputName
          ? this.inputChannelsFirst(input)
          : { data: result[t].data, shape: [n, ...this.itemShapeOf(t)] };
    }
    return { output: { data: result[outputName].data, shape: [n, this.info.numClasses] }, activations };
  }

  async forwardScaled(input: Tensor, scaling: ChannelScaling): Promise<Tensor> {
    this.alive();
    validateInput(this, input);
    const target = this.resolve(scaling?.layer);
    const item = this.itemShapeOf(target);
    const n = input.shape[0];
    const scale = scaling.scale;
    if (!scale || !sameShape(scale.shape, [n, item[0]]) || scale.data.length !== n * item[0]) {
      throw new InputError(
        'invalid-shape',
        `scale for layer ${scaling.layer} has shape [${scale?.shape?.join(', ')}]; expected [${n}, ${item[0]}] (items × channels)`,
      );
    }
    if (firstNonFinite(scale.data) >= 0)
      throw new InputError('non-finite-input', 'channel scale contains NaN or infinite values');
    let scaleInput = '';
    const session = await this.session(
      `scaled:${target}`,
      () => {
        const built = scaledGraph(this.prepared.model, target, item.length + 1);
        return built.model;
      },
      'model with channel scaling',
    );
    scaleInput = session.inputNames.find((x) => x.startsWith('xlens/scale')) ?? 'xlens/scale';
    const out = this.prepared.outputName === target ? session.outputNames[0] : this.prepared.outputName;
    const result = await this.run(session, { [this.prepared.inputName]: input, [scaleInput]: scale }, [out]);
    return { data: result[out].data, shape: [n, this.info.numClasses] };
  }

  private withOutputs(names: readonly string[]): OnnxModel {
    const m = shallowCopy(this.prepared.model);
    for (const name of names) m.graph.output.push({ name });
    return m;
  }

  async backward(request: BackwardRequest): Promise<BackwardResult> {
    this.alive();
    validateInput(this, request?.input);
    return this.runner.backward(request as BackwardPlanInput);
  }

  async derive(transform: WeightTransform): Promise<Model> {
    this.alive();
    const next = deriveModel(
      this.prepared.model,
      this.graph,
      (t) => this.aliases.get(t) ?? t,
      this.layerList,
      transform,
    );
    const copy = new OnnxRuntimeModel(
      { ...this.prepared, model: next },
      new GraphInfo(next, this.graph.facts),
      this.dynamicBatch,
      this.options,
    );
    return copy;
  }

  async weights(names?: readonly string[]): Promise<readonly WeightParam[]> {
    this.alive();
    for (const name of names ?? []) findLayer(this, name);
    return readWeights(
      this.graph,
      (t) => this.aliases.get(t) ?? t,
      this.layerList,
      names ? new Set(names) : undefined,
    );
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) {
      try {
        await (await s).session.release();
      } catch {
        // A session that failed to build has nothing to release.
      }
    }
  }
}

/**
 * Milliseconds a model from `fromOnnx` has spent so far building graphs and ONNX Runtime sessions:
 * the first call of each kind (forward, a capture set, a backward configuration) pays them once.
 * Subtract the difference across a call from its wall time to get its warm time. 0 for models
 * of other backends.
 */
export function setupMilliseconds(model: Model): number {
  return model instanceof OnnxRuntimeModel ? model.setupMilliseconds : 0;
}
