import { describe, expect, it } from 'vitest';
import { defineMetric, evaluate, summarizeScores } from './evaluate.js';
import { defineExplainer } from './explain.js';
import { fromFunction } from './function-model.js';
import { boxesToMasks, boxFromMask, boxIoU } from './ground-truth.js';
import type { MetricContext, MetricSpec } from './metric.js';
import { MetricRegistry } from './metric.js';
import type { Tensor } from './tensor.js';
import { randomInput, randomTensor } from './testing/compare.js';
import { referenceModel } from './testing/reference-model.js';
import { tinyCnn } from './testing/toy-nets.js';

const model = referenceModel(tinyCnn(), { layout: 'NHWC' }); // input 8×8×3, 5 classes

/** A metric that records what it saw and scores each item by the sum of its pixel map. */
let seen: MetricContext<{ factor: number }> | null = null;
/** The descriptive fields every test metric shares. */
const base = {
  category: 'complexity',
  title: 'Test metric',
  citation: 'none (test metric)',
  description: 'test',
  requires: [],
  direction: 'higher',
  range: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
} as const;
const spec: MetricSpec<{ factor: number }> = {
  ...base,
  id: 'map-sum',
  needs: ['maps'],
  defaults: { factor: 1 },
  options: { factor: { type: 'number', doc: 'factor', min: 0 } },
  async compute(ctx) {
    seen = ctx;
    const hw = ctx.height * ctx.width;
    const scores = Array.from({ length: ctx.n }, (_, i) => {
      let s = 0;
      for (let p = 0; p < hw; p++) s += ctx.maps.data[i * hw + p];
      return ctx.options.factor * s;
    });
    return { scores, curves: scores.map((s) => ({ x: [0, 1], y: [0, s] })) };
  },
};
const mapSum = defineMetric(spec);

/** A metric that reads the target's score of each item through the streaming context. */
const targetScore = defineMetric<Record<never, never>>({
  ...base,
  id: 'target-score',
  needs: ['model'],
  score: 'softmax',
  defaults: {},
  options: {},
  async compute(ctx) {
    const out = await ctx.stream.forward(ctx.stream.input);
    return { scores: ctx.stream.scores(out) };
  },
});

describe('evaluate (ADR 0004)', () => {
  const input = randomInput(model, 2, 1);

  it('reduces input-shaped maps over channels, merges options and returns scores, curves and a summary', async () => {
    const maps = randomTensor([2, 8, 8, 3], 2);
    const got = await mapSum.evaluate({ model, input, maps }, { factor: 2 });
    let first = 0;
    for (let e = 0; e < 192; e++) first += maps.data[e];
    expect(got.scores[0]).toBeCloseTo(2 * first, 4);
    expect(got.curves).toHaveLength(2);
    expect(got.curveAxes).toBeUndefined();
    expect(got.summary.count).toBe(2);
    expect(got.options).toMatchObject({ factor: 2, seed: 0 });
    expect(got.score).toBeNull();
    expect(seen?.height).toBe(8);
    expect(seen?.maps.shape).toEqual([2, 8, 8]);
    const maxAbs = await mapSum.evaluate({ model, input, maps, reduction: 'max-abs' });
    expect(maxAbs.scores[0]).toBeGreaterThan(0);
  });

  it('takes pixel maps without a model, and rank-4 maps with a layout', async () => {
    const maps = randomTensor([3, 4, 5], 3);
    expect((await evaluate(spec, { maps })).scores).toHaveLength(3);
    const nchw = randomTensor([1, 2, 4, 5], 3);
    const got = await evaluate(spec, { maps: nchw, layout: 'NCHW' });
    let s = 0;
    for (const v of nchw.data) s += v;
    expect(got.scores[0]).toBeCloseTo(s, 4);
    await expect(evaluate(spec, { maps: nchw })).rejects.toMatchObject({ code: 'invalid-shape' });
  });

  it('validates everything before compute, naming what is wrong', async () => {
    seen = null;
    await expect(evaluate(spec, {})).rejects.toThrow('map-sum needs maps (attributions)');
    await expect(evaluate(spec, { model, input, maps: randomTensor([2, 8, 7], 1) })).rejects.toThrow(
      /expected \[2, 8, 8\]/,
    );
    await expect(evaluate(spec, { model, input, maps: randomTensor([3, 8, 8], 1) })).rejects.toMatchObject({
      code: 'invalid-shape',
    });
    const nan = randomTensor([1, 2, 2], 1);
    nan.data[3] = Number.NaN;
    await expect(evaluate(spec, { maps: nan })).rejects.toMatchObject({ code: 'non-finite-input' });
    await expect(evaluate(spec, { maps: randomTensor([1, 2, 2], 1) }, { factor: -1 })).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(
      evaluate(spec, { maps: randomTensor([1, 2, 2], 1) }, { nope: 1 } as never),
    ).rejects.toMatchObject({
      code: 'unknown-option',
    });
    await expect(
      evaluate(spec, { maps: randomTensor([1, 2, 2], 1) }, { batchSize: 0 }),
    ).rejects.toMatchObject({
      code: 'invalid-option',
    });
    await expect(targetScore.evaluate({ model, input: randomTensor([2, 3, 8, 8], 1) })).rejects.toMatchObject(
      { code: 'invalid-shape' },
    );
    await expect(targetScore.evaluate({ model, input, target: 9 })).rejects.toMatchObject({
      code: 'target-out-of-range',
    });
    expect(seen).toBeNull();
  });

  it('checks the capabilities of the metric and of its explainer', async () => {
    const blackBox = fromFunction(() => new Float32Array(5), {
      inputShape: [8, 8, 3],
      layout: 'NHWC',
      numClasses: 5,
    });
    const needsGradients = defineMetric({
      ...spec,
      id: 'needs-gradients',
      needs: ['model'],
      requires: ['gradients'],
    });
    await expect(needsGradients.evaluate({ model: blackBox, input })).rejects.toMatchObject({
      code: 'missing-capability',
    });
    const gradientExplainer = defineExplainer<Record<never, never>>({
      id: 'g',
      family: 'gradients',
      title: 'g',
      citation: 'test',
      description: 'test',
      requires: ['gradients'],
      mapKind: 'input',
      defaults: {},
      options: {},
      async attribute(ctx) {
        return { map: (await ctx.gradient({ input: ctx.input })).inputGradient as Tensor };
      },
    });
    const reExplain = defineMetric<Record<never, never>>({
      ...base,
      id: 're-explain',
      needs: ['explainer'],
      defaults: {},
      options: {},
      async compute(ctx) {
        const maps = await ctx.explain(ctx.stream.input);
        return { scores: Array.from({ length: ctx.n }, (_, i) => maps.data[i * 64]) };
      },
    });
    await expect(
      reExplain.evaluate({ model: blackBox, input, explainer: gradientExplainer }),
    ).rejects.toMatchObject({
      code: 'missing-capability',
    });
    await expect(reExplain.evaluate({ model, input })).rejects.toThrow(/needs an explainer/);
    const got = await reExplain.evaluate({ model, input, explainer: gradientExplainer, target: [1, 2] });
    expect(got.targets).toEqual([1, 2]);
  });

  it('reads the metric’s default score kind, which the run option overrides, and resolves top1', async () => {
    const soft = await targetScore.evaluate({ model, input });
    expect(soft.score).toBe('softmax');
    for (const s of soft.scores) expect(s).toBeGreaterThan(0.2); // top-1 probability of 5 classes
    const logit = await targetScore.evaluate({ model, input, target: [0, 0] }, { score: 'logit' });
    const out = await model.forward(input);
    expect(logit.scores[1]).toBeCloseTo(out.data[5], 5);
    expect(logit.options).toMatchObject({ score: 'logit', batchSize: 16 });
  });

  it('turns boxes into masks and masks into boxes, broadcasting one for all items', async () => {
    const gt = defineMetric<Record<never, never>>({
      ...base,
      id: 'gt',
      needs: ['maps', 'ground-truth'],
      defaults: {},
      options: {},
      async compute(ctx) {
        seen = ctx as never;
        return {
          scores: Array.from({ length: ctx.n }, (_, i) =>
            ctx.masks.data.subarray(i * 20, (i + 1) * 20).reduce((a, b) => a + b, 0),
          ),
        };
      },
    });
    const maps = randomTensor([2, 4, 5], 1);
    expect((await gt.evaluate({ maps, boxes: [[1, 1, 3, 4]] })).scores).toEqual([6, 6]);
    const mask = new Float32Array(20);
    mask[6] = 1;
    mask[13] = 1;
    await gt.evaluate({ maps, masks: { data: mask, shape: [4, 5] } });
    expect(seen?.boxes).toEqual([
      [1, 1, 4, 3],
      [1, 1, 4, 3],
    ]);
    await expect(gt.evaluate({ maps, boxes: [[0, 0, 6, 1]] })).rejects.toThrow(/0 ≤ x0 < x1 ≤ 5/);
    await expect(
      gt.evaluate({
        maps,
        boxes: [
          [0, 0, 1, 1],
          [0, 0, 1, 1],
          [0, 0, 1, 1],
        ],
      }),
    ).rejects.toThrow(/3 boxes for 2 items/);
    await expect(
      gt.evaluate({ maps, masks: { data: new Float32Array(20).fill(2), shape: [4, 5] } }),
    ).rejects.toThrow(/only 0 and 1/);
  });

  it('reports progress under the metric id and stops when aborted', async () => {
    const progressing = defineMetric<Record<never, never>>({
      ...base,
      id: 'progressing',
      needs: ['maps'],
      defaults: {},
      options: {},
      async compute(ctx) {
        ctx.progress(1, 2);
        ctx.checkAborted();
        return { scores: [0] };
      },
    });
    const seenProgress: unknown[] = [];
    await progressing.evaluate(
      { maps: randomTensor([1, 2, 2], 1) },
      { onProgress: (p) => seenProgress.push(p) },
    );
    expect(seenProgress).toEqual([{ method: 'progressing', done: 1, total: 2 }]);
    const controller = new AbortController();
    controller.abort();
    await expect(
      progressing.evaluate({ maps: randomTensor([1, 2, 2], 1) }, { signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'aborted' });
  });

  it('refuses a metric that returns the wrong number of scores, and a member it did not declare', async () => {
    const short = defineMetric({ ...spec, id: 'short', compute: async () => ({ scores: [1] }) });
    await expect(short.evaluate({ maps: randomTensor([2, 2, 2], 1) })).rejects.toThrow(
      /1 scores for 2 items/,
    );
    const sneaky = defineMetric({
      ...spec,
      id: 'sneaky',
      compute: async (ctx) => ({ scores: ctx.masks.data }),
    });
    await expect(sneaky.evaluate({ maps: randomTensor([1, 2, 2], 1) })).rejects.toThrow(
      /does not declare it/,
    );
  });
});

describe('summarizeScores', () => {
  it('gives mean, sample std and the Student-t 95% half-width over finite scores', () => {
    const s = summarizeScores([1, 2, 3, Number.NaN]);
    expect(s.count).toBe(3);
    expect(s.mean).toBe(2);
    expect(s.std).toBeCloseTo(1, 12);
    expect(s.ci95).toBeCloseTo((4.303 * 1) / Math.sqrt(3), 12);
    expect(summarizeScores([5])).toEqual({ count: 1, mean: 5, std: 0, ci95: 0 });
    expect(summarizeScores([]).mean).toBeNaN();
    // Many items: close to the normal quantile.
    const many = summarizeScores(Array.from({ length: 1001 }, (_, i) => i % 2));
    expect(many.ci95 / (many.std / Math.sqrt(1001))).toBeCloseTo(1.9623, 3);
  });
});

describe('ground truth helpers', () => {
  it('boxes and masks round-trip; IoU of half-open boxes', () => {
    const masks = boxesToMasks([[1, 0, 3, 2]], 3, 4);
    expect(Array.from(masks.data)).toEqual([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    expect(boxFromMask(masks, 0)).toEqual([1, 0, 3, 2]);
    expect(boxFromMask({ data: new Float32Array(4), shape: [1, 2, 2] }, 0)).toBeNull();
    expect(boxIoU([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7, 12);
    expect(boxIoU([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
  });
});

describe('MetricRegistry', () => {
  it('registers, lists by category and names the known metrics on a miss', () => {
    const r = new MetricRegistry([mapSum, targetScore]);
    expect(r.get('map-sum')).toBe(mapSum);
    expect(r.list('complexity').map((m) => m.id)).toEqual(['map-sum', 'target-score']);
    expect(r.list('faithfulness')).toEqual([]);
    expect(() => r.get('nope')).toThrow(/known metrics: map-sum, target-score/);
    expect(() => r.register(mapSum)).toThrow(/already registered/);
    expect(() => new MetricRegistry([{ ...mapSum, id: 'Bad Id' }])).toThrow(/kebab-case/);
  });
});
