import {
  abs,
  batchStream,
  defineExplainer,
  InputError,
  imageDims,
  type LayerInfo,
  type Model,
  minMaxPerItem,
  reduceChannels,
  resizeBilinear,
  type Tensor,
  UnsupportedError,
  zipWith,
} from '@xlens/core';
import { hasKnownActivation, preActivationGradient, readBiases } from './fullgrad-bias.js';

/** Options of `fullgrad` (none). */
export type FullGradOptions = Record<never, never>;

/** Layers carrying a bias (BatchNorm always has an effective one), split into usable and skipped. */
function biasLayers(model: Model): { used: LayerInfo[]; skipped: string[] } {
  const used: LayerInfo[] = [];
  const skipped: string[] = [];
  for (const l of model.layers!()) {
    // A BatchNorm's effective bias is read from its parameters wherever it sits (ADR 0006).
    if (l.kind === 'batchnorm') used.push(l);
    else if (l.hasBias) {
      if (hasKnownActivation(l)) used.push(l);
      else if (l.outputShape.length === 3) {
        throw new UnsupportedError(
          'unsupported',
          `fullgrad: layer ${l.name} has the fused activation ${l.activation}, whose derivative cannot be recovered from its output (supported: linear, relu, relu6, sigmoid, tanh)`,
        );
      } else
        skipped.push(
          `layer ${l.name}: fused activation ${l.activation} is not undone, so its bias term is left out of the completeness gap`,
        );
    }
  }
  return { used, skipped };
}

/** ψ of the paper: absolute value, min–max per item, channels summed: `N×C×h×w` → `N×h×w`. */
function postProcess(t: Tensor): Tensor {
  return reduceChannels(minMaxPerItem(abs(t)), 'NCHW', 'sum');
}

/**
 * Srinivas & Fleuret, 2019, "Full-Gradient Representation for Neural Network Visualization",
 * NeurIPS, arXiv:1905.00780. FullGrad: ψ(∇ₓf ⊙ x) + Σ over spatial layers with a bias of
 * resize(ψ(∇_z f ⊙ b)), where ∇_z f is the gradient at the layer's pre-activation output z = Wx + b
 * (the fused activation is undone from the captured output), b the per-channel bias (a BatchNorm's
 * effective bias β − μγ/√(σ²+ε)), and ψ = abs, min–max per item, sum over channels; bilinear
 * resize with core's pixel-centre convention. Pixel map. `extras.completenessGap` reports
 * Σ ∇ₓf ⊙ x + Σ_layers Σ ∇_z f ⊙ b − f(x) per item, 0 for logits of piecewise-linear nets.
 * Items are streamed in chunks of `batchSize`, each finished before the next is run.
 */
export const fullgrad = defineExplainer<FullGradOptions, { completenessGap: number[] }, 'fullgrad'>({
  id: 'fullgrad',
  family: 'gradients',
  title: 'FullGrad',
  citation:
    'Srinivas & Fleuret, 2019, Full-Gradient Representation for Neural Network Visualization, NeurIPS, arXiv:1905.00780',
  description:
    'Input-gradient ⊙ input plus the bias-gradients of every convolutional layer, each made positive, normalised and upsampled.',
  requires: ['layers', 'gradients', 'layer-gradients', 'capture', 'weights'],
  mapKind: 'pixel',
  defaults: {},
  options: {},
  validate(_options, model, input) {
    if (input.shape.length !== 4) {
      throw new InputError(
        'invalid-shape',
        `fullgrad makes a per-pixel map of image batches (rank 4); got shape [${input.shape.join(', ')}]`,
      );
    }
    biasLayers(model);
  },
  async attribute(ctx) {
    const { input, model } = ctx;
    const layout = model.info.layout;
    const { n, h, w } = imageDims(input.shape, layout);
    const { used, skipped } = biasLayers(model);
    const biases = await readBiases(model, used);
    const fused = used.filter((l) => (l.activation ?? 'linear') !== 'linear').map((l) => l.name);
    const map = new Float32Array(n * h * w);
    const gap = new Array<number>(n);
    // Every term is per item, so each chunk of items is finished (and its gradients dropped) in turn.
    await ctx.streamGradient(
      { ...batchStream(input), wrtLayers: used.map((l) => l.name), capture: fused },
      (chunk) => {
        const rows = chunk.end - chunk.start;
        const gx = zipWith(chunk.input, chunk.inputGradient!, (x, g) => x * g);
        const total = new Float64Array(rows);
        const per = gx.data.length / rows;
        for (let i = 0; i < rows; i++) for (let j = 0; j < per; j++) total[i] += gx.data[i * per + j];
        const part = reduceChannels(minMaxPerItem(abs(gx)), layout, 'sum');
        for (const layer of used) {
          const gz = preActivationGradient(
            layer,
            chunk.layerGradients[layer.name],
            chunk.activations[layer.name],
          );
          const bias = biases.get(layer.name)!;
          const channels = gz.shape[1];
          const plane = gz.data.length / (rows * channels);
          const term = new Float32Array(gz.data.length);
          for (let e = 0; e < term.length; e++) {
            term[e] = gz.data[e] * bias[Math.floor(e / plane) % channels];
            total[Math.floor(e / (channels * plane))] += term[e];
          }
          if (gz.shape.length !== 4) continue; // vector layers count for completeness, not for the map
          const up = resizeBilinear(postProcess({ data: term, shape: gz.shape }), h, w);
          for (let e = 0; e < part.data.length; e++) part.data[e] += up.data[e];
        }
        map.set(part.data, chunk.start * h * w);
        const scores = ctx.scores(chunk.output, chunk.items);
        for (let i = 0; i < rows; i++) gap[chunk.start + i] = total[i] - scores[i];
      },
    );
    return {
      map: { data: map, shape: [n, h, w] },
      extras: { completenessGap: gap },
      warnings: skipped.map((s) => `fullgrad: ${s}`),
    };
  },
});
