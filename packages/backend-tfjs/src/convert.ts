import * as tf from '@tensorflow/tfjs';
import { InputError, type Tensor, UnsupportedError } from '@xlens/core';

/** A tfjs tensor from a host tensor (copied by tfjs). @internal */
export function toTf(t: Tensor): tf.Tensor {
  return tf.tensor(t.data, [...t.shape], 'float32');
}

/** A host tensor from a tfjs tensor (the tfjs tensor is not disposed). @internal */
export async function toHost(t: tf.Tensor): Promise<Tensor> {
  const d = await t.data();
  return { data: d instanceof Float32Array ? d : Float32Array.from(d), shape: [...t.shape] };
}

/** Axis order taking a channels-last batch (`N×…×C`) to channels-first (`N×C×…`). @internal */
export function toFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Axis order taking channels-first back to channels-last. @internal */
export function toLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** Channels-last activation → channels-first (rank ≤ 2 unchanged). @internal */
export function channelsFirst(t: tf.Tensor): tf.Tensor {
  return t.rank <= 2 ? t : tf.transpose(t, toFirstPerm(t.rank));
}

/** Channels-first → channels-last (rank ≤ 2 unchanged). @internal */
export function channelsLast(t: tf.Tensor): tf.Tensor {
  return t.rank <= 2 ? t : tf.transpose(t, toLastPerm(t.rank));
}

/**
 * Throw unless tfjs has gradient functions registered. `@tensorflow/tfjs-core` alone registers
 * none; without this check `tf.grad` fails deep inside tfjs with "gradient function not found".
 * @internal
 */
export function assertGradients(lookup: (kernel: string) => unknown = tf.getGradient): void {
  if (!lookup('Conv2D') || !lookup('Relu') || !lookup('BatchMatMul')) {
    throw new UnsupportedError(
      'unsupported',
      'tfjs has no gradient functions registered (Conv2D, Relu, BatchMatMul): this happens when only @tensorflow/tfjs-core is loaded. Import @tensorflow/tfjs (the umbrella package registers them) from the same copy of tfjs-core this backend uses',
    );
  }
}

/** Check an input batch against a per-item shape (`-1` free) and return its batch size. @internal */
export function checkInput(name: string, input: Tensor, item: readonly number[], layout: string): number {
  if (!input || !(input.data instanceof Float32Array) || !Array.isArray(input.shape)) {
    throw new InputError('invalid-input', 'input must be a tensor { data: Float32Array, shape: number[] }');
  }
  const shown = `[N, ${item.join(', ')}] (${layout})`;
  const ok =
    input.shape.length === item.length + 1 && item.every((d, i) => d < 0 || input.shape[i + 1] === d);
  if (!ok)
    throw new InputError(
      'invalid-shape',
      `input shape [${input.shape.join(', ')}] does not match ${name}'s input ${shown}`,
    );
  const n = input.shape.reduce((a, b) => a * b, 1);
  if (n !== input.data.length) {
    throw new InputError(
      'invalid-shape',
      `input has ${input.data.length} values but shape [${input.shape.join(', ')}] needs ${n}`,
    );
  }
  return input.shape[0];
}

/** The parts of tfjs's engine state that a failed gradient pass leaves behind. */
interface TapeState {
  gradientDepth: number;
  activeTape: { saved?: tf.Tensor[] }[] | null;
}

/**
 * `tf.engine().gradients(f, xs)` that cleans up when `f` throws: tfjs then leaves the tape, and
 * the tensors its ops saved for the backward pass, alive until the next gradient call.
 * @internal
 */
export function gradientsOf(
  f: () => tf.Tensor,
  xs: tf.Tensor[],
): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] } {
  try {
    return tf.engine().gradients(f, xs, undefined, true);
  } catch (e) {
    const state = (tf.engine() as unknown as { state: TapeState }).state;
    if (state.gradientDepth === 0 && state.activeTape) {
      const tape = state.activeTape;
      state.activeTape = null;
      try {
        for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      } catch {
        // After a wasm trap freeing may fail too; the original error matters more.
      }
    }
    throw e;
  }
}
