import { describe, expect, it } from 'vitest';
import { type CheckSpec, defineCheck, judge, runCheck } from './check.js';
import { XlensError } from './errors.js';
import { defineExplainer } from './explain.js';
import { randomInput } from './testing/compare.js';
import { referenceModel } from './testing/reference-model.js';
import { tinyCnn } from './testing/toy-nets.js';

/** The input gradient of the target: enough to see targets and derived models reach the explainer. */
const gradient = defineExplainer<{ scale: number }>({
  id: 'test-gradient',
  family: 'gradients',
  title: 'Test gradient',
  citation: 'none (test method)',
  description: 'scale times the input gradient',
  requires: ['gradients'],
  mapKind: 'input',
  defaults: { scale: 1 },
  options: { scale: { type: 'number', doc: 'factor', min: 0 } },
  async attribute(ctx) {
    const r = await ctx.gradient({ input: ctx.input });
    const g = r.inputGradient as { data: Float32Array; shape: number[] };
    return { map: { data: g.data.map((v) => v * ctx.options.scale), shape: g.shape } };
  },
});

const model = referenceModel(tinyCnn());
const input = randomInput(model, 2, 3);

interface Opts {
  factor: number;
}

/** A check whose statistic is the ratio of the map sums on the model and a model with scaled weights. */
const spec: CheckSpec<Opts> = {
  id: 'scale-ratio',
  title: 'Scale ratio',
  citation: 'none (test check)',
  description: 'ratio of the map sums before and after scaling the last layer',
  needs: ['model', 'explainer'],
  requires: ['derive'],
  threshold: { statistic: 'ratio', pass: 'below', value: 1.5, rationale: 'test' },
  defaults: { factor: 2 },
  options: { factor: { type: 'number', doc: 'scale of the last layer', min: 0 } },
  async compute(ctx) {
    const derived = await ctx.model.derive?.((p) =>
      p.layer === 'fc' && p.role === 'weight' ? p.values.map((v) => v * ctx.options.factor) : undefined,
    );
    if (!derived) throw new Error('no derive');
    const a = await ctx.explain(ctx.model, ctx.input);
    const b = await ctx.explain(derived, ctx.input);
    const sum = (t: Float32Array) => t.reduce((s, v) => s + v, 0);
    return {
      statistics: { ratio: sum(b.maps.data) / sum(a.maps.data), other: Number.NaN },
      perItem: { rows: [a.maps.shape[0], b.maps.shape[0]] },
      curves: [{ id: 'c', title: 'c', x: ['a', 'b'], y: [1, 2], items: [[1, 2]] }],
    };
  },
};

describe('runCheck', () => {
  it('judges the fixed threshold on the statistic the check returns, and reports rule and score', async () => {
    const check = defineCheck(spec);
    const low = await check.run({ model, input, explainer: gradient });
    // Scaling the last dense layer by 2 scales every input gradient by 2.
    expect(low.score).toBeCloseTo(2, 4);
    expect(low.verdict).toBe('fail');
    expect(low.summary).toBe('ratio = 2 ≥ 1.5: fail');
    const high = await check.run({ model, input, explainer: gradient }, { factor: 1.2, seed: 4 });
    expect(high.verdict).toBe('pass');
    expect(high.summary).toMatch(/^ratio = 1\.2 < 1\.5: pass$/);
    expect(high.options).toMatchObject({ factor: 1.2, seed: 4 });
    expect(high.threshold).toEqual(spec.threshold);
    expect(high.perItem.rows).toEqual([2, 2]);
    expect(high.curves[0].x).toEqual(['a', 'b']);
    expect(high.targets).toHaveLength(2);
    expect(high.explainer).toBe('test-gradient');
  });

  it('resolves top1 once on the request model and passes the classes to every explain call', async () => {
    const seen: unknown[] = [];
    const report = await runCheck(
      {
        ...spec,
        async compute(ctx) {
          seen.push(ctx.target);
          const m = await ctx.explain(ctx.model, ctx.input);
          seen.push(m.attribution.targets);
          return { statistics: { ratio: 1 } };
        },
      },
      { model, input, explainer: gradient },
    );
    expect(seen[0]).toEqual(report.targets);
    expect(seen[1]).toEqual(report.targets);
    // The top1 forward is chunked by batchSize like every other pass.
    const sizes: number[] = [];
    const counting = {
      ...model,
      forward: async (x: { data: Float32Array; shape: number[] }) => {
        sizes.push(x.shape[0]);
        return model.forward(x);
      },
    };
    const chunked = await runCheck(
      { ...spec, compute: async () => ({ statistics: { ratio: 1 } }) },
      { model: counting, input, explainer: gradient },
      { batchSize: 1 },
    );
    expect(sizes).toEqual([1, 1]);
    expect(chunked.targets).toEqual(report.targets);
  });

  it('gives undecided for a non-finite statistic or a reason, never pass or fail', async () => {
    expect(judge(spec.threshold, Number.NaN)).toBe('undecided');
    expect(judge({ ...spec.threshold, pass: 'above' }, 2)).toBe('pass');
    expect(judge(spec.threshold, 1.5)).toBe('fail');
    const r = await runCheck(
      {
        ...spec,
        compute: async () => ({ statistics: { ratio: 0 }, undecided: 'the pair is not equivalent' }),
      },
      { model, input, explainer: gradient },
    );
    expect(r.verdict).toBe('undecided');
    expect(r.summary).toBe('undecided: the pair is not equivalent');
  });

  it('rejects a request missing what the check needs, bad options and a missing statistic before computing', async () => {
    let computed = 0;
    const counting: CheckSpec<Opts> = {
      ...spec,
      compute: async () => {
        computed++;
        return { statistics: {} };
      },
    };
    await expect(runCheck(counting, { model, input })).rejects.toThrow(/needs an explainer/);
    await expect(runCheck(counting, { model, explainer: gradient })).rejects.toThrow(/a model and an input/);
    await expect(
      runCheck(counting, { model, input, explainer: gradient }, { factor: -1 } as never),
    ).rejects.toThrow(/factor/);
    await expect(
      runCheck(counting, { model, input, explainer: gradient, explainerOptions: { scale: -2 } }),
    ).rejects.toThrow(/scale/);
    await expect(
      runCheck(
        { ...counting, needs: ['model', 'explainer', 'second-model'] },
        {
          model,
          input,
          explainer: gradient,
          secondModel: referenceModel({ ...tinyCnn(), numClasses: 5, inputShape: [3, 6, 6] }),
        },
      ),
    ).rejects.toThrow(/secondModel/);
    expect(computed).toBe(0);
    await expect(runCheck(counting, { model, input, explainer: gradient })).rejects.toThrow(XlensError);
    expect(computed).toBe(1);
  });

  it('defineCheck refuses a threshold that is not a finite below/above rule', () => {
    expect(() => defineCheck({ ...spec, threshold: { ...spec.threshold, value: Number.NaN } })).toThrow(
      /finite threshold/,
    );
    expect(() => defineCheck({ ...spec, id: 'Not Kebab' })).toThrow(/kebab-case/);
  });
});
