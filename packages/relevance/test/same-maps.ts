/**
 * The cross-backend check: every relevance method, with every composite, gives the same map on a
 * backend as on core's float64 reference model of the same toy spec.
 */
import type { Layout, Model, Tensor } from '@xlens/core';
import { referenceModel, type ToySpec } from '@xlens/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compositeIds } from '../src/composites.js';
import {
  clrp,
  deeplift,
  deepTaylor,
  fitPatterns,
  lrp,
  patternAttribution,
  patternnet,
  sglrp,
} from '../src/index.js';
import { randomInput } from './fixtures.js';

/** How to open a backend model of a spec, and what to check around each call. */
export interface BackendUnderTest {
  readonly name: string;
  readonly layout: Layout;
  open(spec: ToySpec): Promise<Model>;
  /** Returns a check to run after the call (e.g. no leaked tensors). */
  around?(): () => void;
  /** Dense layers whose pattern rules cannot be compared on this backend, with the reason. */
  patternGap?(spec: ToySpec): string[];
}

function maxAbsDiff(a: Tensor, b: Tensor): { diff: number; scale: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    scale = Math.max(scale, Math.abs(b.data[i]));
  }
  return { diff, scale };
}

/** Register the cross-backend tests for `specs`. */
export function describeSameMaps(backend: BackendUnderTest, specs: readonly ToySpec[]): void {
  describe.each(specs)(`on ${backend.name}: $name`, (spec: ToySpec) => {
    let model: Model;
    const reference = referenceModel(spec, { layout: backend.layout, inputRange: [-1, 1] });
    const x = randomInput(reference, 2, 51);
    const same = async (name: string, run: (m: Model) => Promise<{ map: Tensor }>) => {
      const check = backend.around?.();
      const got = await run(model);
      check?.();
      const want = await run(reference);
      expect(got.map.shape).toEqual(want.map.shape);
      const { diff, scale } = maxAbsDiff(got.map, want.map);
      expect(diff, name).toBeLessThan(1e-3 * Math.max(1, scale));
    };

    beforeAll(async () => {
      model = await backend.open(spec);
    });
    afterAll(async () => {
      await model.dispose();
    });

    it.each(compositeIds)('lrp with composite %s', async (composite) => {
      await same(composite, (m) => lrp.explain(m, x, [0, 1], { composite, epsilon: 0.01, gamma: 0.25 }));
    });

    it('lrp with proportional max-pooling and without BatchNorm folding', async () => {
      await same('proportional', (m) =>
        lrp.explain(m, x, 1, {
          composite: 'epsilon-alpha2-beta1',
          maxPool: 'proportional',
          foldBatchNorm: false,
        }),
      );
    });

    it('clrp, sglrp, deep-taylor', async () => {
      await same('clrp', (m) => clrp.explain(m, x, [2, 0], { clamp: false }));
      await same('sglrp', (m) => sglrp.explain(m, x, [2, 0]));
      await same('deep-taylor', (m) => deepTaylor.explain(m, x, 0));
    });

    it('deeplift against zero and blurred references', async () => {
      await same('deeplift zero', (m) => deeplift.explain(m, x, 1, { batchSize: 1 }));
      await same('deeplift blur', (m) => deeplift.explain(m, x, 1, { baseline: 'blur', blurSigma: 1 }));
    });

    it('patternnet and pattern-attribution with patterns fitted on either backend', async () => {
      const data = randomInput(reference, 8, 52);
      const gap = backend.patternGap?.(spec) ?? [];
      const layers = spec.layers.flatMap((l) =>
        (l.type === 'conv' || l.type === 'dense') && !gap.includes(l.name) ? [l.name] : [],
      );
      const fittedHere = await fitPatterns(model, data, { layers });
      const fittedThere = await fitPatterns(reference, data, { layers });
      for (const name of layers) {
        const { diff, scale } = maxAbsDiff(fittedHere.layers[name].pattern, fittedThere.layers[name].pattern);
        expect(diff, name).toBeLessThan(1e-3 * Math.max(1, scale));
      }
      await same('patternnet', (m) => patternnet.explain(m, x, 0, { patterns: fittedThere }));
      await same('pattern-attribution', (m) =>
        patternAttribution.explain(m, x, 0, { patterns: fittedThere }),
      );
    });
  });
}
