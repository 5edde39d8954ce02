import { describe, expect, it } from 'vitest';
import { canonicalJson, type EvaluationPlan, planId, planUnits } from './plan.js';

const plan: EvaluationPlan = {
  model: { ref: 'shapes' },
  dataset: { kind: 'zoo', name: 'shapes', count: 10 },
  methods: [
    { key: 'saliency', id: 'saliency', options: {} },
    { key: 'occlusion', id: 'occlusion', options: { window: 8, stride: 4 } },
  ],
  metrics: [{ id: 'sparseness', options: {} }],
  seed: 1,
  target: 'top1',
  unitSize: 4,
  fingerprint: { model: 'm', dataset: 'd' },
};

describe('planUnits', () => {
  it('covers every item once per method × metric, in ranges of unitSize', () => {
    const units = planUnits(plan, 10);
    expect(units).toHaveLength(3 * 2);
    expect(units.map((u) => [u.start, u.end, u.methodIndex])).toEqual([
      [0, 4, 0],
      [0, 4, 1],
      [4, 8, 0],
      [4, 8, 1],
      [8, 10, 0],
      [8, 10, 1],
    ]);
    expect(new Set(units.map((u) => u.key)).size).toBe(6);
  });

  it('keys units by content: the same plan gives the same keys, another seed or option others', () => {
    const keys = (p: EvaluationPlan) => planUnits(p, 10).map((u) => u.key);
    // Key order inside objects does not matter.
    const reordered = {
      ...plan,
      methods: [plan.methods[0], { options: { stride: 4, window: 8 }, id: 'occlusion', key: 'occlusion' }],
    };
    expect(keys(reordered)).toEqual(keys(plan));
    expect(planId(reordered)).toBe(planId(plan));
    const reseeded = keys({ ...plan, seed: 2 });
    const reoptioned = keys({
      ...plan,
      methods: [plan.methods[0], { ...plan.methods[1], options: { window: 4, stride: 4 } }],
    });
    expect(reseeded.filter((k) => keys(plan).includes(k))).toEqual([]);
    // Any option is part of the plan id, so every key changes with it.
    expect(reoptioned.filter((k) => keys(plan).includes(k))).toEqual([]);
  });

  it('refuses a bad unit size', () => {
    expect(() => planUnits({ ...plan, unitSize: 0 }, 10)).toThrow(/unitSize/);
  });
});

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 2 } })).toBe('{"a":{"c":2,"d":[3,1]},"b":1}');
  });
});
