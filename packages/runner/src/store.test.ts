import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type EvaluationPlan, planUnits, type UnitResult } from './plan.js';
import { ResultStore, scoresCsv, scoresJsonl } from './store.js';

const plan: EvaluationPlan = {
  model: { ref: 'shapes' },
  dataset: { kind: 'zoo', name: 'shapes', count: 3 },
  methods: [{ key: 'saliency', id: 'saliency', options: {} }],
  metrics: [{ id: 'sparseness', options: {} }],
  seed: 0,
  target: 'top1',
  unitSize: 3,
  fingerprint: { model: 'm', dataset: 'd' },
};

const result = (key: string, scores: (number | null)[]): UnitResult => ({
  key,
  items: scores.map((score, item) => ({
    item,
    name: `n,${item}`,
    target: 1,
    score,
    ...(score === null ? { error: 'unreadable image: "x"' } : {}),
  })),
  warnings: [],
  milliseconds: 5,
});

describe('ResultStore', () => {
  it('writes a unit once, summarises with a Student-t interval, and exports CSV and JSON lines', () => {
    const store = ResultStore.open(join(mkdtempSync(join(tmpdir(), 'xlens-store-')), 'r.sqlite'));
    const [unit] = planUnits(plan, 3);
    const run = store.beginRun(plan, 3, 1);
    expect(store.record(unit, result(unit.key, [1, 3, null]))).toBe(true);
    expect(store.record(unit, result(unit.key, [7, 7, 7]), 2)).toBe(false);
    expect(store.progress(run)).toEqual({ units: 1, done: 1, failed: 0, retried: 0 });
    const [s] = store.summaries(run);
    // Two scores 1 and 3: mean 2, sample std √2, half-width t(0.975, 1) · √2 / √2 = 12.706.
    expect(s.summary.count).toBe(2);
    expect(s.summary.mean).toBe(2);
    expect(s.summary.ci95).toBeCloseTo(12.706, 3);
    expect(s.errors).toBe(1);
    expect(scoresCsv(store.scores(run))).toBe(
      'method,metric,item,name,target,score,error\nsaliency,sparseness,0,"n,0",1,1,\nsaliency,sparseness,1,"n,1",1,3,\nsaliency,sparseness,2,"n,2",1,,"unreadable image: ""x"""\n',
    );
    expect(scoresJsonl(store.scores(run)).split('\n')[2]).toBe(
      JSON.stringify({
        method: 'saliency',
        metric: 'sparseness',
        item: 2,
        name: 'n,2',
        target: 1,
        score: null,
        error: 'unreadable image: "x"',
      }),
    );
    store.close();
  });

  it('refuses a result that does not cover its range once per item', () => {
    const store = ResultStore.open(':memory:');
    const [unit] = planUnits(plan, 3);
    store.beginRun(plan, 3, 1);
    expect(() => store.record(unit, result(unit.key, [1, 2]))).toThrow(/does not cover/);
    const twice = result(unit.key, [1, 2, 3]);
    expect(() =>
      store.record(unit, { ...twice, items: [twice.items[0], twice.items[0], twice.items[2]] }),
    ).toThrow(/does not cover/);
    expect(store.finishedKeys(unit.run).size).toBe(0);
    store.close();
  });
});
