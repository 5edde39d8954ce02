import { describe, expect, it } from 'vitest';
import { defineExplainer, explain } from './explain.js';
import type { ExplainContext, TargetSpec } from './explainer.js';
import { findLayer } from './layers.js';
import type { BackwardRequest, Capability, Model } from './model.js';
import { scoreCotangent } from './targets.js';
import { concatBatch, item, map, type Tensor, tensor } from './tensor.js';
import { randomInput, randomTensor } from './testing/compare.js';
import { referenceModel } from './testing/reference-model.js';
import { tinyCnn } from './testing/toy-nets.js';

interface TestOptions {
  scale: number;
  layer: string | null;
}

let attributeCalls = 0;
/** A tiny inline method: `scale ×` the input gradient of the target. */
const scaledGradient = defineExplainer<TestOptions>({
  id: 'scaled-gradient',
  family: 'gradients',
  title: 'Scaled gradient',
  citation: 'none (test method)',
  description: 'scale times the input gradient',
  requires: ['gradients'],
  mapKind: 'input',
  defaults: { scale: 1, layer: null },
  options: {
    scale: { type: 'number', doc: 'factor', min: 0 },
    layer: { type: 'string', doc: 'a layer the method checks exists' },
  },
  validate(options, model) {
    if (options.layer !== null) findLayer(model, options.layer);
  },
  async attribute(ctx) {
    attributeCalls++;
    ctx.progress(0, 1);
    const r = await ctx.gradient({ input: ctx.input });
    ctx.progress(1, 1);
    return { map: map(r.inputGradient!, (v) => v * ctx.options.scale), extras: { rows: ctx.input.shape[0] } };
  },
});

const spec = tinyCnn();
const model = referenceModel(spec);
const input = randomInput(model, 3, 1);

/** The reference with some members replaced, recording backward batch sizes. */
function recording(m: Model, caps?: Capability[]): { model: Model; sizes: number[] } {
  const sizes: number[] = [];
  const wrapped: Model = {
    ...m,
    capabilities: caps ? new Set(caps) : m.capabilities,
    backward: (r: BackwardRequest) => {
      sizes.push(r.input.shape[0]);
      return m.backward!(r);
    },
  };
  return { model: wrapped, sizes };
}

async function rejection(
  run: () => Promise<unknown>,
): Promise<{ code: string; name: string; message: string }> {
  const before = attributeCalls;
  try {
    await run();
  } catch (e) {
    expect(attributeCalls, 'attribute() must not run before validation fails').toBe(before);
    return e as { code: string; name: string; message: string };
  }
  throw new Error('expected a rejection');
}

async function gradientOf(m: Model, x: Tensor, cotangent: Tensor): Promise<Tensor> {
  return (await m.backward!({ input: x, seed: { kind: 'output', cotangent } })).inputGradient!;
}

describe('explain validates before compute', () => {
  const cases: [string, () => Promise<unknown>, string, RegExp][] = [
    [
      'wrong rank',
      () => scaledGradient.explain(model, tensor(new Float32Array(192), [3, 8, 8]), 0),
      'invalid-shape',
      /rank 3 .* expects rank 4: \[N, 3, 8, 8\] \(NCHW\)/,
    ],
    [
      'wrong shape',
      () => scaledGradient.explain(model, tensor(new Float32Array(192), [1, 8, 8, 3]), 0),
      'invalid-shape',
      /does not match \[N, 3, 8, 8\] \(NCHW\) at axis 1/,
    ],
    [
      'NaN input',
      () => {
        const bad = { data: input.data.slice(), shape: input.shape };
        bad.data[200] = Number.NaN;
        return scaledGradient.explain(model, bad, 0);
      },
      'non-finite-input',
      /contains NaN \(item 1, flat index 8\)/,
    ],
    [
      'missing capability',
      () => scaledGradient.explain(recording(model, ['layers']).model, input, 0),
      'missing-capability',
      /scaled-gradient needs gradients, which tiny-cnn does not offer \(it has: layers\)/,
    ],
    [
      'unknown layer',
      () => scaledGradient.explain(model, input, 0, { layer: 'conv7' }),
      'unknown-layer',
      /no layer "conv7"; did you mean conv1, conv2, /,
    ],
    [
      'target out of range',
      () => scaledGradient.explain(model, input, 5),
      'target-out-of-range',
      /target 5 is out of range: the model has 5 classes \(0\.\.4\)/,
    ],
    [
      'wrong target count',
      () => scaledGradient.explain(model, input, [0, 1]),
      'invalid-target',
      /got 2 targets for a batch of 3/,
    ],
    [
      'unknown option',
      () => scaledGradient.explain(model, input, 0, { scael: 2 } as never),
      'unknown-option',
      /no option "scael"; its options are scale, layer/,
    ],
    [
      'option out of range',
      () => scaledGradient.explain(model, input, 0, { scale: -1 }),
      'invalid-option',
      /scale = -1 is invalid; expected a value ≥ 0/,
    ],
    [
      'bad batchSize',
      () => scaledGradient.explain(model, input, 0, { batchSize: 0 }),
      'invalid-option',
      /batchSize = 0/,
    ],
    [
      'bad seed',
      () => scaledGradient.explain(model, input, 0, { seed: 0.5 }),
      'invalid-option',
      /seed = 0.5/,
    ],
    [
      'bad score',
      () => scaledGradient.explain(model, input, 0, { score: 'prob' as never }),
      'invalid-target',
      /score "prob"/,
    ],
  ];
  for (const [label, run, code, message] of cases) {
    it(label, async () => {
      const e = await rejection(run);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
    });
  }
});

describe('explain runs methods', () => {
  it('one target for a batch explains every item', async () => {
    const a = await scaledGradient.explain(model, input, 1, { scale: 2 });
    expect(a.targets).toEqual([1, 1, 1]);
    expect(a.map.shape).toEqual(input.shape);
    for (let i = 0; i < 3; i++) {
      const one = await gradientOf(model, item(input, i), tensor([0, 1, 0, 0, 0], [1, 5]));
      const got = item(a.map, i).data;
      for (let j = 0; j < one.data.length; j++) expect(got[j]).toBeCloseTo(2 * one.data[j], 6);
    }
  });
  it('chunks by batchSize and gives the same result as one pass', async () => {
    const x = randomInput(model, 5, 2);
    const { model: m, sizes } = recording(model);
    const chunked = await scaledGradient.explain(m, x, [0, 1, 2, 3, 4], { batchSize: 2 });
    expect(sizes).toEqual([2, 2, 1]);
    const whole = await scaledGradient.explain(model, x, [0, 1, 2, 3, 4], { batchSize: 16 });
    expect(Array.from(chunked.map.data)).toEqual(Array.from(whole.map.data));
    expect(chunked.options).toMatchObject({ scale: 1, layer: null, batchSize: 2, seed: 0 });
  });
  it('top1 (the default) explains each item’s predicted class', async () => {
    const out = await model.forward(input);
    const a = await scaledGradient.explain(model, input);
    for (let i = 0; i < 3; i++) {
      const row = Array.from(out.data.subarray(i * 5, (i + 1) * 5));
      expect(a.targets![i]).toBe(row.indexOf(Math.max(...row)));
    }
  });
  it('score softmax seeds with the softmax cotangent; never applied unless asked', async () => {
    const a = await scaledGradient.explain(model, input, 3, { score: 'softmax' });
    expect(a.score).toBe('softmax');
    const expected = await gradientOf(
      model,
      input,
      scoreCotangent(await model.forward(input), [3, 3, 3], 5, 'softmax'),
    );
    for (let j = 0; j < expected.data.length; j++) expect(a.map.data[j]).toBeCloseTo(expected.data[j], 6);
    const logit = await scaledGradient.explain(model, input, 3);
    expect(logit.score).toBe('logit');
    expect(Array.from(logit.map.data)).toEqual(
      Array.from(
        (
          await gradientOf(
            model,
            input,
            tensor(
              new Array(15).fill(0).map((_, j) => (j % 5 === 3 ? 1 : 0)),
              [3, 5],
            ),
          )
        ).data,
      ),
    );
  });
  it('an output cotangent target is used as given', async () => {
    const cotangent = randomTensor([3, 5], 3);
    const a = await scaledGradient.explain(model, input, { cotangent });
    expect(a.targets).toBeNull();
    expect(Array.from(a.map.data)).toEqual(Array.from((await gradientOf(model, input, cotangent)).data));
  });
  it('reports metadata, progress and the input layout', async () => {
    const nhwc = referenceModel(spec, { layout: 'NHWC' });
    const progress: number[] = [];
    const a = await explain(scaledGradient, nhwc, randomInput(nhwc, 2, 4), 0, {
      onProgress: (p) => progress.push(p.done / p.total),
      seed: 7,
    });
    expect(a).toMatchObject({
      method: 'scaled-gradient',
      mapKind: 'input',
      layout: 'NHWC',
      extras: { rows: 2 },
      warnings: [],
    });
    expect(a.options.seed).toBe(7);
    expect(a.timing.milliseconds).toBeGreaterThanOrEqual(0);
    expect(progress).toEqual([0, 1]);
  });
});

describe('the explain context', () => {
  const probe = (body: (ctx: ExplainContext<object>) => Promise<Tensor>) =>
    defineExplainer<object>({
      id: 'probe',
      family: 'other',
      title: 'Probe',
      citation: 'none',
      description: 'test',
      requires: ['gradients'],
      mapKind: 'input',
      defaults: {},
      options: {},
      attribute: async (ctx) => ({ map: await body(ctx) }),
    });
  const run = (
    body: (ctx: ExplainContext<object>) => Promise<Tensor>,
    target: TargetSpec = [0, 1, 2],
    options = {},
  ) => probe(body).explain(model, input, target, options);

  it('gradient rows follow the targets of their items', async () => {
    const rows = concatBatch([item(input, 2), item(input, 2), item(input, 0)]);
    const a = await run(
      async (ctx) => (await ctx.gradient({ input: rows, items: [2, 2, 0] })).inputGradient!,
    );
    const expected = await gradientOf(
      model,
      rows,
      tensor([0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0], [3, 5]),
    );
    expect(Array.from(a.map.data)).toEqual(Array.from(expected.data));
  });
  it('scores read the target of each row, per score kind', async () => {
    const a = await run(async (ctx) => {
      const out = await ctx.forward(ctx.input);
      return { data: ctx.scores(out), shape: [3] };
    });
    const out = await model.forward(input);
    expect(Array.from(a.map.data)).toEqual([out.data[0], out.data[6], out.data[12]]);
  });
  it('rng is deterministic per seed; checkAborted throws aborted', async () => {
    const draw = (seed: number) =>
      run(async (ctx) => ({ data: ctx.rng(1).fillUniform(new Float32Array(3)), shape: [3] }), 0, { seed });
    expect((await draw(1)).map.data).toEqual((await draw(1)).map.data);
    expect((await draw(1)).map.data).not.toEqual((await draw(2)).map.data);
    const controller = new AbortController();
    controller.abort();
    await expect(
      run(async (ctx) => (await ctx.gradient({ input: ctx.input })).inputGradient!, 0, {
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({
      code: 'aborted',
    });
  });
  it('nested runs keep the batch; resolve needs a registry', async () => {
    const a = await run(async (ctx) => (await ctx.run(scaledGradient, ctx.input, { scale: 3 })).map);
    const b = await scaledGradient.explain(model, input, [0, 1, 2], { scale: 3 });
    expect(Array.from(a.map.data)).toEqual(Array.from(b.map.data));
    await expect(run(async (ctx) => (await ctx.run(scaledGradient, item(ctx.input, 0))).map)).rejects.toThrow(
      /nested run got 1 items for a batch of 3/,
    );
    await expect(run(async (ctx) => ctx.resolve('x').explain as never)).rejects.toMatchObject({
      code: 'unknown-method',
    });
  });
});
