import { type AnyExplainer, item, sizeOf, type Tensor } from '@xlens/core';
import { cnnWithBatchNorm, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { compositeIds } from './composites.js';
import { relevanceMethods } from './index.js';
import { fitPatterns, type Patterns } from './pattern-fit.js';

/**
 * Options of each method's cases. `perItem` options hold one tensor per batch item; each item
 * explained alone gets its own row of them.
 */
interface Case {
  readonly options: Record<string, unknown>;
  readonly perItem?: readonly string[];
}

function casesOf(patterns: Patterns, reference: Tensor): Readonly<Record<string, readonly Case[]>> {
  const composites = compositeIds.map((composite) => ({ options: { composite } }));
  return {
    lrp: [...composites, { options: { composite: 'epsilon-plus', maxPool: 'proportional' } }],
    clrp: [{ options: {} }, { options: { composite: 'epsilon-gamma-box', clamp: false } }],
    sglrp: [{ options: {} }, { options: { composite: 'epsilon-alpha2-beta1', clamp: true } }],
    deeplift: [
      { options: { reference }, perItem: ['reference'] },
      { options: { baseline: 'blur', blurSigma: 1.5 } },
      { options: { baseline: 'mean', maxPool: 'proportional' } },
    ],
    'deep-taylor': [{ options: {} }, { options: { inputRule: 'w-square' } }],
    patternnet: [{ options: { patterns } }],
    'pattern-attribution': [{ options: { patterns } }],
  };
}

/** The options of item `i` explained alone. */
function aloneOptions(c: Case, i: number): Record<string, unknown> {
  const out = { ...c.options };
  for (const key of c.perItem ?? []) out[key] = item(out[key] as Tensor, i);
  return out;
}

// Each item of a batch gets, byte for byte, the map it gets alone: core chunks the batch
// (batchSize 2 splits 3 items as 2 + 1) and hands every chunk its items' targets and rule tensors.
describe.each([
  ['tiny-cnn', tinyCnn()],
  ['cnn-with-batchnorm', cnnWithBatchNorm()],
])('every relevance method on %s', (_, spec) => {
  const model = referenceModel(spec, { inputRange: [-1, 1] });
  const x = randomInput(model, 3, 51);
  const targets = [1, 3, 0];
  const per = sizeOf(x.shape.slice(1));
  const ids = relevanceMethods.map((m) => m.id);

  it('has a case for every method of the package', async () => {
    const cases = casesOf(await fitPatterns(model, randomInput(model, 8, 52)), x);
    expect(Object.keys(cases).sort()).toEqual([...ids].sort());
  });

  it.each(ids)('%s explains a batch of 3 item by item', async (id) => {
    const method = relevanceMethods.find((m) => m.id === id) as AnyExplainer;
    const patterns = await fitPatterns(model, randomInput(model, 8, 52));
    const reference = randomInput(model, 3, 53, -0.5, 0.5);
    for (const c of casesOf(patterns, reference)[id]) {
      const batch = await method.explain(model, x, targets, { ...c.options, batchSize: 2 });
      expect(batch.map.shape).toEqual(x.shape);
      for (let i = 0; i < 3; i++) {
        const alone = await method.explain(model, item(x, i), targets[i], {
          ...aloneOptions(c, i),
          batchSize: 2,
        });
        expect(Array.from(batch.map.data.subarray(i * per, (i + 1) * per)), `item ${i}`).toEqual(
          Array.from(alone.map.data),
        );
      }
    }
  });
});
