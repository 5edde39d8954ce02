import * as tf from '@tensorflow/tfjs';
import { InputError, type LayerInfo, type WeightParam, type WeightTransform } from '@xlens/core';
import { denseFlattenedFrom } from './contract.js';
import { buildProgram, type Program } from './graph.js';
import { fromCanonical, toCanonical } from './linear-rules.js';

type Role = WeightParam['role'];

function roleOf(variableName: string): Role {
  const leaf = variableName.split('/').pop()!.replace(/_\d+$/, '');
  if (leaf === 'kernel' || leaf === 'depthwise_kernel' || leaf === 'pointwise_kernel' || leaf === 'gamma')
    return 'weight';
  if (leaf === 'bias' || leaf === 'beta') return 'bias';
  return 'other';
}

/**
 * Canonical layout of a tfjs weight: HWIO → OIHW, depthwise HWCM → (C·M)×1×H×W, dense in×out →
 * out×in (with `in` in (C, H, W) order after a Flatten).
 */
function layoutOf(
  className: string,
  variableName: string,
  rank: number,
): 'conv' | 'depthwise' | 'dense' | null {
  const leaf = variableName.split('/').pop()!.replace(/_\d+$/, '');
  if (leaf === 'depthwise_kernel' && rank === 4) return 'depthwise';
  if ((leaf === 'kernel' || leaf === 'pointwise_kernel') && rank === 4) return 'conv';
  if (leaf === 'kernel' && rank === 2 && className === 'Dense') return 'dense';
  return null;
}

/** A BatchNorm statistic's name, and the layer's ε on each of its parameters (ADR 0006). */
function batchNormFacts(
  step: Program['steps'][number],
  variableName: string,
): Pick<WeightParam, 'statistic' | 'epsilon'> {
  if (step.className !== 'BatchNormalization') return {};
  const leaf = variableName.split('/').pop()!.replace(/_\d+$/, '');
  // tfjs keeps ε on the BatchNormalization layer object (default 1e-3, as in Keras).
  const epsilon = (step.layer as { readonly epsilon?: number }).epsilon ?? 1e-3;
  if (leaf === 'moving_mean') return { statistic: 'mean', epsilon };
  if (leaf === 'moving_variance') return { statistic: 'variance', epsilon };
  return { epsilon };
}

/**
 * Read-only copies of the parameters of the named layers (all when `names` is absent), as
 * `deriveLayersModel` hands them to a transform: the `weights` capability (ADR 0006).
 * @internal
 */
export async function readLayersModelWeights(
  program: Program,
  layers: readonly LayerInfo[],
  names?: ReadonlySet<string>,
): Promise<WeightParam[]> {
  const params: WeightParam[] = [];
  await walkParams(program, layers, names, async (param) => {
    params.push(param);
  });
  return params;
}

/** Every parameter of every weighted step, in the canonical layout, in program order. */
async function walkParams(
  program: Program,
  layers: readonly LayerInfo[],
  names: ReadonlySet<string> | undefined,
  visit: (
    param: WeightParam,
    step: Program['steps'][number],
    original: tf.Tensor,
    layout: ReturnType<typeof layoutOf>,
    flattened: ReturnType<typeof denseFlattenedFrom> | null,
  ) => Promise<void>,
): Promise<void> {
  const indexOf = new Map(layers.map((l, i) => [l.name, i]));
  const seen = new Set<unknown>();
  for (const step of program.steps) {
    if (step.alias || seen.has(step.layer) || step.layer.weights.length === 0) continue;
    seen.add(step.layer);
    if (names && !names.has(step.name)) continue;
    for (const v of step.layer.weights) {
      const original = v.read();
      const layout = layoutOf(step.className, v.originalName, original.rank);
      // A Dense after a Flatten hands out `in` in the (C, H, W) order its captured input has.
      const flattened = layout === 'dense' ? denseFlattenedFrom(program, step) : null;
      const canonical = layout ? toCanonical(layout, original, flattened) : original;
      const host = (await canonical.data()) as Float32Array;
      if (canonical !== original) canonical.dispose();
      await visit(
        {
          layer: step.name,
          layerIndex: indexOf.get(step.name)!,
          role: roleOf(v.originalName),
          shape: [...canonical.shape],
          values: Float32Array.from(host),
          ...batchNormFacts(step, v.originalName),
        },
        step,
        original,
        layout,
        flattened,
      );
    }
  }
}

/**
 * A copy of `model` (same topology, fresh variables; `copy` makes it, by default from the model's
 * JSON) whose weights are `transform`ed in the canonical layout of `WeightParam`. The original
 * model is not touched.
 * @internal
 */
export async function deriveLayersModel(
  model: tf.LayersModel,
  program: Program,
  layers: readonly LayerInfo[],
  transform: WeightTransform,
  copy: () => Promise<tf.LayersModel> = () =>
    tf.models.modelFromJSON({
      modelTopology: model.toJSON(undefined, false) as tf.io.ModelJSON['modelTopology'],
    }),
): Promise<tf.LayersModel> {
  const clone = await copy();
  try {
    const cloneProgram = buildProgram(clone);
    const pending = new Map<string, tf.Tensor[]>();
    await walkParams(program, layers, undefined, async (param, step, original, layout, flattened) => {
      const values = pending.get(step.name) ?? [];
      pending.set(step.name, values);
      const next = transform(param);
      if (next === undefined) values.push(original.clone());
      else {
        if (!(next instanceof Float32Array) || next.length !== param.values.length) {
          for (const t of values) t.dispose();
          throw new InputError(
            'invalid-input',
            `weight transform returned ${next instanceof Float32Array ? next.length : typeof next} values for ${step.name} ${step.layer.weights[values.length].originalName}; expected a Float32Array of ${param.values.length}`,
          );
        }
        const t = tf.tensor(next, param.shape as number[], 'float32');
        values.push(layout ? fromCanonical(layout, t, original.shape, flattened) : t);
        if (layout) t.dispose();
      }
      if (values.length === step.layer.weights.length) {
        const target = cloneProgram.byName.get(step.name)!;
        for (let i = 0; i < values.length; i++) target.layer.weights[i].write(values[i]);
        for (const t of values) t.dispose();
        pending.delete(step.name);
      }
    });
    return clone;
  } catch (e) {
    clone.dispose();
    throw e;
  }
}
