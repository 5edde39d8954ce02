import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '@xlens/core';
import type { ToyLayer, ToySpec } from '@xlens/core/testing';

/** ToySpec conv weights `O×I×k×k` → tfjs `k×k×I×O`. */
function convKernel(l: Extract<ToyLayer, { type: 'conv' }>): tf.Tensor {
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d([...l.weight], [l.outChannels, l.inChannels, l.kernel, l.kernel]), [2, 3, 1, 0]),
  );
}

/**
 * ToySpec dense weights `out×in` → tfjs `in×out`. After a flatten of a channels-first `[C, H, W]`
 * map, ToySpec's input index is `c·H·W + h·W + w` while tfjs flattens NHWC as `h·W·C + w·C + c`,
 * so the rows are permuted to match.
 */
function denseKernel(
  l: Extract<ToyLayer, { type: 'dense' }>,
  flattenedFrom: readonly number[] | null,
): tf.Tensor {
  return tf.tidy(() => {
    const w = tf.tensor2d([...l.weight], [l.outFeatures, l.inFeatures]);
    if (!flattenedFrom) return w.transpose();
    const [h, wd, c] = flattenedFrom;
    // [out, C, H, W] → [H, W, C, out] → [H·W·C, out]
    return w
      .reshape([l.outFeatures, c, h, wd])
      .transpose([2, 3, 1, 0])
      .reshape([h * wd * c, l.outFeatures]);
  });
}

/**
 * Build a tfjs LayersModel (functional API, NHWC input `[H, W, C]`) from a backend-neutral
 * `ToySpec`, with the spec's weights. Layer names are the spec's.
 */
export function buildToyModel(spec: ToySpec): tf.LayersModel {
  const [c, h, w] = spec.inputShape;
  const input = tf.input({ shape: [h, w, c], name: 'input' });
  let x: tf.SymbolicTensor = input;
  // Outputs by layer name, for the second addend of `add` layers.
  const named = new Map<string, tf.SymbolicTensor>([['input', input]]);
  let flattenedFrom: number[] | null = null;
  const assignments: [tf.layers.Layer, tf.Tensor[]][] = [];
  for (const l of spec.layers) {
    const before = x.shape.slice(1) as number[];
    let layer: tf.layers.Layer;
    let weights: tf.Tensor[] = [];
    switch (l.type) {
      case 'conv':
        if ((l.padding ?? 'valid') === 'same' && (l.stride ?? 1) !== 1)
          throw new UnsupportedError('unsupported', `toy conv ${l.name}: same padding needs stride 1`);
        layer = tf.layers.conv2d({
          name: l.name,
          filters: l.outChannels,
          kernelSize: l.kernel,
          strides: l.stride ?? 1,
          padding: l.padding ?? 'valid',
          useBias: l.bias !== undefined,
          activation: l.activation ?? 'linear',
        });
        weights = [convKernel(l), ...(l.bias ? [tf.tensor1d([...l.bias])] : [])];
        break;
      case 'dense':
        layer = tf.layers.dense({
          name: l.name,
          units: l.outFeatures,
          useBias: l.bias !== undefined,
          activation: l.activation ?? 'linear',
        });
        weights = [denseKernel(l, flattenedFrom), ...(l.bias ? [tf.tensor1d([...l.bias])] : [])];
        break;
      case 'relu':
        layer = tf.layers.reLU({ name: l.name });
        break;
      case 'max-pool':
        layer = tf.layers.maxPooling2d({ name: l.name, poolSize: l.size, strides: l.size });
        break;
      case 'avg-pool':
        layer = tf.layers.averagePooling2d({ name: l.name, poolSize: l.size, strides: l.size });
        break;
      case 'global-avg-pool':
        layer = tf.layers.globalAveragePooling2d({ name: l.name });
        break;
      case 'flatten':
        layer = tf.layers.flatten({ name: l.name });
        break;
      case 'batchnorm':
        layer = tf.layers.batchNormalization({ name: l.name, epsilon: l.epsilon });
        weights = [l.gamma, l.beta, l.mean, l.variance].map((v) => tf.tensor1d([...v]));
        break;
      case 'add':
        layer = tf.layers.add({ name: l.name });
        break;
    }
    const other = l.type === 'add' ? named.get(l.from) : undefined;
    if (l.type === 'add' && !other)
      throw new UnsupportedError('unsupported', `toy add ${l.name}: ${l.from} is not an earlier layer`);
    x = layer.apply(other ? [x, other] : x) as tf.SymbolicTensor;
    named.set(l.name, x);
    if (weights.length > 0) assignments.push([layer, weights]);
    // A dense layer reads a flatten's channels-first order; element-wise layers keep it.
    if (l.type === 'flatten') flattenedFrom = before.length === 3 ? before : null;
    else if (l.type !== 'relu') flattenedFrom = null;
  }
  const model = tf.model({ inputs: input, outputs: x, name: spec.name });
  for (const [layer, weights] of assignments) {
    layer.setWeights(weights);
    for (const t of weights) t.dispose();
  }
  return model;
}
