import { InputError, XlensError } from './errors.js';
import type { Capability, Model, ModelInfo } from './model.js';
import type { Tensor } from './tensor.js';

/**
 * A forward-only model over any async function from an input batch to `N×numClasses` scores.
 * It offers no capabilities beyond `forward`, which is enough for the perturbation methods.
 */
export function fromFunction(
  fn: (input: Tensor) => Promise<Tensor | Float32Array> | Tensor | Float32Array,
  info: Omit<ModelInfo, 'name' | 'outputKind'> & Partial<Pick<ModelInfo, 'name' | 'outputKind'>>,
): Model {
  const full: ModelInfo = { name: 'function', outputKind: 'logits', ...info };
  let disposed = false;
  return {
    info: full,
    capabilities: new Set<Capability>(),
    async forward(input) {
      if (disposed) throw new XlensError('disposed', `${full.name} was disposed`);
      const out = await fn(input);
      const data = out instanceof Float32Array ? out : out.data;
      const n = input.shape[0];
      if (data.length !== n * full.numClasses) {
        throw new InputError(
          'invalid-shape',
          `${full.name} returned ${data.length} values for ${n} items; expected ${n}×${full.numClasses}`,
        );
      }
      return { data, shape: [n, full.numClasses] };
    },
    dispose() {
      disposed = true;
    },
  };
}
