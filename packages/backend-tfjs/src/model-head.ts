import * as tf from '@tensorflow/tfjs';
import type { ModelInfo, OutputActivation } from '@xlens/core';
import type { Program, Step } from './graph.js';
import { runProgram, softmaxHead } from './interpreter.js';
import type { FromTfjsOptions } from './options.js';

/** What the backend decided about the model's head. @internal */
export interface HeadDecision {
  /** The softmax step the interpreter passes through (null: none, or kept). */
  readonly strip: Step | null;
  readonly outputKind: ModelInfo['outputKind'];
  readonly outputActivation?: OutputActivation;
  readonly warnings: string[];
}

/**
 * Whether the outputs of a probe pass look like probabilities: non-negative rows summing to 1, for
 * a zero image and a seeded uniform one. Skipped (false) when the input has free dimensions.
 */
function outputsSumToOne(program: Program): boolean {
  const item = program.inputItemShape;
  if (item.some((d) => d < 0)) return false;
  const values = tf.tidy(() => {
    const x = tf.concat([tf.zeros([1, ...item]), tf.randomUniform([1, ...item], 0, 1, 'float32', 7)]);
    return runProgram(program, x, { differentiable: false }).dataSync();
  });
  const k = values.length / 2;
  for (let r = 0; r < 2; r++) {
    let sum = 0;
    for (let i = r * k; i < (r + 1) * k; i++) {
      if (!(values[i] >= -1e-6)) return false;
      sum += values[i];
    }
    if (Math.abs(sum - 1) > 1e-3) return false;
  }
  return k > 1;
}

/**
 * Find the softmax head (or take the one a GraphModel translation already found), decide whether
 * to remove it, and tell logits from probabilities (ADR 0007).
 * @internal
 */
export function decideHead(
  name: string,
  program: Program,
  options: FromTfjsOptions,
  graphHead?: OutputActivation,
): HeadDecision {
  const warnings: string[] = [];
  const head = softmaxHead(program);
  const keep = options.stripSoftmax === false;
  const strip = head && !keep ? head : null;
  const outputActivation: OutputActivation | undefined =
    graphHead ?? (head ? { kind: 'softmax', layer: head.name, removed: strip !== null } : undefined);
  let outputKind = options.outputKind;
  if (outputActivation && !outputActivation.removed) {
    outputKind ??= outputActivation.kind === 'softmax' ? 'probabilities' : 'logits';
    warnings.push(
      `${name} ends in a ${outputActivation.kind} (${outputActivation.layer}), kept by stripSoftmax: false: explained scores are ${outputActivation.kind === 'softmax' ? 'probabilities' : 'log-probabilities'}, whose gradients vanish where the model is confident, and LRP relevance does not sum to a logit`,
    );
  } else if (!outputActivation && outputKind === undefined && outputsSumToOne(program)) {
    outputKind = 'probabilities';
    warnings.push(
      `${name}'s outputs are non-negative and sum to 1 (probabilities), but no softmax layer was found to remove: explained scores are probabilities, whose gradients vanish where the model is confident, and LRP relevance does not sum to a logit. Explain a model that outputs logits if you can`,
    );
  }
  return {
    strip,
    outputKind: outputKind ?? 'logits',
    ...(outputActivation ? { outputActivation } : {}),
    warnings,
  };
}
