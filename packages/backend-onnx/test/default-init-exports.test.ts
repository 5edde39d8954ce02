import { join } from 'node:path';
import { createRng, type LayerInfo, type LinearRule, type Model, type Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromOnnx, readOnnxModel } from '../src/index.js';

/**
 * Plain `torch.onnx.export`s (opsets 13 and 17, constant folding on) of freshly initialised,
 * narrowed torchvision nets: default BatchNorm folds into identical zero biases, which the
 * exporter stores once and feeds to the other convolutions through `Identity` nodes (issue 9).
 */
const fixtures = [
  'resnet18_default_init_opset13',
  'resnet18_default_init_opset17',
  'mobilenet_v2_default_init_opset13',
  'mobilenet_v2_default_init_opset17',
];

/** Box bounds of the inputs below (uniform in [−1, 1]). */
const low = -1;
const high = 1;

/** Which rule a composite puts on a conv/dense layer, and whether the layer reads the model input. */
type Composite = (layer: LayerInfo, inputFed: boolean, epsilon: number) => LinearRule;

const conv = (l: LayerInfo) => l.kind === 'conv';
const zPlus: LinearRule = { kind: 'z-plus' };
const alpha2Beta1: LinearRule = { kind: 'alpha-beta', alpha: 2, beta: 1 };
const box: LinearRule = { kind: 'z-box', low, high };
const flat: LinearRule = { kind: 'flat' };

/**
 * The composites of `@xlens/relevance` (composites.ts; that package depends on this one, so they
 * are restated here with core's rule types): ε with the given ε, γ = 0.25 with its default ε.
 */
const composites: Record<string, Composite> = {
  'epsilon-plus': (l, _, epsilon) => (conv(l) ? zPlus : { kind: 'epsilon', epsilon }),
  'epsilon-plus-flat': (l, input, epsilon) => (input ? flat : conv(l) ? zPlus : { kind: 'epsilon', epsilon }),
  'epsilon-gamma-box': (l, input, epsilon) =>
    input ? box : conv(l) ? { kind: 'gamma', gamma: 0.25 } : { kind: 'epsilon', epsilon },
  'epsilon-alpha2-beta1': (l, _, epsilon) => (conv(l) ? alpha2Beta1 : { kind: 'epsilon', epsilon }),
  'epsilon-alpha2-beta1-flat': (l, input, epsilon) =>
    input ? flat : conv(l) ? alpha2Beta1 : { kind: 'epsilon', epsilon },
  epsilon: (_, __, epsilon) => ({ kind: 'epsilon', epsilon }),
  'z-plus-box': (_, input) => (input ? box : zPlus),
  'z-plus-w-square': (_, input) => (input ? { kind: 'w-square' } : zPlus),
};

describe.each(fixtures)('%s', (name) => {
  const path = join(import.meta.dirname, 'fixtures', `${name}.onnx`);
  let model: Model;
  let linear: LayerInfo[];
  let inputName: string;
  const n = 2;
  let input: Tensor;
  let seed: Tensor;
  /** The relevance each item puts in at the top, minus what the last layer's bias takes: z_c − b_c. */
  let reaching: number[];
  /** Largest |logit|: ε is chosen against it (the default-initialised MobileNetV2's are ~1e-8). */
  let scale: number;
  const params = new Map<string, Float32Array>();

  beforeAll(async () => {
    model = await fromOnnx(path, { intraOpThreads: 1 });
    const layers = model.layers!();
    inputName = layers[0].name;
    linear = layers.filter((l) => l.kind === 'conv' || l.kind === 'dense');
    const rng = createRng(7, 1);
    const size = model.info.inputShape.reduce((a, b) => a * b, 1);
    input = {
      data: new Float32Array(n * size).map(() => low + (high - low) * rng.uniform()),
      shape: [n, ...model.info.inputShape],
    };
    const out = await model.forward(input);
    const k = model.info.numClasses;
    const cot = new Float32Array(n * k);
    const top: number[] = [];
    for (let i = 0; i < n; i++) {
      const row = Array.from(out.data.subarray(i * k, (i + 1) * k));
      top.push(row.indexOf(Math.max(...row)));
      cot[i * k + top[i]] = 1;
    }
    seed = { data: cot, shape: [n, k] };
    const copy = await model.derive!((p) => {
      params.set(`${p.layer}:${p.role}`, p.values.slice());
      return undefined;
    });
    await copy.dispose();
    const last = params.get(`${linear[linear.length - 1].name}:bias`)!;
    reaching = top.map((c, i) => out.data[i * k + c] - last[c]);
    scale = Math.max(...Array.from(out.data, Math.abs));
  });
  afterAll(async () => {
    await model.dispose();
  });

  const relevanceSums = async (pick: Composite, epsilon: number): Promise<number[]> => {
    const rules = Object.fromEntries(
      linear.map((l) => [
        l.name,
        pick(
          l,
          l.inputs.every((x) => x === inputName),
          epsilon,
        ),
      ]),
    );
    const result = await model.backward!({
      input,
      seed: { kind: 'output', cotangent: seed },
      relevance: true,
      rules: { linear: rules, foldBatchNorm: true, maxPool: 'winner' },
    });
    const r = result.inputRelevance!;
    expect(r.shape).toEqual(input.shape);
    const item = r.data.length / n;
    return Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let j = i * item; j < (i + 1) * item; j++) {
        expect(Number.isFinite(r.data[j])).toBe(true);
        s += r.data[j];
      }
      return s;
    });
  };

  it('feeds conv parameters through Identity nodes, as the issue describes', async () => {
    const graph = (await readOnnxModel(path)).graph;
    const identities = new Set(graph.node.filter((x) => x.opType === 'Identity').map((x) => x.output[0]));
    const fed = graph.node.filter(
      (x) => x.opType === 'Conv' && x.input.slice(1).some((t) => identities.has(t)),
    );
    expect(fed.length).toBeGreaterThan(linear.length / 2);
  });

  it('lists every conv and dense layer with constant weights and a bias; derive hands each its own', () => {
    expect(linear.length).toBeGreaterThan(20);
    for (const l of linear) {
      expect(l, l.name).toMatchObject({ hasWeights: true, hasBias: true });
      // FullGrad reads every layer's bias this way; the shared zero biases used to reach one layer only.
      expect(params.get(`${l.name}:weight`), l.name).toBeDefined();
      const bias = params.get(`${l.name}:bias`);
      expect(bias, l.name).toBeDefined();
      // Default BatchNorm folds into a zero bias: every path below the classifier is bias-free.
      if (l.kind === 'conv')
        expect(
          bias!.every((v) => v === 0),
          l.name,
        ).toBe(true);
    }
  });

  it('derive changing one layer of a shared bias changes that layer only', async () => {
    const graph = (await readOnnxModel(path)).graph;
    const producer = new Map(graph.node.flatMap((x) => x.output.map((y) => [y, x] as const)));
    const source = (t: string): string => {
      const p = producer.get(t);
      return p?.opType === 'Identity' ? source(p.input[0]) : t;
    };
    const convs = graph.node.filter((x) => x.opType === 'Conv');
    const target = convs.filter((x) => producer.get(x.input[2])?.opType === 'Identity').at(-1)!;
    const shared = source(target.input[2]);
    // Convs before the target in topological order are not downstream of it.
    const others = convs
      .slice(0, convs.indexOf(target))
      .filter((x) => source(x.input[2]) === shared)
      .map((x) => x.output[0]);
    expect(others.length).toBeGreaterThan(0);
    const layer = target.output[0];
    const derived = await model.derive!((p) =>
      p.layer === layer && p.role === 'bias' ? p.values.map((v) => v + 1) : undefined,
    );
    try {
      const before = (await model.capture!(input, [...others, layer])).activations;
      const after = (await derived.capture!(input, [...others, layer])).activations;
      for (const o of others) expect(Array.from(after[o].data), o).toEqual(Array.from(before[o].data));
      let worst = 0;
      after[layer].data.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - before[layer].data[i] - 1));
      });
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await derived.dispose();
    }
  });

  it.each(Object.keys(composites))(
    'composite %s runs on every layer, with finite, non-zero relevance',
    async (id) => {
      const sums = await relevanceSums(composites[id], 1e-6);
      expect(sums.some((s) => s !== 0)).toBe(true);
    },
  );

  // What the rules promise on bias-free layers: LRP-0 and ε (tiny against the layer outputs) pass
  // on everything but the classifier's bias; flat, w² and z^B hand on exactly what reaches them.
  // ReLU, ReLU6 (below 6), max-pool winners, residual sums and global pooling conserve.
  const conserving: Array<[string, Composite]> = [
    ['LRP-0', (_, __) => ({ kind: 'epsilon', epsilon: 0 })],
    ['epsilon (ε = 1e-6 · max |logit|)', composites.epsilon],
    [
      'flat on the input layer, LRP-0 elsewhere',
      (_, input) => (input ? flat : { kind: 'epsilon', epsilon: 0 }),
    ],
    [
      'w-square on the input layer, LRP-0 elsewhere',
      (_, input) => (input ? { kind: 'w-square' } : { kind: 'epsilon', epsilon: 0 }),
    ],
    [
      'z-box on the input layer, LRP-0 elsewhere',
      (_, input) => (input ? box : { kind: 'epsilon', epsilon: 0 }),
    ],
  ];
  it.each(conserving)('%s conserves relevance: Σ R = z_c − b_c within 1e-4', async (_, pick) => {
    const sums = await relevanceSums(pick, 1e-6 * scale);
    sums.forEach((s, i) => {
      expect(
        Math.abs(s - reaching[i]),
        `item ${i}: Σ R = ${s}, z_c − b_c = ${reaching[i]}`,
      ).toBeLessThanOrEqual(1e-4 * Math.abs(reaching[i]));
    });
  });

  it('no ReLU6 saturates on these inputs (else its clipped part would leave the conservation budget)', async () => {
    const clips = model.layers!()
      .filter((l) => l.op === 'Clip')
      .map((l) => l.name);
    if (clips.length === 0) return;
    const { activations } = await model.capture!(input, clips);
    for (const c of clips) expect(Math.max(...activations[c].data), c).toBeLessThan(6);
  });
});
