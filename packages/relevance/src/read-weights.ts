import { CapabilityError, type Model, type Tensor } from '@xlens/core';

/**
 * The weight tensors (canonical layout: conv `O×I×kH×kW`, dense `out×in`) of the named layers,
 * read through the contract's `derive`: the transform records each weight and keeps it, and the
 * derived copy is disposed at once.
 */
export async function readWeights(
  model: Model,
  layers: Iterable<string>,
  method: string,
): Promise<Map<string, Tensor>> {
  if (!model.derive || !model.capabilities.has('derive')) {
    throw new CapabilityError(
      `${method} reads layer weights through derive, which ${model.info.name} does not offer`,
    );
  }
  const names = new Set(layers);
  const found = new Map<string, Tensor>();
  const copy = await model.derive((p) => {
    if (p.role === 'weight' && names.has(p.layer))
      found.set(p.layer, { data: p.values.slice(), shape: [...p.shape] });
    return undefined;
  });
  await copy.dispose();
  return found;
}
