// Shared test fixtures: a tiny plan (8 shapes items, saliency, two metrics, 4 units) and helpers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePlan } from '../src/make-plan.js';
import type { DatasetRef, EvaluationPlan } from '../src/plan.js';
import { ResultStore, scoresCsv, scoresJsonl } from '../src/store.js';

export const tinyPlan = (
  dataset: DatasetRef = { kind: 'zoo', name: 'shapes', count: 8 },
): Promise<EvaluationPlan> =>
  makePlan({
    model: { ref: 'shapes' },
    dataset,
    methods: [{ key: 'saliency', id: 'saliency', options: {} }],
    metrics: [
      { id: 'pointing-game', options: {} },
      { id: 'deletion', options: { steps: 8 } },
    ],
    seed: 3,
    target: 'top1',
    unitSize: 4,
  });

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'xlens-runner-'));

/** A fresh store in a temp folder. */
export const freshStore = (): ResultStore => ResultStore.open(join(tempDir(), 'results.sqlite'));

/** The run's exports, as compared between modes. */
export function exportsOf(store: ResultStore, run: string): { csv: string; jsonl: string } {
  return { csv: scoresCsv(store.scores(run)), jsonl: scoresJsonl(store.scores(run)) };
}
