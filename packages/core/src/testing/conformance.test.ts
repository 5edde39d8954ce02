import { describe, expect, it } from 'vitest';
import type { BackwardRequest, Capability, Model } from '../model.js';
import { multiplicativeNoise } from '../weights.js';
import { type ConformanceCase, conformanceCases } from './conformance.js';
import { referenceModel } from './reference-model.js';

const cases = conformanceCases();
const find = (prefix: string): ConformanceCase => {
  const c = cases.find((x) => x.name.startsWith(prefix));
  if (!c) throw new Error(`no case ${prefix}`);
  return c;
};

/** The reference with some members replaced: a stand-in for a buggy or partial backend. */
function patched(model: Model, patch: Partial<Model> & { capabilities?: ReadonlySet<Capability> }): Model {
  return { ...model, ...patch };
}

async function failure(c: ConformanceCase, model: Model, layout: 'NCHW' | 'NHWC' = 'NCHW'): Promise<string> {
  try {
    await c.check(model, referenceModel(c.spec, { layout }));
  } catch (e) {
    return (e as Error).message;
  }
  return 'passed';
}

describe('conformance cases', () => {
  it('have unique names and cover every capability', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    const covered = new Set(cases.flatMap((c) => c.requires));
    expect([...covered].sort()).toEqual([
      'capture',
      'derive',
      'forward-scaled',
      'gradients',
      'layer-gradients',
      'layers',
      'linear-rules',
      'relu-rules',
      'weights',
    ]);
  });
  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`all pass on the reference model itself (${layout})`, async () => {
      for (const c of cases)
        expect(await failure(c, referenceModel(c.spec, { layout }), layout), c.name).toBe('passed');
    });
  }
  it('each case throws, naming the capability, when one it requires is missing', async () => {
    for (const c of cases) {
      for (const cap of c.requires) {
        const caps = new Set(referenceModel(c.spec).capabilities);
        caps.delete(cap);
        expect(
          await failure(c, patched(referenceModel(c.spec), { capabilities: caps })),
          `${c.name} without ${cap}`,
        ).toMatch(new RegExp(`needs capability ${cap}`));
      }
    }
  });
  it('a layout or interface mismatch is reported, not compared', async () => {
    const c = find('forward: tiny-cnn');
    expect(await failure(c, referenceModel(c.spec, { layout: 'NHWC' }))).toMatch(
      /layout NHWC but reference layout NCHW/,
    );
  });
});

describe('conformance cases catch broken backends', () => {
  it('slightly wrong weights fail the forward case', async () => {
    const c = find('forward: cnn-with-batchnorm');
    const off = await referenceModel(c.spec).derive!(multiplicativeNoise(0.01, 1));
    expect(await failure(c, off)).toMatch(/max \|difference\|/);
  });
  it('guided backprop implemented as the plain gradient fails the guided case', async () => {
    const c = find('relu rule guided: tiny-cnn');
    const ref = referenceModel(c.spec);
    const wrong = patched(ref, {
      backward: (r: BackwardRequest) => ref.backward!({ ...r, rules: { ...r.rules, relu: 'gradient' } }),
    });
    expect(await failure(c, wrong)).toMatch(/inputGradient: max \|difference\|/);
  });
  it('ignoring foldBatchNorm fails the folding case', async () => {
    const c = find('fold batchnorm: ');
    const ref = referenceModel(c.spec);
    const wrong = patched(ref, {
      backward: (r: BackwardRequest) => ref.backward!({ ...r, rules: { ...r.rules, foldBatchNorm: false } }),
    });
    expect(await failure(c, wrong)).toMatch(/max \|difference\|/);
  });
  it('max-pool proportional treated as winner fails', async () => {
    const c = find('max-pool proportional: tiny-cnn');
    const ref = referenceModel(c.spec);
    const wrong = patched(ref, {
      backward: (r: BackwardRequest) => ref.backward!({ ...r, rules: { ...r.rules, maxPool: 'winner' } }),
    });
    expect(await failure(c, wrong)).not.toBe('passed');
  });
  it('accepting an input-only rule on a deeper layer fails', async () => {
    const c = find('input-only rule on a deeper layer');
    const ref = referenceModel(c.spec);
    const lax = patched(ref, { backward: (r: BackwardRequest) => ref.backward!({ ...r, rules: undefined }) });
    expect(await failure(c, lax)).toMatch(/expected an XlensError with code unsupported-rule/);
  });
  it('a model whose batch results depend on the batch fails the batch case', async () => {
    const c = find('batch of N equals items one by one, forward: tiny-dense');
    const ref = referenceModel(c.spec);
    const leaky = patched(ref, {
      forward: async (x) => {
        const out = await ref.forward(x);
        return { data: out.data.map((v) => v + x.shape[0] * 1e-2), shape: out.shape };
      },
    });
    expect(await failure(c, leaky)).toMatch(/max \|difference\|/);
  });
  it('a missing or misplaced layer fails the layers case', async () => {
    const c = find('layers: tiny-cnn');
    const ref = referenceModel(c.spec);
    const shuffled = patched(ref, { layers: () => [...ref.layers!()].reverse() });
    expect(await failure(c, shuffled)).toMatch(/topological order/);
    const missing = patched(ref, { layers: () => ref.layers!().filter((l) => l.name !== 'gap') });
    expect(await failure(c, missing)).toMatch(/layer gap is missing/);
  });
  it('derive that changes the original model fails', async () => {
    const c = find('derive randomizeLayers');
    const ref = referenceModel(c.spec);
    let current: Model = ref;
    const mutating = patched(ref, {
      forward: (x) => current.forward(x),
      derive: async (t) => {
        current = await ref.derive!(t);
        return current;
      },
    });
    expect(await failure(c, mutating)).toMatch(/original model changed by derive/);
  });
});
