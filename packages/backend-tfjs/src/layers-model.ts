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
import { isSoftmaxLayer, outputShapes, type RunOptions, runProgram } from './interpreter.js';
import { compileLinearRule, type RelevanceStash } from './linear-rules.js';
import type { FromTfjsOptions, TfjsModel } from './options.js';
import { activationFloats, type CallKind, type SubBatchPlan } from './sub-batch.js';

/** The `Model` over a tfjs LayersModel. @internal */
export function fromLayersModel(model: tf.LayersModel, options: FromTfjsOptions): TfjsModel {
  const program = buildProgram(model);
  const outShape = model.outputs[0].shape;
  if (outShape.length !== 2 || typeof outShape[1] !== 'number') {
    throw new UnsupportedError(
      'invalid-model',
      `${model.name}'s output has shape [${outShape.join(', ')}]; xlens explains models with an N×classes output`,
    );
  }
  const finalStep = program.producer.get(program.outputSlot);
  const endsInSoftmax = finalStep !== undefined && isSoftmaxLayer(finalStep);
  const stripSoftmax = endsInSoftmax && options.stripSoftmax === true;
  const warnings: string[] = [];
  if (endsInSoftmax && !stripSoftmax) {
    warnings.push(
      `${model.name} ends in a softmax (${finalStep!.name}): its outputs are probabilities. Pass stripSoftmax: true to explain the pre-softmax logits, as most methods expect`,
    );
  }
  const name = options.name ?? model.name;
  const info: ModelInfo = {
    name,
    inputShape: program.inputItemShape,
    layout: program.inputItemShape.length === 3 ? 'NHWC' : 'NCHW',
    numClasses: outShape[1],
    outputKind: options.outputKind ?? (endsInSoftmax && !stripSoftmax ? 'probabilities' : 'logits'),
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.inputRange ? { inputRange: options.inputRange } : {}),
  };
  const capabilities = new Set<Capability>(allCapabilities);
  return new LayersModelAdapter(model, program, info, capabilities, stripSoftmax, warnings, options);
}

class LayersModelAdapter extends SubBatchingAdapter {
  private layerList: LayerInfo[] | null = null;
  private readonly floats = new Map<string, number | null>();
  constructor(
    private readonly model: tf.LayersModel,
    private readonly program: Program,
    readonly info: ModelInfo,
    readonly capabilities: ReadonlySet<Capability>,
    private readonly stripSoftmax: boolean,
    readonly warnings: readonly string[],
    private readonly options: FromTfjsOptions,
  ) {
    super();
  }

  /** The step for a layer name (null for the model input), or an unknown-layer error. */
  private step(name: string): Step | null {
    if (name === this.program.inputName) return null;
    const s = this.program.byName.get(name);
    if (s) return s;
    const names = this.layers().map((l) => l.name);
    const close = names.filter((n) => n.toLowerCase().includes(name.toLowerCase()));
    const hint =
      close.length > 0
        ? `did you mean ${close.slice(0, 5).join(', ')}?`
        : `layers: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}`;
    throw new LayerError('unknown-layer', `${this.info.name} has no layer ${JSON.stringify(name)}; ${hint}`);
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
    this.layerList ??= layerInfos(this.program);
    return this.layerList;
  }

  protected forwardOnce(input: Tensor): Promise<Tensor> {
    return hostAndDispose(
      tf.tidy(() =>
        runProgram(this.program, toTf(input), { differentiable: false, stripSoftmax: this.stripSoftmax }),
      ),
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
        stripSoftmax: this.stripSoftmax,
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
          stripSoftmax: this.stripSoftmax,
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
    return checkBackwardRequest(this.program, this.info, req, (name) => this.step(name));
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
      stripSoftmax: this.stripSoftmax,
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
      const probes = outputShapes(this.program, x, wrt, this.stripSoftmax).map((shape) => tf.zeros(shape));
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
    const clone = await deriveLayersModel(this.model, this.program, this.layers(), transform);
    return fromLayersModel(clone, { ...this.options, name: this.info.name, disposeModel: true });
  }

  async weights(names?: readonly string[]): Promise<readonly WeightParam[]> {
    this.live();
    for (const name of names ?? []) this.step(name);
    return readLayersModelWeights(this.program, this.layers(), names ? new Set(names) : undefined);
  }

  protected release(): void {
    if (this.options.disposeModel !== false) this.model.dispose();
  }
}
