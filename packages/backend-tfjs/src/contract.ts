import * as tf from '@tensorflow/tfjs';
import { channelsFirst, channelsLast } from './convert.js';
import type { Program, Step } from './graph.js';

/**
 * Per-feature layers: on a flattened vector they act feature by feature, so they keep the order
 * of the features a Flatten produced (and commute with permuting them).
 */
const featureWise = new Set([
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'ThresholdedReLU',
  'Activation',
  'Softmax',
  'BatchNormalization',
  'Dropout',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
]);

/**
 * The spatial shape (`[H, W, C]`) whose Flatten produced `step`'s output, directly or through
 * per-feature layers, or null. The contract's activations are channels-first, so such a vector
 * is reported in (C, H, W) order, as a channels-first framework would flatten it.
 * @internal
 */
export function flattenedFrom(program: Program, step: Step | null): readonly number[] | null {
  let s = step;
  while (s && featureWise.has(s.className) && s.inputs.length === 1 && s.itemShape.length === 1)
    s = program.producer.get(s.inputs[0]) ?? null;
  if (s?.className !== 'Flatten') return null;
  const slot = s.inputs[0];
  const shape = slot === program.inputSlot ? program.inputItemShape : program.producer.get(slot)?.itemShape;
  return shape && shape.length === 3 && shape.every((d) => d > 0) ? shape : null;
}

/**
 * For a Dense step: the `[H, W, C]` map its input features were flattened from, or null. Its
 * canonical weight (`out×in`) then has `in` in (C, H, W) order, matching the captured input.
 * @internal
 */
export function denseFlattenedFrom(program: Program, step: Step): readonly number[] | null {
  if (step.className !== 'Dense' || step.alias) return null;
  return flattenedFrom(program, program.producer.get(step.inputs[0]) ?? null);
}

/** A tfjs activation (NHWC) of `step` in the contract's channels-first form. @internal */
export function toContract(program: Program, step: Step | null, t: tf.Tensor): tf.Tensor {
  const from = flattenedFrom(program, step);
  if (!from) return channelsFirst(t);
  return tf.tidy(() => tf.transpose(tf.reshape(t, [-1, ...from]), [0, 3, 1, 2]).reshape([t.shape[0], -1]));
}

/** Inverse of `toContract`: a channels-first tensor in tfjs's layout for `step`. @internal */
export function fromContract(program: Program, step: Step | null, t: tf.Tensor): tf.Tensor {
  const from = flattenedFrom(program, step);
  if (!from) return channelsLast(t);
  const [h, w, c] = from;
  return tf.tidy(() => tf.transpose(tf.reshape(t, [-1, c, h, w]), [0, 2, 3, 1]).reshape([t.shape[0], -1]));
}
