import type { BackwardRequest, LinearRule, Model } from '@xlens/core';
import {
  compareBackward,
  oneHotRows,
  randomInput,
  randomTensor,
  referenceModel,
  residualCnn,
  tinyCnn,
  tinyDense,
} from '@xlens/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { noLeak, useWasm } from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';
import { buildProgram } from './graph.js';
import { readsNonNegative } from './linear-rules.js';
import { buildToyModel } from './testing/toy.js';

beforeAll(useWasm);

/** A tinyDense-like net: input [2, 4, 4] → flatten → fc1 (ReLU) → fc2, other weights. */
const spec = tinyDense(7);
const eps: LinearRule = { kind: 'epsilon', epsilon: 0.01 };

function request(m: Model, rules: Record<string, LinearRule>): BackwardRequest {
  return {
    input: randomInput(m, 3, 21),
    seed: { kind: 'output', cotangent: oneHotRows(3, m.info.numClasses, 1) },
    rules: { linear: rules },
    relevance: true,
  };
}

describe('linear rules on a Dense fed by the input through a Flatten (against the reference)', () => {
  const inputOnly: [string, (m: Model) => LinearRule][] = [
    ['z-box with number bounds', () => ({ kind: 'z-box', low: -1, high: 1 })],
    [
      'z-box with per-item tensor bounds',
      (m) => ({ kind: 'z-box', low: randomInput(m, 3, 22, -2, -1), high: randomInput(m, 3, 23, 1, 2) }),
    ],
    ['w-square', () => ({ kind: 'w-square' })],
    ['flat', () => ({ kind: 'flat' })],
  ];
  for (const [name, rule] of inputOnly) {
    it(`accepts ${name} and gives the reference inputRelevance`, async () => {
      const model = fromTfjs(buildToyModel(spec));
      const ref = referenceModel(spec, { layout: 'NHWC' });
      await noLeak(() =>
        compareBackward(name, model, ref, request(model, { fc1: rule(model), fc2: eps }), {
          inputRelevance: true,
        }),
      );
      model.dispose();
    });
  }

  it('rejects an input-only rule on the Dense after it, as the reference does', async () => {
    const model = fromTfjs(buildToyModel(spec));
    const ref = referenceModel(spec, { layout: 'NHWC' });
    const req = request(model, { fc1: eps, fc2: { kind: 'flat' } });
    await expect(ref.backward!(req)).rejects.toMatchObject({ code: 'unsupported-rule' });
    await expect(model.backward!(req)).rejects.toMatchObject({ code: 'unsupported-rule' });
    model.dispose();
  });

  it('reads a pattern weight for a Dense after a Flatten in (C, H, W) order', async () => {
    const model = fromTfjs(buildToyModel(spec));
    const ref = referenceModel(spec, { layout: 'NHWC' });
    const pattern: LinearRule = { kind: 'pattern', weight: randomTensor([8, 32], 24) };
    await noLeak(() =>
      compareBackward('pattern', model, ref, request(model, { fc1: pattern, fc2: { kind: 'gradient' } }), {
        inputGradient: true,
      }),
    );
    model.dispose();
  });
});

describe('readsNonNegative (which sign-aware rules may skip their x < 0 branch)', () => {
  const reads = (spec: ReturnType<typeof tinyCnn>): Record<string, boolean> => {
    const model = buildToyModel(spec);
    const program = buildProgram(model);
    const out = Object.fromEntries(
      spec.layers
        .filter((l) => l.type === 'conv' || l.type === 'dense')
        .map((l) => [l.name, readsNonNegative(program, program.byName.get(l.name)!)]),
    );
    model.dispose();
    return out;
  };
  it('sees a fused or separate ReLU through pooling, and not the model input', () => {
    expect(reads(tinyCnn())).toEqual({ conv1: false, conv2: true, fc: true });
  });
  it('does not trust BatchNorm outputs', () => {
    expect(reads(residualCnn())).toEqual({ conv1: false, conv2: false, fc: true });
  });
});
