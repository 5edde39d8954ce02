import { describe, expect, it } from 'vitest';
import { defineExplainer } from './explain.js';
import type { ExplainContext } from './explainer.js';
import { fromFunction } from './function-model.js';
import type { BackwardRequest, Model } from './model.js';
import type { GradientChunk } from './stream.js';
import { concatBatch, sizeOf, sliceBatch, type Tensor } from './tensor.js';
import { randomInput } from './testing/compare.js';
import { referenceModel } from './testing/reference-model.js';
import { tinyCnn } from './testing/toy-nets.js';

const base = referenceModel(tinyCnn());

/** The reference model, logging every model call and the rows it got. */
function logging(m: Model): { model: Model; log: string[] } {
  const log: string[] = [];
  const model: Model = {
    ...m,
    forward: (x) => {
      log.push(`forward ${x.shape[0]}`);
      return m.forward(x);
    },
    backward: (r: BackwardRequest) => {
      log.push(`backward ${r.input.shape[0]}`);
      return m.backward!(r);
    },
  };
  return { model, log };
}

/** A method whose `attribute` is the test body, run through `explain`. */
async function withContext<T>(
  model: Model,
  input: Tensor,
  body: (ctx: ExplainContext<object>) => Promise<T>,
  run: {
    batchSize?: number;
    signal?: AbortSignal;
    onProgress?: (p: { done: number; total: number }) => void;
  } = {},
  target: number | readonly number[] = 1,
): Promise<T> {
  let out: T | undefined;
  const probe = defineExplainer<object>({
    id: 'probe',
    family: 'other',
    title: 'probe',
    citation: 'none (test)',
    description: 'runs a test body',
    requires: [],
    mapKind: 'input',
    defaults: {},
    options: {},
    async attribute(ctx) {
      out = await body(ctx);
      return { map: ctx.input };
    },
  });
  await probe.explain(model, input, target, run);
  return out as T;
}

describe('streamGradient', () => {
  it('builds each chunk only after the previous one was reduced, never more than batchSize rows', async () => {
    const { model, log } = logging(base);
    const input = randomInput(base, 2, 3);
    const rows = 1000;
    await withContext(
      model,
      input,
      (ctx) =>
        ctx.streamGradient(
          {
            rows,
            items: (r) => r % 2,
            input: (s, e) => {
              log.push(`build ${e - s}`);
              return concatBatch(
                Array.from({ length: e - s }, (_, k) => sliceBatch(input, (s + k) % 2, ((s + k) % 2) + 1)),
              );
            },
          },
          (c) => {
            log.push(`reduce ${c.end - c.start}`);
          },
        ),
      { batchSize: 64 },
    );
    const chunks = Math.ceil(rows / 64);
    const expected: string[] = [];
    for (let c = 0; c < chunks; c++) {
      const size = Math.min(64, rows - c * 64);
      expected.push(`build ${size}`, `backward ${size}`, `reduce ${size}`);
    }
    expect(log).toEqual(expected);
  });

  it('seeds each row with its item’s target and gathers per-item rule tensors per row', async () => {
    const input = randomInput(base, 3, 4);
    const reference = randomInput(base, 3, 5);
    const targets = [0, 2, 1];
    // Rows: items in the order 2, 0, 1, 2 (item 2 twice), in chunks of 3.
    const order = [2, 0, 1, 2];
    const per = sizeOf(input.shape.slice(1));
    const chunks: GradientChunk[] = [];
    await withContext(
      base,
      input,
      (ctx) =>
        ctx.streamGradient(
          {
            rows: order.length,
            items: order,
            input: (s, e) => concatBatch(order.slice(s, e).map((i) => sliceBatch(input, i, i + 1))),
            rules: { relu: 'rescale', reference },
          },
          (c) => {
            chunks.push(c);
          },
        ),
      { batchSize: 3 },
      targets,
    );
    expect(chunks.map((c) => Array.from(c.items))).toEqual([[2, 0, 1], [2]]);
    const streamed = concatBatch(chunks.map((c) => c.inputGradient!));
    for (const [r, i] of order.entries()) {
      const k = base.info.numClasses;
      const cotangent = new Float32Array(k);
      cotangent[targets[i]] = 1;
      const alone = await base.backward!({
        input: sliceBatch(input, i, i + 1),
        seed: { kind: 'output', cotangent: { data: cotangent, shape: [1, k] } },
        rules: { relu: 'rescale', reference: sliceBatch(reference, i, i + 1) },
      });
      expect(Array.from(streamed.data.subarray(r * per, (r + 1) * per))).toEqual(
        Array.from(alone.inputGradient!.data),
      );
    }
  });

  it('uses a stream seed instead of the target', async () => {
    const input = randomInput(base, 2, 6);
    const k = base.info.numClasses;
    const cotangent = new Float32Array(2 * k).fill(1);
    const [viaSeed, plain] = await withContext(base, input, async (ctx) => {
      const got: Tensor[] = [];
      await ctx.streamGradient(
        {
          rows: 2,
          input: (s, e) => sliceBatch(input, s, e),
          seed: (s, e) => ({
            kind: 'output',
            cotangent: { data: cotangent.slice(s * k, e * k), shape: [e - s, k] },
          }),
        },
        (c) => {
          got.push(c.inputGradient!);
        },
      );
      const all = await base.backward!({
        input,
        seed: { kind: 'output', cotangent: { data: cotangent, shape: [2, k] } },
      });
      return [concatBatch(got), all.inputGradient!];
    });
    expect(Array.from(viaSeed.data)).toEqual(Array.from(plain.data));
  });

  it('reports progress per chunk and stops between chunks when aborted', async () => {
    const input = randomInput(base, 1, 7);
    const seen: number[] = [];
    const controller = new AbortController();
    const run = withContext(
      base,
      input,
      (ctx) =>
        ctx.streamGradient(
          { rows: 10, items: () => 0, input: () => sliceBatch(input, 0, 1) },
          () => undefined,
        ),
      {
        batchSize: 1,
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.done);
          if (p.done === 3) controller.abort();
        },
      },
    );
    await expect(run).rejects.toThrow(/aborted/);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('names a stream that builds the wrong number of rows', async () => {
    const input = randomInput(base, 2, 8);
    await expect(
      withContext(base, input, (ctx) =>
        ctx.streamGradient(
          { rows: 2, input: () => (input.shape[0] === 2 ? sliceBatch(input, 0, 1) : input) },
          () => undefined,
        ),
      ),
    ).rejects.toThrow(/built 1 rows for rows \[0, 2\)/);
  });
});

describe('whole-batch helpers', () => {
  it('forward, capture, forwardScaled and gradient in chunks equal one unchunked call', async () => {
    const input = randomInput(base, 5, 9);
    const layer = base.layers!().find((l) => l.kind === 'conv')!.name;
    const c = base.layers!().find((l) => l.name === layer)!.outputShape[0];
    const scale: Tensor = {
      data: Float32Array.from({ length: 5 * c }, (_, i) => (i % 3) / 2),
      shape: [5, c],
    };
    const got = await withContext(
      base,
      input,
      async (ctx) => ({
        forward: await ctx.forward(input),
        capture: await ctx.capture(input, [layer]),
        scaled: await ctx.forwardScaled(input, { layer, scale }),
        gradient: await ctx.gradient({ input, wrtLayers: [layer], capture: [layer] }),
      }),
      { batchSize: 2 },
      [0, 1, 2, 0, 1],
    );
    const whole = await base.capture!(input, [layer]);
    expect(Array.from(got.forward.data)).toEqual(Array.from((await base.forward(input)).data));
    expect(Array.from(got.capture.activations[layer].data)).toEqual(
      Array.from(whole.activations[layer].data),
    );
    expect(Array.from(got.scaled.data)).toEqual(
      Array.from((await base.forwardScaled!(input, { layer, scale })).data),
    );
    expect(got.gradient.activations[layer].shape).toEqual([5, ...whole.activations[layer].shape.slice(1)]);
    expect(got.gradient.layerGradients[layer].shape[0]).toBe(5);
  });
});

describe('non-finite results of a finite input', () => {
  // Σ x² per item as two "classes": overflows float32 for inputs near ±3e38.
  const squares = fromFunction(
    (x) => {
      const out = new Float32Array(x.shape[0] * 2);
      for (let i = 0; i < x.shape[0]; i++)
        for (let j = 0; j < 4; j++) out[i * 2] += x.data[i * 4 + j] * x.data[i * 4 + j];
      return out;
    },
    { inputShape: [4], layout: 'NCHW', numClasses: 2 },
  );
  const extreme: Tensor = { data: Float32Array.from([1, 2, 3e38, -3e38]), shape: [1, 4] };

  it('stop a stream with an error naming the cause', async () => {
    const run = withContext(squares, extreme, (ctx) => ctx.forward(ctx.input), {}, 0);
    await expect(run).rejects.toMatchObject({ code: 'non-finite-output' });
    await expect(run).rejects.toThrow(/holds Infinity \(item 0\) although the input is finite; .*3\.00e\+38/);
  });

  it('stop a top1 target and a non-finite map before anything is returned', async () => {
    const probe = defineExplainer<object>({
      id: 'nan-map',
      family: 'other',
      title: 'nan',
      citation: 'none (test)',
      description: 'returns NaN',
      requires: [],
      mapKind: 'input',
      defaults: {},
      options: {},
      attribute: async (ctx) => ({
        map: { data: new Float32Array(ctx.input.data.length).fill(Number.NaN), shape: [...ctx.input.shape] },
      }),
    });
    await expect(probe.explain(squares, extreme, 'top1')).rejects.toMatchObject({
      code: 'non-finite-output',
    });
    const tame: Tensor = { data: Float32Array.from([1, 2, 3, 4]), shape: [1, 4] };
    await expect(probe.explain(squares, tame, 0)).rejects.toThrow(/nan-map: the map holds NaN/);
  });
});
