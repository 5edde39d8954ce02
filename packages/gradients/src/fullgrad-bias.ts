import { type LayerInfo, type Model, type Tensor, UnsupportedError } from '@xlens/core';

/** Fused activations whose derivative can be recovered from the layer's output y. */
const derivatives: Record<string, (y: number) => number> = {
  linear: () => 1,
  relu: (y) => (y > 0 ? 1 : 0),
  relu6: (y) => (y > 0 && y < 6 ? 1 : 0),
  sigmoid: (y) => y * (1 - y),
  tanh: (y) => 1 - y * y,
};

/** Fused activations with act(0) = 0, so zeroing a layer's parameters zeroes its output. */
const zeroPreserving = new Set(['linear', 'relu', 'relu6', 'tanh']);

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

/** Why a BatchNorm's effective bias cannot be read, or null when it can. */
export function batchNormProblem(bn: LayerInfo, byName: ReadonlyMap<string, LayerInfo>): string | null {
  const feed = byName.get(bn.inputs[0] ?? '');
  if (
    bn.inputs.length !== 1 ||
    !feed ||
    (feed.kind !== 'conv' && feed.kind !== 'dense') ||
    !feed.hasWeights
  ) {
    return `batchnorm ${bn.name} does not directly follow a conv or dense layer`;
  }
  if (!zeroPreserving.has(feed.activation ?? 'linear'))
    return `batchnorm ${bn.name} follows ${feed.name}, whose activation ${feed.activation} is not 0 at 0`;
  return null;
}

const cache = new WeakMap<Model, Map<string, Promise<Map<string, Float32Array>>>>();

/**
 * The bias of each layer, per output channel. The contract has no weight reader, so the values
 * come from `derive`: its transform sees every parameter (we record the `bias` ones). A BatchNorm's
 * effective bias β − μγ/√(σ²+ε) is not a single parameter; it is read exactly as the BN's output
 * in a derived model whose feeding conv/dense layer has all-zero parameters (BN(0) = that bias).
 * Cached per model: models are immutable under the contract.
 */
export function readBiases(
  model: Model,
  layers: readonly LayerInfo[],
  itemShape: readonly number[],
): Promise<Map<string, Float32Array>> {
  const key = layers.map((l) => l.name).join('\u0000');
  let perModel = cache.get(model);
  if (!perModel) {
    perModel = new Map();
    cache.set(model, perModel);
  }
  let found = perModel.get(key);
  if (!found) {
    found = read(model, layers, itemShape);
    perModel.set(key, found);
    found.catch(() => perModel!.delete(key));
  }
  return found;
}

async function read(
  model: Model,
  layers: readonly LayerInfo[],
  itemShape: readonly number[],
): Promise<Map<string, Float32Array>> {
  const linear = new Set(layers.filter((l) => l.kind !== 'batchnorm').map((l) => l.name));
  const norms = layers.filter((l) => l.kind === 'batchnorm');
  const feeding = new Set(norms.map((l) => l.inputs[0]));
  const table = new Map<string, Float32Array>();
  const derived = await model.derive!((p) => {
    if (p.role === 'bias' && linear.has(p.layer)) table.set(p.layer, p.values.slice());
    return feeding.has(p.layer) && p.role !== 'other' ? new Float32Array(p.values.length) : undefined;
  });
  try {
    if (norms.length > 0) {
      const size = itemShape.reduce((a, b) => a * b, 1);
      const input = { data: new Float32Array(size), shape: [1, ...itemShape] };
      const captured = await derived.capture!(
        input,
        norms.map((l) => l.name),
      );
      for (const l of norms) {
        const a = captured.activations[l.name];
        const channels = a.shape[1];
        const plane = a.data.length / channels;
        table.set(
          l.name,
          Float32Array.from({ length: channels }, (_, c) => a.data[c * plane]),
        );
      }
    }
  } finally {
    await derived.dispose();
  }
  for (const name of linear) {
    if (!table.has(name))
      throw new UnsupportedError(
        'unsupported',
        `fullgrad: layer ${name} reports a bias but model.derive() did not expose a bias parameter for it`,
      );
  }
  return table;
}
