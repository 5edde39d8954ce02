import * as tf from '@tensorflow/tfjs';
import {
  allCapabilities,
  type BackwardRequest,
  type BackwardResult,
  type Capability,
  type CaptureResult,
  type ChannelScaling,
  InputError,
  LayerError,
  type LayerInfo,
  type Model,
  type ModelInfo,
  sameShape,
  type Tensor,
  UnsupportedError,
  type WeightParam,
} from '@xlens/core';
import { hostAndDispose, SubBatchingAdapter } from './adapter.js';
import { checkBackwardRequest } from './check-request.js';
import { flattenedFrom, fromContract, toContract } from './contract.js';
import { checkInput, gradientsOf, toHost, toTf } from './convert.js';
import { deriveLayersModel, readLayersModelWeights } from './derive.js';
import { buildProgram, channelsFirstShape, layerInfos, type Program, type Step } from './graph.js';
import {
  canonicalRequest,
  checkOpaqueRules,
  type GraphOrigin,
  graphLayerInfos,
  rekey,
} from './graph-names.js';
import { outputShapes, type RunOptions, runProgram } from './interpreter.js';
import { compileLinearRule, type RelevanceStash } from './linear-rules.js';
import { decideHead } from './model-head.js';
import type { FromTfjsOptions, TfjsModel } from './options.js';
import { activationFloats, type CallKind, type SubBatchPlan } from './sub-batch.js';

/** The `Model` over a tfjs LayersModel (or a GraphModel translated into one). @internal */
export function fromLayersModel(
  model: tf.LayersModel,
  options: FromTfjsOptions,
  origin?: GraphOrigin,
): TfjsModel {
  const program = buildProgram(model);
  const outShape = model.outputs[0].shape;
  if (outShape.length !== 2 || typeof outShape[1] !== 'number') {
    throw new UnsupportedError(
      'invalid-model',
      `${model.name}'s output has shape [${outShape.join(', ')}]; xlens explains models with an N×classes output`,
    );
  }
  const name = options.name ?? model.name;
  const head = decideHead(name, program, options, origin?.head);
  const warnings = [...head.warnings];
  const opaque = origin?.translation.opaque ?? new Map<string, string>();
  if (opaque.size > 0) {
    warnings.push(
      `${name}: ${[...opaque.values()].join(', ')} ${opaque.size === 1 ? 'is' : 'are'} run by the GraphModel executor with ordinary gradients: backward rules (guided backprop, DeconvNet, DeepLIFT, LRP) and derive are unavailable`,
    );
  }
  const info: ModelInfo = {
    name,
    inputShape: program.inputItemShape,
    layout: program.inputItemShape.length === 3 ? 'NHWC' : 'NCHW',
    numClasses: outShape[1],
    outputKind: head.outputKind,
    ...(head.outputActivation ? { outputActivation: head.outputActivation } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.inputRange ? { inputRange: options.inputRange } : {}),
  };
  const capabilities = new Set<Capability>(allCapabilities);
  return new LayersModelAdapter(model, program, info, capabilities, head.strip, warnings, options, origin);
}

class LayersModelAdapter extends SubBatchingAdapter {
  private layerList: LayerInfo[] | null = null;
  private readonly floats = new Map<string, number | null>();
  constructor(
    private readonly model: tf.LayersModel,
    private readonly program: Program,
    readonly info: ModelInfo,
    readonly capabilities: ReadonlySet<Capability>,
    private readonly strip: Step | null,
    readonly warnings: readonly string[],
    private readonly options: FromTfjsOptions,
    private readonly origin?: GraphOrigin,
  ) {
    super();
  }

  /** A layer name as the program knows it: graph node names of a translated GraphModel resolve. */
  private canonical(name: string): string {
    if (name === this.program.inputName || this.program.byName.has(name)) return name;
    return this.origin?.translation.aliases.get(name) ?? name;
  }

  /** The step for a layer name (null for the model input), or an unknown-layer error. */
  private step(asked: string): Step | null {
    const name = this.canonical(asked);
    if (name === this.program.inputName) return null;
    const s = this.program.byName.get(name);
    if (s) return s;
    const names = this.layers().map((l) => l.name);
    const close = names.filter((n) => n.toLowerCase().includes(name.toLowerCase()));
    const hint =
      close.length > 0
        ? `did you mean ${close.slice(0, 5).join(', ')}?`
        : `layers: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}`;
    throw new LayerError('unknown-layer', `${this.info.name} has no layer ${JSON.stringify(asked)}; ${hint}`);
  }

  protected plan(kind: CallKind, input: Tensor): SubBatchPlan {
    const item = input.shape.slice(1);
    const key = item.join(',');
    if (!this.floats.has(key)) this.floats.set(key, activationFloats(this.program, item));
    const floats = this.floats.get(key)!;
    return { name: this.info.name, kind, n: input.shape[0], floats, option: this.options.maxBatchBytes };
  }

  private itemShape(step: Step | null): readonly number[] {
    return step ? step.itemShape : this.program.inputItemShape;
  }

  layers(): readonly LayerInfo[] {
    if (!this.layerList) {
      const all = this.origin
        ? graphLayerInfos(this.program, this.origin.translation)
        : layerInfos(this.program);
      // A removed fused softmax is no longer part of what its layer computes (ADR 0007): methods that
      // read fused activations (FullGrad's bias terms, PatternNet's pre-activations) see logits.
      this.layerList = all.map((l) =>
        l.name === this.strip?.name && l.activation === 'softmax' ? withoutActivation(l) : l,
      );
    }
    return this.layerList;
  }

  protected forwardOnce(input: Tensor): Promise<Tensor> {
    return hostAndDispose(
      tf.tidy(() => runProgram(this.program, toTf(input), { differentiable: false, strip: this.strip })),
    );
  }

  /** Validate a forwardScaled call; returns its batch size, the layer's step and its channels. */
  protected checkScaling(input: Tensor, scaling: ChannelScaling): [number, Step | null, number] {
    const n = checkInput(this.info.name, input, this.info.inputShape, this.info.layout);
    const step = this.step(scaling.layer);
    const channels = channelsFirstShape(this.itemShape(step))[0];
    if (!sameShape(scaling.scale.shape, [n, channels])) {
      throw new InputError(
        'invalid-shape',
        `forwardScaled scale for ${scaling.layer} has shape [${scaling.scale.shape.join(', ')}]; expected [${n}, ${channels}]`,
      );
    }
    return [n, step, channels];
  }

  protected forwardScaledOnce(input: Tensor, scaling: ChannelScaling): Promise<Tensor> {
    const [n, step, channels] = this.checkScaling(input, scaling);
    const out = tf.tidy(() => {
      const s = toTf(scaling.scale);
      // Channels are the last tfjs axis; a flattened map's features are permuted like activations.
      const scale = flattenedFrom(this.program, step)
        ? fromContract(this.program, step, s)
        : s.reshape([n, ...this.itemShape(step).map((_, i, a) => (i === a.length - 1 ? channels : 1))]);
      return runProgram(this.program, toTf(input), {
        differentiable: false,
        strip: this.strip,
        onOutput: (st, v) =>
          (st ? st.name : this.program.inputName) === scaling.layer ? tf.mul(v, scale) : v,
      });
    });
    return hostAndDispose(out);
  }

  protected checkLayers(names: readonly string[]): void {
    for (const l of names) this.step(l);
  }

  protected async captureOnce(input: Tensor, layers: readonly string[]): Promise<CaptureResult> {
    const wanted = new Set(layers);
    const kept = new Map<string, tf.Tensor>();
    let out: tf.Tensor | null = null;
    try {
      out = tf.tidy(() =>
        runProgram(this.program, toTf(input), {
          differentiable: false,
          strip: this.strip,
          onOutput: (step, v) => {
            const n = step ? step.name : this.program.inputName;
            if (wanted.has(n)) kept.set(n, tf.keep(toContract(this.program, step, v)));
            return v;
          },
        }),
      );
      const activations: Record<string, Tensor> = {};
      for (const [n, t] of kept) activations[n] = await toHost(t);
      return { output: await toHost(out), activations };
    } finally {
      out?.dispose();
      for (const t of kept.values()) t.dispose();
    }
  }

  /** Validate a backward request before any compute; returns the batch size. */
  protected checkBackward(req: BackwardRequest): number {
    const n = checkBackwardRequest(this.program, this.info, req, (name) => this.step(name));
    if (this.origin) checkOpaqueRules(this.program, this.origin.translation, req, (name) => this.step(name));
    return n;
  }

  override async capture(input: Tensor, layers: readonly string[]): Promise<CaptureResult> {
    const names = layers.map((l) => this.canonical(l));
    const r = await super.capture(input, names);
    return names.every((n, i) => n === layers[i])
      ? r
      : { ...r, activations: rekey(r.activations, layers, names) };
  }

  override async backward(req: BackwardRequest): Promise<BackwardResult> {
    if (!this.origin) return super.backward(req);
    const canonical = (l: string) => this.canonical(l);
    const r = await super.backward(canonicalRequest(req, canonical));
    return {
      ...r,
      ...(r.layerGradients
        ? {
            layerGradients: rekey(
              r.layerGradients,
              req.wrtLayers ?? [],
              (req.wrtLayers ?? []).map(canonical),
            ),
          }
        : {}),
      ...(r.activations
        ? { activations: rekey(r.activations, req.capture ?? [], (req.capture ?? []).map(canonical)) }
        : {}),
    };
  }

  override async forwardScaled(input: Tensor, scaling: ChannelScaling): Promise<Tensor> {
    return super.forwardScaled(input, { ...scaling, layer: this.canonical(scaling?.layer) });
  }

  protected async backwardOnce(req: BackwardRequest): Promise<BackwardResult> {
    const n = this.checkBackward(req);
    const rules = req.rules ?? {};
    const wantInput = req.wrtInput !== false || req.relevance === true;
    const wrt = [...new Set(req.wrtLayers ?? [])];
    const captureNames = new Set(req.capture ?? []);
    const owned: tf.Tensor[] = [];
    const stash: RelevanceStash = [];
    const kept = new Map<string, tf.Tensor>();
    const recorded = new Map<string, tf.Tensor>();
    const base: RunOptions = {
      differentiable: true,
      strip: this.strip,
      foldBatchNorm: rules.foldBatchNorm === true,
    };
    try {
      const x = toTf(req.input);
      owned.push(x);
      const linear = new Map<string, ReturnType<typeof compileLinearRule>['backward']>();
      for (const [name, rule] of Object.entries(rules.linear ?? {})) {
        const c = compileLinearRule(
          this.program,
          this.program.byName.get(name)!,
          rule,
          req.input.shape,
          stash,
          rules.ignoreBias === true,
        );
        owned.push(...c.owned);
        linear.set(name, c.backward);
      }
      let reluReference: Map<string, tf.Tensor> | undefined;
      if (rules.relu === 'rescale') {
        // DeepLIFT's reference pass; a zero reference when none is given.
        reluReference = recorded;
        const ref = rules.reference ? toTf(rules.reference) : tf.zeros([1, ...req.input.shape.slice(1)]);
        owned.push(ref);
        tf.tidy(() => {
          runProgram(this.program, ref, { ...base, differentiable: false, recordRelu: recorded });
        });
      }
      const seed = req.seed;
      const cot =
        seed.kind === 'output'
          ? toTf(seed.cotangent)
          : tf.tidy(() => fromContract(this.program, this.step(seed.layer), toTf(seed.cotangent)));
      owned.push(cot);
      const probes = outputShapes(this.program, x, wrt, this.strip).map((shape) => tf.zeros(shape));
      owned.push(...probes);
      const probeOf = new Map(wrt.map((l, i) => [l, i]));
      const xs = wantInput ? [x, ...probes] : probes;
      let output: tf.Tensor | null = null;
      const objective = (): tf.Scalar => {
        const px = wantInput ? xs[0] : x;
        const ps = wantInput ? xs.slice(1) : xs;
        let seedValue: tf.Tensor | null = null;
        const out = runProgram(this.program, px, {
          ...base,
          relu: rules.relu,
          reluReference,
          linear,
          maxPool: rules.maxPool,
          onOutput: (step, v) => {
            const name = step ? step.name : this.program.inputName;
            const p = probeOf.get(name);
            const value = p === undefined ? v : tf.add(v, ps[p]);
            if (captureNames.has(name) && !kept.has(name))
              kept.set(name, tf.keep(toContract(this.program, step, value)));
            if (seed.kind === 'layer' && seed.layer === name) seedValue = value;
            return value;
          },
        });
        output = tf.keep(out);
        owned.push(output);
        return tf.sum(tf.mul(seed.kind === 'output' ? out : seedValue!, cot));
      };
      let grads: (tf.Tensor | undefined)[] = [];
      if (xs.length === 0) {
        tf.tidy(() => objective());
      } else {
        const r = gradientsOf(objective, xs);
        r.value.dispose();
        grads = r.grads;
      }
      owned.push(...grads.filter((t): t is tf.Tensor => t !== undefined));
      const out = output as tf.Tensor | null;
      owned.push(...kept.values(), ...stash);
      const zerosOf = (shape: readonly number[]) => tf.zeros([n, ...shape]);
      const inputGrad = wantInput ? (grads[0] ?? zerosOf(this.info.inputShape)) : null;
      if (inputGrad) owned.push(inputGrad);
      const result: { -readonly [K in keyof BackwardResult]: BackwardResult[K] } = {
        output: await toHost(out!),
      };
      if (req.wrtInput !== false && inputGrad) result.inputGradient = await toHost(inputGrad);
      if (req.relevance && inputGrad) {
        const rel = tf.tidy(() => stash.reduce((acc, t) => tf.add(acc, t), tf.mul(x, inputGrad)));
        owned.push(rel);
        result.inputRelevance = await toHost(rel);
      }
      if (wrt.length > 0) {
        const layerGradients: Record<string, Tensor> = {};
        for (let i = 0; i < wrt.length; i++) {
          const gi = grads[(wantInput ? 1 : 0) + i];
          const cf = tf.tidy(() =>
            toContract(this.program, this.step(wrt[i]), gi ?? zerosOf(this.itemShape(this.step(wrt[i])))),
          );
          owned.push(cf);
          layerGradients[wrt[i]] = await toHost(cf);
        }
        result.layerGradients = layerGradients;
      }
      if (captureNames.size > 0) {
        const activations: Record<string, Tensor> = {};
        for (const name of captureNames) activations[name] = await toHost(kept.get(name)!);
        result.activations = activations;
      }
      return result;
    } finally {
      for (const t of new Set(owned)) if (!t.isDisposed) t.dispose();
      for (const t of kept.values()) if (!t.isDisposed) t.dispose();
      for (const t of stash) if (!t.isDisposed) t.dispose();
      for (const t of recorded.values()) if (!t.isDisposed) t.dispose();
    }
  }

  async derive(transform: Parameters<NonNullable<Model['derive']>>[0]): Promise<Model> {
    this.live();
    const origin = this.origin;
    if (origin && origin.translation.opaque.size > 0) {
      throw new UnsupportedError(
        'unsupported',
        `derive needs every op of ${this.info.name} interpreted; ${[...origin.translation.opaque.values()].join(', ')} ${origin.translation.opaque.size === 1 ? 'is' : 'are'} run by the GraphModel executor, whose weights derive cannot reach`,
      );
    }
    const clone = await deriveLayersModel(
      this.model,
      this.program,
      this.layers(),
      transform,
      origin ? async () => origin.translation.build() : undefined,
    );
    // The parent's decisions carry over: same head, and no second probe pass.
    const options = {
      ...this.options,
      name: this.info.name,
      disposeModel: true,
      outputKind: this.info.outputKind,
    };
    return fromLayersModel(clone, options, origin ? { ...origin, source: null } : undefined);
  }

  async weights(names?: readonly string[]): Promise<readonly WeightParam[]> {
    this.live();
    const wanted = names?.map((n) => this.canonical(n));
    for (const name of wanted ?? []) this.step(name);
    return readLayersModelWeights(this.program, this.layers(), wanted ? new Set(wanted) : undefined);
  }

  protected release(): void {
    if (this.origin || this.options.disposeModel !== false) this.model.dispose();
    if (this.origin?.source) {
      for (const t of this.origin.translation.owned) if (!t.isDisposed) t.dispose();
      if (this.options.disposeModel !== false) this.origin.source.dispose();
    }
  }
}

/** A layer's info without its fused activation. */
function withoutActivation(layer: LayerInfo): LayerInfo {
  const { activation: _removed, ...rest } = layer;
  return rest;
}
