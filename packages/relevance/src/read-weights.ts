import { CapabilityError, type Model, type Tensor } from '@xlens/core';

/**
 * The weight tensors (canonical layout: conv `O×I×kH×kW`, dense `out×in`) of the named layers,
 * read through the contract's read-only `weights` capability (ADR 0006).
 */
export async function readWeights(
  model: Model,
  layers: Iterable<string>,
  method: string,
): Promise<Map<string, Tensor>> {
  if (!model.weights || !model.capabilities.has('weights')) {
    throw new CapabilityError(
      `${method} reads layer weights through the weights capability, which ${model.info.name} does not offer`,
    );
  }
  const found = new Map<string, Tensor>();
  for (const p of await model.weights([...layers]))
    if (p.role === 'weight') found.set(p.layer, { data: p.values, shape: [...p.shape] });
  return found;
}
