import * as tf from '@tensorflow/tfjs';
import { channelsFirst, channelsLast } from './convert.js';
import type { Program, Step } from './graph.js';

/**
 * The spatial shape a Flatten step flattens (`[H, W, C]`), or null. The contract's activations
 * are channels-first, so a flattened NHWC map is reported in (C, H, W) order, as a
 * channels-first framework would flatten it.
 * @internal
 */
export function flattenedFrom(program: Program, step: Step | null): readonly number[] | null {
  if (!step || step.className !== 'Flatten') return null;
  const slot = step.inputs[0];
  const shape = slot === program.inputSlot ? program.inputItemShape : program.producer.get(slot)?.itemShape;
  return shape && shape.length === 3 ? shape : null;
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
