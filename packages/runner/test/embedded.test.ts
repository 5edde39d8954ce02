import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XlensError } from '@xlens/core';
import { sampleImages } from '@xlens/zoo';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEmbedded } from '../src/embedded.js';
import { makePlan } from '../src/make-plan.js';
import { type LoadedModel, loadRunnerModel } from '../src/model-source.js';
import { runnerMetricRegistry, runnerRegistry } from '../src/registries.js';
import { exportsOf, freshStore, tempDir, tinyPlan } from './fixtures.js';

describe('runEmbedded', () => {
  let reference: { csv: string; jsonl: string };
  let model: LoadedModel;

  beforeAll(async () => {
    model = await loadRunnerModel({ ref: 'shapes' });
  });
  afterAll(async () => {
    await model.model.dispose();
  });

  it('gives byte-identical results with 1 and 2 threads, equal to one in-process evaluation', async () => {
    const plan = await tinyPlan();
    const one = freshStore();
    const two = freshStore();
    const a = await runEmbedded(plan, one, { threads: 1 });
    const b = await runEmbedded(plan, two, { threads: 2 });
    expect(a.units).toBe(4);
    expect([a.computed, b.computed, a.unfinished.length, b.unfinished.length]).toEqual([4, 4, 0, 0]);
    reference = exportsOf(one, a.run);
    expect(exportsOf(two, b.run)).toEqual(reference);

    // The same scores as evaluating all 8 items at once in this process.
    const x = sampleImages('shapes', 8).images;
    const maps = (await runnerRegistry().get('saliency').explain(model.model, x, 'top1', { seed: 3 })).map;
    const rows = [...one.scores(a.run)];
    expect(rows).toHaveLength(16);
    for (const [id, options] of [
      ['pointing-game', {}],
      ['deletion', { steps: 8 }],
    ] as const) {
      const e = await runnerMetricRegistry()
        .get(id)
        .evaluate(
          { model: model.model, input: x, target: 'top1', maps, masks: sampleImages('shapes', 8).masks },
          {
            ...options,
            seed: 3,
          },
        );
      const stored = rows.filter((r) => r.metric === id).map((r) => r.score);
      expect(stored.every((s) => s !== null && Number.isFinite(s))).toBe(true);
      stored.forEach((s, i) => {
        expect(s).toBeCloseTo(e.scores[i], 6);
      });
    }
    const summary = one.summaries(a.run).find((s) => s.metric === 'deletion')!;
    const del = rows.filter((r) => r.metric === 'deletion').map((r) => r.score!);
    expect(summary.summary.mean).toBeCloseTo(del.reduce((p, q) => p + q, 0) / 8, 12);
    one.close();
    two.close();
  });

  it('after an interrupted run, a rerun computes only the missing units', async () => {
    const plan = await tinyPlan();
    const store = freshStore();
    const controller = new AbortController();
    await expect(
      runEmbedded(plan, store, {
        threads: 1,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.done >= 1) controller.abort();
        },
      }),
    ).rejects.toThrow(XlensError);
    const run = store.finishedKeys(store.beginRun(plan, 8, 4));
    const before = run.size;
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThan(4);
    const again = await runEmbedded(plan, store, { threads: 1 });
    expect(again.resumed).toBe(before);
    expect(again.computed).toBe(4 - before);
    expect(exportsOf(store, again.run)).toEqual(reference);
    store.close();
  });

  it('reports a corrupt image as such and scores the others', async () => {
    const dir = tempDir();
    const images = join(dir, 'images');
    const s = sampleImages('shapes', 3);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(images);
    const labels: Record<string, { label: number; box: readonly number[] }> = {};
    for (let i = 0; i < 3; i++) {
      const [, h, w, c] = s.images.shape;
      const px = Buffer.from(
        s.images.data.subarray(i * h * w * c, (i + 1) * h * w * c).map((v) => Math.round(v * 255)),
      );
      await sharp(px, { raw: { width: w, height: h, channels: c as 3 } })
        .png()
        .toFile(join(images, `${i}.png`));
      labels[`${i}.png`] = { label: s.labels[i], box: s.boxes![i] };
    }
    writeFileSync(join(images, '1b-broken.png'), Buffer.from('this is not a png at all'));
    writeFileSync(join(dir, 'labels.json'), JSON.stringify(labels));
    const plan = await makePlan({
      ...(await tinyPlan()),
      dataset: { kind: 'images', dir: images, labels: join(dir, 'labels.json') },
    });
    const store = freshStore();
    const summary = await runEmbedded(plan, store, { threads: 1 });
    expect(summary.items).toBe(4);
    const rows = [...store.scores(summary.run)];
    expect(rows).toHaveLength(8);
    const broken = rows.filter((r) => r.name === '1b-broken.png');
    expect(broken).toHaveLength(2);
    for (const r of broken) {
      expect(r.score).toBeNull();
      expect(r.error).toMatch(/unreadable image/);
    }
    const good = rows.filter((r) => r.name !== '1b-broken.png');
    expect(good.every((r) => r.score !== null && r.error === null)).toBe(true);
    // Lossless PNGs of the zoo images: the pointing game hits on every readable item, as on the zoo set.
    expect(good.filter((r) => r.metric === 'pointing-game').map((r) => r.score)).toEqual([1, 1, 1]);
    expect(store.summaries(summary.run).map((x) => x.errors)).toEqual([1, 1]);
    store.close();
  });
});
