// Every method explains each item of a batch exactly (byte for byte) as it explains that item
// alone, with chunks of rows that straddle items (batchSize 2 for 3 items). CCAM's group is the
// batch by definition, so it is checked for independence from the chunking instead.
import type { Attribution, Extras, Tensor } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { itemOf, maxAbs } from '../test/fixtures.js';
import { camMethods } from './index.js';

const model = referenceModel(tinyCnn());
const x = randomInput(model, 3, 161);
const targets = [4, 0, 2];
const own: Record<string, Record<string, unknown>> = {
  'smooth-grad-cam-plus-plus': { sigma: 0.2, samples: 3, seed: 5 },
  clear: { classes: 3 },
};

const bytes = (t: Tensor | undefined): number[] => Array.from(t?.data ?? []);

function expectItem(batch: Attribution, i: number, alone: Attribution): void {
  expect(bytes(itemOf(batch.map, i))).toEqual(bytes(alone.map));
  if (alone.coarse) expect(bytes(itemOf(batch.coarse!, i))).toEqual(bytes(alone.coarse));
  expect(maxAbs(alone.map)).toBeGreaterThan(0);
}

describe('a batch gives each item the map it gets alone', () => {
  // The automatic layer (relu2) feeds GAP→dense, where layer gradients do not depend on the input;
  // conv1 (not for CAM, which needs that head) and the fusion make noise and gradients matter.
  const variants = (id: string, fuses: boolean): [string, Record<string, unknown>][] => {
    const base = { relu: false, batchSize: 2, ...own[id] };
    const out: [string, Record<string, unknown>][] = [['last layer', base]];
    if (id !== 'cam') out.push(['conv1', { ...base, layer: 'conv1' }]);
    if (fuses) out.push(['fused conv1 + relu2', { ...base, layers: 'conv1, relu2' }]);
    return out;
  };

  for (const method of camMethods) {
    for (const [name, opts] of variants(method.id, 'layers' in method.defaults)) {
      if (method.id === 'ccam') {
        it(`ccam (${name}): the group's maps do not depend on batchSize`, async () => {
          const chunked = await method.explain(model, x, targets, opts);
          const whole = await method.explain(model, x, targets, { ...opts, batchSize: 3 });
          expect(bytes(chunked.map)).toEqual(bytes(whole.map));
          expect(bytes(chunked.coarse)).toEqual(bytes(whole.coarse));
          expect(maxAbs(chunked.map)).toBeGreaterThan(0);
        });
        continue;
      }
      it(`${method.id} (${name})`, async () => {
        const batch = await method.explain(model, x, targets, opts);
        expect(batch.map.shape[0]).toBe(3);
        for (let i = 0; i < 3; i++) {
          const alone = await method.explain(model, itemOf(x, i), targets[i], opts);
          expectItem(batch, i, alone);
          if (batch.method === 'clear') {
            const per = alone.map.data.length;
            const extras: Extras = batch.extras;
            const aloneExtras: Extras = alone.extras;
            const classes = extras.dominantClass as number[];
            expect(classes.slice(i * per, (i + 1) * per)).toEqual(aloneExtras.dominantClass);
          }
        }
      });
    }
  }
});
