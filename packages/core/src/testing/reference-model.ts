import { allCapabilities } from '../capabilities.js';
import { InputError, LayerError, XlensError } from '../errors.js';
import { validateInput } from '../explain.js';
import type {
  BackwardRequest,
  BackwardResult,
  CaptureResult,
  ChannelScaling,
  LayerInfo,
  Layout,
  Model,
  ModelInfo,
  WeightParam,
  WeightTransform,
} from '../model.js';
import { firstNonFinite, sameShape, type Tensor } from '../tensor.js';
import { backwardTrace, compileNetwork, forwardTrace, type Network } from './network.js';
import { permuteLayout } from './ops.js';
import { channelsFirstConverter, resolveRules } from './reference-rules.js';
import type { ToyLayer, ToySpec } from './spec.js';

/** Options of `referenceModel`. */
export interface ReferenceModelOptions {
  /** Layout of inputs and input-shaped results (activations stay channels-first). Default `NCHW`. */
  readonly layout?: Layout;
  readonly labels?: readonly string[];
  readonly inputRange?: ModelInfo['inputRange'];
}

/**
 * The oracle: a pure-JS, float64 implementation of the whole `Model` contract for a sequential
 * `ToySpec` (residual `add` layers included), every capability and every backward rule of
 * `rules.ts` included. Backends are tested against it (`conformanceCases`), and methods can be
 * tested on it without a backend.
 *
 * `layers()` lists an `input` layer first (kind `input`, channels-first shape), then the spec's
 * layers; a conv/dense layer's output is taken after its fused activation. `derive` hands
 * conv/dense weights (`O×I×kH×kW`, `out×in`) and biases to the transform, and BatchNorm's γ as
 * `weight`, β as `bias`, mean and variance as `other`. Max-pool ties go to the first maximum in
 * row-major window order. `forwardScaled` is offered too, and `weights` hands out the parameters
 * `derive` would see (BatchNorm's with `statistic` and `epsilon`). Computations run in float64; results
 * are float32.
 */
export function referenceModel(spec: ToySpec, options: ReferenceModelOptions = {}): Model {
  const net = compileNetwork(spec);
  const layout = options.layout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC')
    throw new InputError('invalid-input', `layout ${JSON.stringify(layout)} is not NCHW or NHWC`);
  const [c, h, w] = spec.inputShape;
  const info: ModelInfo = {
    name: spec.name,
    inputShape: layout === 'NCHW' ? [c, h, w] : [h, w, c],
    layout,
    numClasses: spec.numClasses,
    outputKind: 'logits',
    ...(options.labels ? { labels: options.labels } : {}),
    ...(options.inputRange ? { inputRange: options.inputRange } : {}),
  };
  const layerInfos: readonly LayerInfo[] = [
    { name: 'input', kind: 'input', op: 'Input', outputShape: [c, h, w], inputs: [] },
    ...net.layers.map((l) => l.info),
  ];
  const toChannelsFirst = channelsFirstConverter(layout, spec.inputShape);
  const toLayout = (x: Float64Array, n: number): Float32Array =>
    Float32Array.from(layout === 'NCHW' ? x : permuteLayout(x, n, c, h, w, true));
  let disposed = false;

  const alive = (): void => {
    if (disposed) throw new XlensError('disposed', `${spec.name} was disposed`);
  };
  /** Value index of a layer name: 0 for the input, i + 1 for spec layer i. */
  const valueIndex = (name: string, what: string): number => {
    const i = layerInfos.findIndex((l) => l.name === name);
    if (i < 0) {
      throw new LayerError(
        'unknown-layer',
        `${what}: ${spec.name} has no layer ${JSON.stringify(name)}; layers: ${layerInfos.map((l) => l.name).join(', ')}`,
      );
    }
    return i;
  };
  const asTensor = (values: Float64Array, n: number, index: number): Tensor => ({
    data: Float32Array.from(values),
    shape: [n, ...layerInfos[index].outputShape],
  });
  const prepare = (input: Tensor): { x: Float64Array; n: number } => {
    alive();
    validateInput(model, input);
    return { x: toChannelsFirst(input.data, input.shape[0]), n: input.shape[0] };
  };

  const model: Model = {
    info,
    capabilities: new Set(allCapabilities),
    async forward(input) {
      const { x, n } = prepare(input);
      const trace = forwardTrace(net, x, n);
      return asTensor(trace.values[net.layers.length], n, net.layers.length);
    },
    layers() {
      alive();
      return layerInfos;
    },
    async capture(input, names): Promise<CaptureResult> {
      const { x, n } = prepare(input);
      const indices = names.map((name) => valueIndex(name, 'capture'));
      const trace = forwardTrace(net, x, n);
      const activations: Record<string, Tensor> = {};
      indices.forEach((v, k) => {
        activations[names[k]] = asTensor(trace.values[v], n, v);
      });
      return { output: asTensor(trace.values[net.layers.length], n, net.layers.length), activations };
    },
    async backward(request: BackwardRequest): Promise<BackwardResult> {
      const { x, n } = prepare(request.input);
      const seed = request.seed;
      let start: number;
      if (seed?.kind === 'output') start = net.layers.length;
      else if (seed?.kind === 'layer') start = valueIndex(seed.layer, 'layer seed');
      else
        throw new InputError(
          'invalid-input',
          `backward seed ${JSON.stringify((seed as { kind?: unknown })?.kind)} is not output or layer`,
        );
      const seedShape = [n, ...layerInfos[start].outputShape];
      if (
        !seed.cotangent ||
        !sameShape(seed.cotangent.shape, seedShape) ||
        seed.cotangent.data.length !== seedShape.reduce((a, b) => a * b, 1)
      ) {
        throw new InputError(
          'invalid-shape',
          `backward seed cotangent has shape [${seed.cotangent?.shape?.join(', ')}]; expected [${seedShape.join(', ')}] (channels-first)`,
        );
      }
      if (firstNonFinite(seed.cotangent.data) >= 0)
        throw new InputError('non-finite-input', 'backward seed cotangent contains NaN or infinite values');
      const wrt = (request.wrtLayers ?? []).map((name) => valueIndex(name, 'wrtLayers'));
      const captured = (request.capture ?? []).map((name) => valueIndex(name, 'capture'));
      const rules = resolveRules(net, request.rules, n, toChannelsFirst);

      const trace = forwardTrace(net, x, n);
      const reference = rules.reference ? forwardTrace(net, rules.reference, n) : undefined;
      const { grads, inputRelevance } = backwardTrace(net, trace, {
        ...rules,
        start,
        seed: Float64Array.from(seed.cotangent.data),
        reference,
      });
      const result: {
        -readonly [K in keyof BackwardResult]: BackwardResult[K];
      } = { output: asTensor(trace.values[net.layers.length], n, net.layers.length) };
      const g0 = grads[0]!;
      if (request.wrtInput ?? true)
        result.inputGradient = { data: toLayout(g0, n), shape: [...request.input.shape] };
      if (request.relevance) {
        const rel = inputRelevance ?? x.map((v, i) => v * g0[i]);
        result.inputRelevance = { data: toLayout(rel, n), shape: [...request.input.shape] };
      }
      if (request.wrtLayers) {
        const out: Record<string, Tensor> = {};
        wrt.forEach((v, k) => {
          // Layers above the seed do not influence the objective: their cotangent is zero.
          out[request.wrtLayers![k]] = asTensor(grads[v] ?? new Float64Array(trace.values[v].length), n, v);
        });
        result.layerGradients = out;
      }
      if (request.capture) {
        const out: Record<string, Tensor> = {};
        captured.forEach((v, k) => {
          out[request.capture![k]] = asTensor(trace.values[v], n, v);
        });
        result.activations = out;
      }
      return result;
    },
    async forwardScaled(input: Tensor, scaling: ChannelScaling) {
      const { x, n } = prepare(input);
      const index = valueIndex(scaling?.layer, 'forwardScaled');
      const channels = layerInfos[index].outputShape[0];
      const scale = scaling.scale;
      if (!scale || !sameShape(scale.shape, [n, channels]) || scale.data.length !== n * channels) {
        throw new InputError(
          'invalid-shape',
          `forwardScaled: scale has shape [${scale?.shape?.join(', ')}]; expected [${n}, ${channels}] for layer ${scaling.layer}`,
        );
      }
      if (firstNonFinite(scale.data) >= 0)
        throw new InputError('non-finite-input', 'forwardScaled: scale contains NaN or infinite values');
      const trace = forwardTrace(net, x, n, { index, scale: Float64Array.from(scale.data) });
      return asTensor(trace.values[net.layers.length], n, net.layers.length);
    },
    async derive(transform: WeightTransform) {
      alive();
      return referenceModel(deriveSpec(net, transform), options);
    },
    async weights(names?: readonly string[]) {
      alive();
      for (const name of names ?? []) valueIndex(name, 'weights');
      const wanted = names ? new Set(names) : null;
      const params: WeightParam[] = [];
      deriveSpec(net, (p) => {
        if (!wanted || wanted.has(p.layer)) params.push(p);
        return undefined;
      });
      return params;
    },
    dispose() {
      disposed = true;
    },
  };
  return model;
}

/** A copy of the spec with every parameter passed through `transform` (layers() order). */
function deriveSpec(net: Network, transform: WeightTransform): ToySpec {
  const layers = net.layers.map((layer, i): ToyLayer => {
    const l = layer.spec;
    const apply = (
      role: WeightParam['role'],
      key: string,
      values: readonly number[],
      shape: readonly number[],
      extra: Pick<WeightParam, 'statistic' | 'epsilon'> = {},
    ): number[] => {
      const param: WeightParam = {
        layer: l.name,
        layerIndex: i + 1,
        role,
        shape,
        values: Float32Array.from(values),
        ...extra,
      };
      const next = transform(param);
      if (next === undefined) return [...values];
      if (next.length !== values.length) {
        throw new InputError(
          'invalid-shape',
          `weight transform returned ${next.length} values for ${l.name}.${key}; expected ${values.length}`,
        );
      }
      return Array.from(next);
    };
    if (l.type === 'conv' || l.type === 'dense') {
      const shape =
        l.type === 'conv' ? [l.outChannels, l.inChannels, l.kernel, l.kernel] : [l.outFeatures, l.inFeatures];
      const weight = apply('weight', 'weight', l.weight, shape);
      const bias = l.bias ? apply('bias', 'bias', l.bias, [l.bias.length]) : undefined;
      return { ...l, weight, ...(bias ? { bias } : {}) };
    }
    if (l.type === 'batchnorm') {
      const s = [l.gamma.length];
      const epsilon = Math.fround(l.epsilon);
      return {
        ...l,
        gamma: apply('weight', 'gamma', l.gamma, s, { epsilon }),
        beta: apply('bias', 'beta', l.beta, s, { epsilon }),
        mean: apply('other', 'mean', l.mean, s, { statistic: 'mean', epsilon }),
        variance: apply('other', 'variance', l.variance, s, { statistic: 'variance', epsilon }),
      };
    }
    return l;
  });
  return { ...net.spec, layers };
}
