import { describe, expect, it } from 'vitest';
import { TargetError } from './errors.js';
import type { ModelInfo } from './model.js';
import { argmaxRows, checkScoreKind, resolveTarget, scoreCotangent, scoreOf, topK } from './targets.js';
import { tensor } from './tensor.js';

const info: ModelInfo = {
  name: 'm',
  inputShape: [1],
  layout: 'NCHW',
  numClasses: 3,
  outputKind: 'logits',
  labels: ['cat', 'dog', 'eel'],
};
const errorOf = (fn: () => unknown): TargetError => {
  try {
    fn();
  } catch (e) {
    return e as TargetError;
  }
  throw new Error('no error');
};

describe('resolveTarget', () => {
  it('resolves top1, an index for all, one per item, a label and a cotangent', () => {
    const preds = tensor([0, 5, 1, 9, 0, 0], [2, 3]);
    expect(Array.from(resolveTarget('top1', info, 2, 'logit', preds).classes!)).toEqual([1, 0]);
    expect(Array.from(resolveTarget(undefined, info, 2, 'logit', preds).classes!)).toEqual([1, 0]);
    expect(Array.from(resolveTarget(2, info, 3, 'softmax').classes!)).toEqual([2, 2, 2]);
    expect(resolveTarget(2, info, 3, 'softmax').score).toBe('softmax');
    expect(Array.from(resolveTarget([0, 2], info, 2, 'logit').classes!)).toEqual([0, 2]);
    expect(Array.from(resolveTarget([1], info, 3, 'logit').classes!)).toEqual([1, 1, 1]);
    expect(Array.from(resolveTarget('eel', info, 1, 'logit').classes!)).toEqual([2]);
    const c = resolveTarget({ cotangent: tensor([1, -1, 0], [1, 3]) }, info, 2, 'softmax');
    expect(c.classes).toBeNull();
    expect(c.score).toBe('logit');
    expect(Array.from(c.cotangent!.data)).toEqual([1, -1, 0, 1, -1, 0]);
  });
  it('rejects out-of-range, non-integer, wrong-count, unknown-label and malformed targets', () => {
    const cases: [() => unknown, string, RegExp][] = [
      [
        () => resolveTarget(3, info, 1, 'logit'),
        'target-out-of-range',
        /target 3 is out of range: the model has 3 classes \(0\.\.2\)/,
      ],
      [() => resolveTarget(-1, info, 1, 'logit'), 'target-out-of-range', /target -1/],
      [() => resolveTarget([0, 5], info, 2, 'logit'), 'target-out-of-range', /target 5 \(item 1\)/],
      [() => resolveTarget(1.5, info, 1, 'logit'), 'invalid-target', /not an integer class index/],
      [
        () => resolveTarget([0, 1, 2], info, 2, 'logit'),
        'invalid-target',
        /got 3 targets for a batch of 2 items/,
      ],
      [
        () => resolveTarget('cow', info, 1, 'logit'),
        'invalid-target',
        /label "cow" is unknown \(known labels: cat, dog, eel\)/,
      ],
      [
        () => resolveTarget('cat', { ...info, labels: undefined }, 1, 'logit'),
        'invalid-target',
        /the model has no labels/,
      ],
      [
        () => resolveTarget({ cotangent: tensor([1, 2], [1, 2]) }, info, 1, 'logit'),
        'invalid-target',
        /expected \[1, 3\]/,
      ],
      [
        () => resolveTarget({ cotangent: tensor([1, Number.NaN, 0], [1, 3]) }, info, 1, 'logit'),
        'invalid-target',
        /NaN/,
      ],
      [() => resolveTarget(true as never, info, 1, 'logit'), 'invalid-target', /is not top1/],
      [() => resolveTarget('top1', info, 1, 'logit'), 'invalid-target', /needs the model predictions/],
    ];
    for (const [fn, code, message] of cases) {
      const e = errorOf(fn);
      expect(e).toBeInstanceOf(TargetError);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
    }
  });
});

describe('scores', () => {
  const row = Float32Array.of(0.5, -1, 2);
  it('scoreOf per kind', () => {
    const e = [0.5, -1, 2].map(Math.exp);
    const sum = e.reduce((a, b) => a + b, 0);
    expect(scoreOf(row, 2, 'logit')).toBe(2);
    expect(scoreOf(row, 0, 'softmax')).toBeCloseTo(e[0] / sum, 6);
    expect(scoreOf(row, 0, 'log-softmax')).toBeCloseTo(Math.log(e[0] / sum), 6);
    expect(scoreOf(row, 1, 'sigmoid')).toBeCloseTo(1 / (1 + Math.exp(1)), 6);
  });
  it('scoreCotangent is the gradient of scoreOf (central differences)', () => {
    for (const kind of ['logit', 'softmax', 'log-softmax', 'sigmoid'] as const) {
      for (const c of [0, 2]) {
        const g = scoreCotangent(tensor(row, [1, 3]), [c], 3, kind);
        for (let j = 0; j < 3; j++) {
          const plus = row.slice();
          const minus = row.slice();
          plus[j] += 1e-2;
          minus[j] -= 1e-2;
          expect(g.data[j], `${kind} class ${c} output ${j}`).toBeCloseTo(
            (scoreOf(plus, c, kind) - scoreOf(minus, c, kind)) / 2e-2,
            3,
          );
        }
      }
    }
  });
  it('non-logit cotangents need the output; bad score kinds are named', () => {
    expect(() => scoreCotangent(null, [0], 3, 'softmax')).toThrow(/needs the forward output/);
    expect(Array.from(scoreCotangent(null, [1], 3, 'logit').data)).toEqual([0, 1, 0]);
    expect(() => checkScoreKind('prob')).toThrow(
      /score "prob" is not one of logit, softmax, log-softmax, sigmoid/,
    );
  });
  it('argmaxRows and topK', () => {
    expect(Array.from(argmaxRows(tensor([1, 3, 2, 7, 7, 0], [2, 3])))).toEqual([1, 0]);
    expect(topK([0.1, 0.9, 0.5], 2)).toEqual([1, 2]);
  });
});
