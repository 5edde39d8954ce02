import { type LayerInfo, type Model, type Tensor, UnsupportedError } from '@xlens/core';

/** Fused activations whose derivative can be recovered from the layer's output y. */
const derivatives: Record<string, (y: number) => number> = {
  linear: () => 1,
  relu: (y) => (y > 0 ? 1 : 0),
  relu6: (y) => (y > 0 && y < 6 ? 1 : 0),
  sigmoid: (y) => y * (1 - y),
  tanh: (y) => 1 - y * y,
};

/** Whether the derivative of a layer's fused activation can be recovered from its output. */
export function hasKnownActivation(layer: LayerInfo): boolean {
  return layer.activation === undefined || layer.activation in derivatives;
}

/**
 * Turn the cotangent at a layer's output (after its fused activation, as the `Model` contract
 * returns it) into the cotangent at its pre-activation z = Wx + b: `g ⊙ act′(z)`, with act′
 * recovered from the output y itself.
 */
export function preActivationGradient(
  layer: LayerInfo,
  gradient: Tensor,
  output: Tensor | undefined,
): Tensor {
  const act = layer.activation ?? 'linear';
  if (act === 'linear') return gradient;
  const d = derivatives[act];
  if (!d || !output)
    throw new UnsupportedError(
      'unsupported',
      `fullgrad: cannot undo the fused activation ${act} of layer ${layer.name}`,
    );
  const out = new Float32Array(gradient.data.length);
  for (let e = 0; e < out.length; e++) out[e] = gradient.data[e] * d(output.data[e]);
  return { data: out, shape: gradient.shape };
}

const cache = new WeakMap<Model, Map<string, Promise<Map<string, Float32Array>>>>();

/**
 * The bias of each layer, per output channel, read through the `weights` capability (ADR 0006):
 * a conv/dense layer's `bias` parameter, and a BatchNorm's effective bias β − μγ/√(σ²+ε) from its
 * γ, β, statistics and ε (a missing γ counts as 1, a missing β as 0, as in Keras without
 * `scale`/`center`). Cached per model: models are immutable under the contract.
 */
export function readBiases(model: Model, layers: readonly LayerInfo[]): Promise<Map<string, Float32Array>> {
  const key = layers.map((l) => l.name).join('\u0000');
  let perModel = cache.get(model);
  if (!perModel) {
    perModel = new Map();
    cache.set(model, perModel);
  }
  let found = perModel.get(key);
  if (!found) {
    found = read(model, layers);
    perModel.set(key, found);
    found.catch(() => perModel!.delete(key));
  }
  return found;
}

async function read(model: Model, layers: readonly LayerInfo[]): Promise<Map<string, Float32Array>> {
  const params = await model.weights!(layers.map((l) => l.name));
  const table = new Map<string, Float32Array>();
  for (const l of layers) {
    const own = params.filter((p) => p.layer === l.name);
    const bias = own.find((p) => p.role === 'bias')?.values;
    if (l.kind !== 'batchnorm') {
      if (!bias)
        throw new UnsupportedError(
          'unsupported',
          `fullgrad: layer ${l.name} reports a bias but model.weights() has no bias parameter for it`,
        );
      table.set(l.name, bias.slice());
      continue;
    }
    const mean = own.find((p) => p.statistic === 'mean')?.values;
    const variance = own.find((p) => p.statistic === 'variance')?.values;
    const epsilon = own.find((p) => p.epsilon !== undefined)?.epsilon;
    if (!mean || !variance || epsilon === undefined)
      throw new UnsupportedError(
        'unsupported',
        `fullgrad: batchnorm ${l.name}: model.weights() does not name its moving mean, variance and epsilon`,
      );
    const gamma = own.find((p) => p.role === 'weight')?.values;
    table.set(
      l.name,
      Float32Array.from(
        mean,
        (m, c) => (bias?.[c] ?? 0) - (m * (gamma?.[c] ?? 1)) / Math.sqrt(variance[c] + epsilon),
      ),
    );
  }
  return table;
}
