// The types people touch (issue 9): extras typed per method, `Registry.get` typed by id, `coarse`
// present on CAM results, and capabilities narrowed by a check — all without casts or `!`. The
// file is compiled by `tsc` in the typecheck step, so a regression fails the build; it also runs.
import { camMethods } from '@xlens/cam';
import { hasCapabilities, type Model, Registry, type Tensor } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { gradientMethods } from '@xlens/gradients';
import { relevanceMethods } from '@xlens/relevance';
import { describe, expect, expectTypeOf, it } from 'vitest';

const registry = new Registry([...gradientMethods, ...camMethods, ...relevanceMethods]);
const model: Model = referenceModel(tinyCnn());
const x = randomInput(model, 2, 1);

describe('types of the built-in families', () => {
  it('Registry.get knows each method by id, with its extras', async () => {
    const ig = registry.get('integrated-gradients');
    expectTypeOf(ig.id).toEqualTypeOf<'integrated-gradients'>();
    const a = await ig.explain(model, x, 0, { steps: 4 });
    const gap: number = a.extras.completenessGap[0];
    expectTypeOf(a.extras.relativeCompletenessGap).toEqualTypeOf<number[]>();
    expect(Number.isFinite(gap)).toBe(true);

    const lrp = await registry.get('lrp').explain(model, x, 0);
    const conservation: number = lrp.extras.conservationGap[1];
    expect(Number.isFinite(conservation)).toBe(true);

    const deeplift = await registry.get('deeplift').explain(model, x, 0);
    expectTypeOf(deeplift.extras.completenessGap).toEqualTypeOf<number[]>();
  });

  it('CAM results carry their coarse map without `!`', async () => {
    const cam = await registry.get('grad-cam').explain(model, x, 0);
    const coarse: Tensor = cam.coarse;
    expect(coarse.shape[0]).toBe(2);
    // A gradient method promises no coarse map.
    const saliency = await registry.get('saliency').explain(model, x, 0);
    expectTypeOf(saliency.coarse).toEqualTypeOf<Tensor | undefined>();
  });

  it('a capability check narrows the model', async () => {
    if (!hasCapabilities(model, ['layers', 'gradients'])) throw new Error('the reference model has both');
    const layers = model.layers();
    const k = model.info.numClasses;
    const r = await model.backward({
      input: x,
      seed: { kind: 'output', cotangent: { data: new Float32Array(2 * k).fill(1), shape: [2, k] } },
    });
    expect(layers.length).toBeGreaterThan(0);
    expect(r.output.shape).toEqual([2, k]);
  });

  it('ids not registered are still accepted as strings (CLI input), typed as any registered method', () => {
    const fromUser: string = 'smoothgrad';
    expect(registry.get(fromUser).id).toBe('smoothgrad');
  });
});
