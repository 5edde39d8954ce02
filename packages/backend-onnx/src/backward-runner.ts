import {
  type BackwardRequest,
  type BackwardResult,
  firstNonFinite,
  InputError,
  type LayerInfo,
  type LinearRule,
  type ModelInfo,
  OptionError,
  reluRuleKinds,
  sameShape,
  sizeOf,
  type Tensor,
  toChannelsLast,
  UnsupportedError,
} from '@xlens/core';
import { type BackwardConfig, type BackwardGraph, buildBackwardGraph } from './backward-graph.js';
import { GraphInfo } from './graph/graph-info.js';
import type { PreparedModel } from './graph/prepare.js';
import { upgradeOpset } from './graph/upgrade.js';
import type { OnnxModel } from './proto/types.js';
import type { ort } from './session.js';

/** A backward request as received (validated here). */
export type BackwardPlanInput = BackwardRequest;

/** What the runner needs from the model that owns it. */
export interface RunnerHost {
  readonly info: ModelInfo;
  /** The session of `key` and the metadata `build` returned with its graph (kept in the session cache). */
  sessionWithMeta(
    key: string,
    build: () => { model: OnnxModel; meta: string },
    what: string,
  ): Promise<{ session: ort.InferenceSession; meta: string }>;
  run(
    session: ort.InferenceSession,
    feeds: Record<string, Tensor>,
    outputs: readonly string[],
  ): Promise<Record<string, Tensor>>;
  itemShapeOf(name: string): number[];
  inputChannelsFirst(input: Tensor): Tensor;
  layers(): readonly LayerInfo[];
  resolve(name: string): string;
}

const maxPoolRules = ['winner', 'proportional'] as const;

function hash(data: Float32Array): string {
  let h = 0x811c9dc5;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16);
}

/** A value given per input item or for the whole batch, as `items` items (tiled). */
function perItem(
  what: string,
  value: Tensor | undefined,
  n: number,
  items: number,
  itemSize: number,
): Float32Array {
  const len = value?.data?.length;
  if (!value || (len !== itemSize && len !== n * itemSize)) {
    throw new InputError(
      'invalid-shape',
      `${what} has ${len} values (shape [${value?.shape?.join(', ')}]); expected one input item (${itemSize}) or the whole batch (${n}×${itemSize}), in the input layout`,
    );
  }
  if (firstNonFinite(value.data) >= 0)
    throw new InputError('non-finite-input', `${what} contains NaN or infinite values`);
  const out = new Float32Array(items * itemSize);
  for (let b = 0; b < items; b++)
    out.set(
      len === itemSize ? value.data : value.data.subarray((b % n) * itemSize, ((b % n) + 1) * itemSize),
      b * itemSize,
    );
  return out;
}

/** The input and output names of a backward graph. */
type GraphNames = Omit<BackwardGraph, 'model'>;

/** Backward graph names stored as session metadata (JSON drops undefined members, which stay absent). */
function parseNames(meta: string): GraphNames {
  const names = JSON.parse(meta) as GraphNames & { cotangents: (string | null)[] };
  if (
    typeof names.seedInput !== 'string' ||
    typeof names.output !== 'string' ||
    !Array.isArray(names.cotangents)
  )
    throw new UnsupportedError('invalid-model', 'backward graph metadata is malformed');
  // JSON writes the undefined cotangents of zero gradients as null.
  return { ...names, cotangents: names.cotangents.map((c) => c ?? undefined) };
}

/** Runs backward requests: validation, the cached backward session per configuration, feeds and results. */
export class BackwardRunner {
  private gradInfo?: GraphInfo;
  /** Input/output names of each configuration's backward graph (the graph itself lives in its session). */
  private readonly graphs = new Map<string, GraphNames>();

  constructor(
    private readonly host: RunnerHost,
    private readonly graph: GraphInfo,
    private readonly prepared: PreparedModel,
    private readonly dynamicBatch: boolean,
  ) {}

  private upgraded(): GraphInfo {
    this.gradInfo ??= new GraphInfo(upgradeOpset(this.graph), this.graph.facts);
    return this.gradInfo;
  }

  async backward(request: BackwardRequest): Promise<BackwardResult> {
    const { host, prepared } = this;
    const input = request.input;
    const n = input.shape[0];
    const inputName = prepared.inputName;
    const seed = request.seed;
    let seedTensor: string;
    if (seed?.kind === 'output') seedTensor = prepared.outputName;
    else if (seed?.kind === 'layer') seedTensor = host.resolve(seed.layer);
    else
      throw new InputError(
        'invalid-input',
        `backward seed ${JSON.stringify((seed as { kind?: unknown })?.kind)} is not output or layer`,
      );
    const seedItem = seed.kind === 'output' ? [host.info.numClasses] : host.itemShapeOf(seedTensor);
    const seedShape = [n, ...seedItem];
    if (
      !seed.cotangent ||
      !sameShape(seed.cotangent.shape, seedShape) ||
      seed.cotangent.data?.length !== sizeOf(seedShape)
    ) {
      throw new InputError(
        'invalid-shape',
        `backward seed cotangent has shape [${seed.cotangent?.shape?.join(', ')}]; expected [${seedShape.join(', ')}] (channels-first)`,
      );
    }
    if (firstNonFinite(seed.cotangent.data) >= 0)
      throw new InputError('non-finite-input', 'backward seed cotangent contains NaN or infinite values');
    const wrtLayers = (request.wrtLayers ?? []).map((name) => host.resolve(name));
    const captures = (request.capture ?? []).map((name) => host.resolve(name));
    const rules = request.rules ?? {};
    const relu = rules.relu ?? 'gradient';
    if (!reluRuleKinds.includes(relu)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `relu rule ${JSON.stringify(relu)} is not one of ${reluRuleKinds.join(', ')}`,
      );
    }
    const maxPool = rules.maxPool ?? 'winner';
    if (!maxPoolRules.includes(maxPool)) {
      throw new UnsupportedError(
        'unsupported-rule',
        `maxPool rule ${JSON.stringify(maxPool)} is not one of ${maxPoolRules.join(', ')}`,
      );
    }
    const itemSize = sizeOf(input.shape.slice(1));
    const rescale = relu === 'rescale';
    if (rescale && !rules.reference)
      throw new InputError('invalid-input', 'relu rule rescale needs rules.reference (the reference input)');
    if (rescale && !this.dynamicBatch) {
      throw new UnsupportedError(
        'unsupported-rule',
        'relu rule rescale runs the input and its reference in one batch, and this model pins its batch size to 1',
      );
    }
    const batch = rescale ? 2 * n : n;
    const linear: Record<string, LinearRule> = { ...(rules.linear ?? {}) };
    const zBox = Object.values(linear).find((r) => r?.kind === 'z-box') as
      | Extract<LinearRule, { kind: 'z-box' }>
      | undefined;
    const wantInput = (request.wrtInput ?? true) || !!request.relevance;
    const targets = [...new Set([...(wantInput ? [inputName] : []), ...wrtLayers])];
    const graphCaptures = [...new Set(captures.filter((c) => c !== inputName))];
    const config: BackwardConfig = {
      input: inputName,
      output: prepared.outputName,
      seedTensor,
      targets,
      captures: graphCaptures,
      rules: { relu, maxPool },
      linear,
      foldBatchNorm: rules.foldBatchNorm ?? false,
      ignoreBias: rules.ignoreBias ?? false,
      bounds: !!zBox,
    };
    const key = JSON.stringify({
      ...config,
      linear: Object.entries(linear).map(([k, r]) => [
        k,
        r?.kind === 'pattern'
          ? { kind: 'pattern', h: hash(Float32Array.from(r.weight.data)) }
          : r?.kind === 'z-box'
            ? 'z-box'
            : r,
      ]),
    });
    // On a session cache hit the graph is not rebuilt: its names come back as the entry's metadata.
    const { session, meta } = await host.sessionWithMeta(
      `backward:${key}`,
      () => {
        const { model, ...names } = buildBackwardGraph(this.upgraded(), config);
        return { model, meta: JSON.stringify(names) };
      },
      'backward graph',
    );
    let g = this.graphs.get(key);
    if (!g) {
      g = parseNames(meta);
      this.graphs.set(key, g);
    }

    const feeds: Record<string, Tensor> = {};
    const x = new Float32Array(batch * itemSize);
    x.set(input.data);
    if (rescale) x.set(perItem('rules.reference', rules.reference, n, n, itemSize), n * itemSize);
    feeds[inputName] = { data: x, shape: [batch, ...input.shape.slice(1)] };
    const seedData = new Float32Array(batch * sizeOf(seedItem));
    seedData.set(
      seed.kind === 'layer' && seedTensor === inputName
        ? this.toInputLayout(seed.cotangent).data
        : seed.cotangent.data,
    );
    const feedSeedItem =
      seed.kind === 'output'
        ? host.itemShapeOf(prepared.outputName)
        : seedTensor === inputName
          ? input.shape.slice(1)
          : seedItem;
    feeds[g.seedInput] = { data: seedData, shape: [batch, ...feedSeedItem] };
    if (zBox) {
      const bound = (what: string, v: number | Tensor) => {
        if (typeof v === 'number') {
          if (!Number.isFinite(v)) throw new OptionError('invalid-option', `${what} = ${v} is not finite`);
          return new Float32Array(batch * itemSize).fill(v);
        }
        return perItem(what, v, n, batch, itemSize);
      };
      feeds[g.lowInput!] = { data: bound('z-box low', zBox.low), shape: feeds[inputName].shape };
      feeds[g.highInput!] = { data: bound('z-box high', zBox.high), shape: feeds[inputName].shape };
    }
    const outputs = [
      g.output,
      ...g.captures,
      ...(g.cotangents.filter((c) => c) as string[]),
      ...(g.relevance ? [g.relevance] : []),
    ];
    const out = await host.run(session, feeds, outputs);
    const firstRows = (t: Tensor, item: readonly number[]): Tensor => {
      const size = sizeOf(item);
      return { data: t.data.length === n * size ? t.data : t.data.slice(0, n * size), shape: [n, ...item] };
    };
    const result: { -readonly [K in keyof BackwardResult]: BackwardResult[K] } = {
      output: firstRows(out[g.output], [host.info.numClasses]),
    };
    const cot = (target: string): Tensor => {
      const i = targets.indexOf(target);
      const name = g.cotangents[i];
      const item = target === inputName ? input.shape.slice(1) : host.itemShapeOf(target);
      return name
        ? firstRows(out[name], item)
        : { data: new Float32Array(n * sizeOf(item)), shape: [n, ...item] };
    };
    const inputGradient = wantInput ? cot(inputName) : undefined;
    if (request.wrtInput ?? true) result.inputGradient = inputGradient;
    if (request.relevance) {
      result.inputRelevance = g.relevance
        ? firstRows(out[g.relevance], input.shape.slice(1))
        : { data: input.data.map((v, i) => v * inputGradient!.data[i]), shape: [...input.shape] };
    }
    if (request.wrtLayers) {
      const layerGradients: Record<string, Tensor> = {};
      request.wrtLayers.forEach((name, k) => {
        const t = wrtLayers[k];
        layerGradients[name] = t === inputName ? host.inputChannelsFirst(cot(inputName)) : cot(t);
      });
      result.layerGradients = layerGradients;
    }
    if (request.capture) {
      const activations: Record<string, Tensor> = {};
      request.capture.forEach((name, k) => {
        const t = captures[k];
        activations[name] =
          t === inputName
            ? host.inputChannelsFirst(input)
            : firstRows(out[g.captures[graphCaptures.indexOf(t)]], host.itemShapeOf(t));
      });
      result.activations = activations;
    }
    return result;
  }

  /** A channels-first input-shaped tensor in the model's input layout. */
  private toInputLayout(t: Tensor): Tensor {
    return this.host.info.layout === 'NHWC' && t.shape.length === 4 ? toChannelsLast(t) : t;
  }
}
