import { makeContext, resolveTarget, type Tensor } from '@xlens/core';
import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import type { Objective } from './objective.js';
import { checkObjectiveOn, compileObjective, type Term } from './terms.js';

const model = referenceModel(tinyCnn());
const input: Tensor = { data: new Float32Array(2 * 3 * 8 * 8), shape: [2, 3, 8, 8] };
const ctx = (score: 'logit' | 'softmax' = 'logit') =>
  makeContext<unknown>({
    method: 'test',
    model,
    input,
    target: resolveTarget([1, 2], model.info, 2, score),
    options: {},
    run: {},
    reportProgress: false,
  });

/** Check each term's cotangent against finite differences of its value, for every item. */
function checkCotangent(term: Term, all: Float32Array[]): void {
  for (let item = 0; item < all.length; item++) {
    const got = new Float32Array(all[item].length);
    term.addCotangent(got, all[item], item, all);
    for (const q of [0, 1, Math.floor(got.length / 2), got.length - 1]) {
      const at = (d: number) => {
        const moved = all.map((a) => a.slice());
        moved[item][q] += d;
        // The total over items: a batch term's cotangent is the item's share of the sum.
        return moved.reduce((s, a, i) => s + term.value(a, i, moved), 0);
      };
      expect(got[q]).toBeCloseTo((at(1e-3) - at(-1e-3)) / 2e-3, 3);
    }
  }
}

const acts = (n: number, size: number, seed: number) =>
  Array.from({ length: n }, (_, i) =>
    Float32Array.from({ length: size }, (_, q) => Math.sin(seed + i * 3.1 + q * 0.37)),
  );

describe('objective terms', () => {
  it('have cotangents that are the gradients of their values', () => {
    const cases: Objective[] = [
      { kind: 'class', index: 2, score: 'probability' },
      { kind: 'class', index: 1, score: 'log-probability' },
      { kind: 'channel', layer: 'conv2', index: 3 },
      { kind: 'unit', layer: 'conv2', index: 3, y: 1, x: 2 },
      { kind: 'layer', layer: 'conv2' },
      { kind: 'diversity', layer: 'conv2' },
    ];
    for (const objective of cases) {
      const [term] = compileObjective(ctx(), objective);
      const size = term.shape.reduce((a, b) => a * b, 1);
      checkCotangent(term, acts(3, size, 1));
    }
  });
  it('target follows the run score: logit needs no activation, softmax does', () => {
    const [logit] = compileObjective(ctx('logit'), { kind: 'target' });
    expect(logit.needsActivation).toBe(false);
    const [soft] = compileObjective(ctx('softmax'), { kind: 'target' });
    expect(soft.needsActivation).toBe(true);
    checkCotangent(soft, acts(2, 5, 2));
    const out = new Float32Array(5);
    logit.addCotangent(out, null, 1, null);
    expect(Array.from(out)).toEqual([0, 0, 1, 0, 0]);
  });
  it('diversity pushes items apart and is 0 for a batch of one', () => {
    const [term] = compileObjective(ctx(), { kind: 'diversity', layer: 'conv2' });
    const one = acts(1, 6 * 4 * 4, 3);
    expect(term.value(one[0], 0, one)).toBe(0);
    const same = [one[0], one[0].slice()];
    expect(term.value(same[0], 0, same)).toBeCloseTo(-1, 6);
  });
  it('are checked against the model before compute', () => {
    expect(() => checkObjectiveOn(model, { kind: 'channel', layer: 'conv2', index: 8 }, 'am')).toThrow(
      /index 8 is out of range; layer conv2 has 6 channels/,
    );
    expect(() =>
      checkObjectiveOn(model, { kind: 'unit', layer: 'conv2', index: 0, y: 9, x: 0 }, 'am'),
    ).toThrow(/outside the 4×4 map/);
    expect(checkObjectiveOn(model, { kind: 'class', index: 1 }, 'am')).toEqual(['gradients']);
    expect(checkObjectiveOn(model, { kind: 'layer', layer: 'conv1' }, 'am')).toContain('layer-gradients');
  });
});
