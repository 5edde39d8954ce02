import * as tf from '@tensorflow/tfjs';
import {
  type BackwardRequest,
  type BackwardResult,
  type Capability,
  type CaptureResult,
  type ChannelScaling,
  InputError,
  LayerError,
  type LayerInfo,
  type ModelInfo,
  type OutputActivation,
  sameShape,
  type Tensor,
  UnsupportedError,
} from '@xlens/core';
import { hostAndDispose, SubBatchingAdapter } from './adapter.js';
import { channelsFirst, channelsLast, checkInput, gradientsOf, toHost, toTf } from './convert.js';
import { type GNode, graphLayers } from './graph-layers.js';
import type { FromTfjsOptions, TfjsModel } from './options.js';
import type { CallKind, SubBatchPlan } from './sub-batch.js';

/**
 * The `Model` over a tfjs GraphModel run by its own executor (forward, capture, gradients, layer
 * gradients): the fallback when the graph cannot be translated into layers. @internal
 */
export function executorModel(
  model: tf.GraphModel,
  nodes: Record<string, GNode>,
  inputName: string,
  itemShape: readonly number[],
  output: string,
  outputActivation: OutputActivation | undefined,
  warnings: readonly string[],
  options: FromTfjsOptions,
): TfjsModel {
  const probe = tf.tidy(() => model.execute(tf.zeros([1, ...itemShape]), output) as tf.Tensor);
  const outShape = probe.shape;
  probe.dispose();
  if (outShape.length !== 2) {
    throw new UnsupportedError(
      'invalid-model',
      `GraphModel output ${output} has shape [${outShape.join(', ')}]; xlens explains models with an N×classes output`,
    );
  }
  const kept = outputActivation && !outputActivation.removed;
  const info: ModelInfo = {
    name: options.name ?? 'graph-model',
    inputShape: itemShape,
    layout: itemShape.length === 3 ? 'NHWC' : 'NCHW',
    numClasses: outShape[1],
    outputKind:
      options.outputKind ?? (kept && outputActivation.kind === 'softmax' ? 'probabilities' : 'logits'),
    ...(outputActivation ? { outputActivation } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.inputRange ? { inputRange: options.inputRange } : {}),
  };
  return new GraphModelAdapter(
    model,
    nodes,
    inputName,
    output,
    info,
    warnings,
    options.disposeModel !== false,
    options.maxBatchBytes,
  );
}

class GraphModelAdapter extends SubBatchingAdapter {
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>([
    'layers',
    'capture',
    'gradients',
    'layer-gradients',
    'forward-scaled',
  ]);
  private layerList: LayerInfo[] | null = null;
  private floats: number | null = null;
  constructor(
    private readonly model: tf.GraphModel,
    private readonly nodes: Record<string, GNode>,
    private readonly inputName: string,
    private readonly output: string,
    readonly info: ModelInfo,
    readonly warnings: readonly string[],
    private readonly disposeModel: boolean,
    private readonly maxBatchBytes: number | undefined,
  ) {
    super();
  }

  protected plan(kind: CallKind, input: Tensor): SubBatchPlan {
    this.floats ??= this.layers().reduce((a, l) => a + l.outputShape.reduce((x, y) => x * y, 1), 0);
    return { name: this.info.name, kind, n: input.shape[0], floats: this.floats, option: this.maxBatchBytes };
  }

  /** Graph nodes in topological order, without constants and plumbing; shapes from one probe pass. */
  layers(): readonly LayerInfo[] {
    this.live();
    if (this.layerList) return this.layerList;
    this.layerList = graphLayers(this.model, this.nodes, this.inputName, this.output, this.info.inputShape);
    return this.layerList;
  }

  protected checkLayers(names: readonly string[]): void {
    const known = new Set(this.layers().map((l) => l.name));
    for (const name of names) {
      if (!known.has(name)) {
        const all = [...known];
        throw new LayerError(
          'unknown-layer',
          `${this.info.name} has no layer ${JSON.stringify(name)}; layers: ${all.slice(0, 30).join(', ')}${all.length > 30 ? ', …' : ''}`,
        );
      }
    }
  }

  private run(x: tf.Tensor, names: readonly string[]): tf.Tensor[] {
    const outs = this.model.execute(x, [this.output, ...names]) as tf.Tensor | tf.Tensor[];
    return Array.isArray(outs) ? outs : [outs];
  }

  protected forwardOnce(input: Tensor): Promise<Tensor> {
    return hostAndDispose(tf.tidy(() => this.run(toTf(input), [])[0]));
  }

  protected checkScaling(input: Tensor, scaling: ChannelScaling): [number, readonly number[]] {
    const n = checkInput(this.info.name, input, this.info.inputShape, this.info.layout);
    this.checkLayers([scaling.layer]);
    const shape = this.layers().find((l) => l.name === scaling.layer)!.outputShape;
    if (!sameShape(scaling.scale.shape, [n, shape[0]])) {
      throw new InputError(
        'invalid-shape',
        `forwardScaled scale for ${scaling.layer} has shape [${scaling.scale.shape.join(', ')}]; expected [${n}, ${shape[0]}]`,
      );
    }
    return [n, shape];
  }

  protected forwardScaledOnce(input: Tensor, scaling: ChannelScaling): Promise<Tensor> {
    const [n, shape] = this.checkScaling(input, scaling);
    const out = tf.tidy(() => {
      const x = toTf(input);
      const act = scaling.layer === this.inputName ? x : this.run(x, [scaling.layer])[1];
      const scale = toTf(scaling.scale).reshape([
        n,
        ...act.shape.slice(1).map((_, i, a) => (i === a.length - 1 ? shape[0] : 1)),
      ]);
      // Feeding the scaled tensor (and the input, for paths around it) replaces it in the graph.
      return this.model.execute(
        { [this.inputName]: x, [scaling.layer]: tf.mul(act, scale) },
        this.output,
      ) as tf.Tensor;
    });
    return hostAndDispose(out);
  }

  protected async captureOnce(input: Tensor, layers: readonly string[]): Promise<CaptureResult> {
    const names = [...new Set(layers)];
    const fed = names.filter((s) => s !== this.inputName && s !== this.output);
    const outs = tf.tidy(() => {
      const x = toTf(input);
      const r = this.run(x, fed);
      return [
        r[0],
        ...names.map((name) =>
          channelsFirst(name === this.inputName ? x : name === this.output ? r[0] : r[1 + fed.indexOf(name)]),
        ),
      ];
    });
    try {
      const activations: Record<string, Tensor> = {};
      for (let i = 0; i < names.length; i++) activations[names[i]] = await toHost(outs[i + 1]);
      return { output: await toHost(outs[0]), activations };
    } finally {
      for (const t of outs) t.dispose();
    }
  }

  protected checkBackward(req: BackwardRequest): void {
    const n = checkInput(this.info.name, req.input, this.info.inputShape, this.info.layout);
    if (
      req.rules &&
      (req.rules.relu !== undefined ||
        Object.keys(req.rules.linear ?? {}).length > 0 ||
        req.rules.maxPool === 'proportional')
    ) {
      throw new UnsupportedError(
        'unsupported-rule',
        `backward rules are not supported on tfjs GraphModel ${this.info.name}: its graph could not be translated into layers (${this.warnings.join('; ')}), and tfjs cannot override the gradient of a node inside a GraphModel`,
      );
    }
    const seed = req.seed;
    this.checkLayers([
      ...(req.wrtLayers ?? []),
      ...(req.capture ?? []),
      ...(seed.kind === 'layer' ? [seed.layer] : []),
    ]);
    const shapeOf = (name: string) => this.layers().find((l) => l.name === name)!.outputShape;
    const expected = seed.kind === 'output' ? [n, this.info.numClasses] : [n, ...shapeOf(seed.layer)];
    if (!sameShape(seed.cotangent.shape, expected)) {
      throw new InputError(
        'invalid-shape',
        `backward ${seed.kind} cotangent has shape [${seed.cotangent.shape.join(', ')}]; expected [${expected.join(', ')}]`,
      );
    }
  }

  protected async backwardOnce(req: BackwardRequest): Promise<BackwardResult> {
    this.checkBackward(req);
    const seed = req.seed;
    const seedName = seed.kind === 'layer' ? seed.layer : this.output;
    const wrt = [...new Set(req.wrtLayers ?? [])];
    const captures = [...new Set(req.capture ?? [])];
    const owned: tf.Tensor[] = [];
    try {
      const x = toTf(req.input);
      const cot =
        seed.kind === 'output' ? toTf(seed.cotangent) : tf.tidy(() => channelsLast(toTf(seed.cotangent)));
      owned.push(x, cot);
      const fed = [...new Set([seedName, ...wrt, ...captures])].filter(
        (s) => s !== this.inputName && s !== this.output,
      );
      const acts = tf.tidy(() => this.run(x, fed));
      owned.push(...acts);
      const act = (name: string) =>
        name === this.inputName ? x : name === this.output ? acts[0] : acts[1 + fed.indexOf(name)];
      // Objective Σ cot ⊙ (seed tensor), as a function of the input or of a fed intermediate tensor.
      const objective = (feeds: Record<string, tf.Tensor>) => {
        const out = this.model.execute(feeds, seedName) as tf.Tensor;
        return tf.sum(tf.mul(out, cot));
      };
      const result: { -readonly [K in keyof BackwardResult]: BackwardResult[K] } = {
        output: await toHost(acts[0]),
      };
      if (req.wrtInput !== false || req.relevance) {
        const g = gradientsOf(() => objective({ [this.inputName]: x }), [x]);
        g.value.dispose();
        const gi = g.grads[0] ?? tf.zerosLike(x);
        owned.push(gi);
        if (req.wrtInput !== false) result.inputGradient = await toHost(gi);
        if (req.relevance) {
          // Without rules, relevance at the input is input ⊙ gradient.
          const rel = tf.mul(x, gi);
          owned.push(rel);
          result.inputRelevance = await toHost(rel);
        }
      }
      if (wrt.length > 0) {
        const layerGradients: Record<string, Tensor> = {};
        for (const name of wrt) {
          const a = act(name);
          // Feeding the tensor (and the input, for paths around it) cuts the graph there.
          const g = gradientsOf(
            () => objective(name === this.inputName ? { [name]: a } : { [this.inputName]: x, [name]: a }),
            [a],
          );
          g.value.dispose();
          const cf = tf.tidy(() => channelsFirst(g.grads[0] ?? tf.zerosLike(a)));
          g.grads[0]?.dispose();
          owned.push(cf);
          layerGradients[name] = await toHost(cf);
        }
        result.layerGradients = layerGradients;
      }
      if (captures.length > 0) {
        const activations: Record<string, Tensor> = {};
        for (const name of captures) {
          const cf = tf.tidy(() => channelsFirst(act(name)));
          owned.push(cf);
          activations[name] = await toHost(cf);
        }
        result.activations = activations;
      }
      return result;
    } finally {
      for (const t of new Set(owned)) if (!t.isDisposed) t.dispose();
    }
  }

  protected release(): void {
    if (this.disposeModel) this.model.dispose();
  }
}
