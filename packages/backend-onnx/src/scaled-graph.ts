import { OnnxGraphBuilder } from './builder.js';
import { shallowCopy } from './graph/prepare.js';
import type { OnnxModel } from './proto/types.js';

/**
 * A copy of the model where tensor `target` (rank `rank`, channels on axis 1) is multiplied by a
 * per-item, per-channel scale fed as graph input `[N, C]` before anything reads it.
 */
export function scaledGraph(
  model: OnnxModel,
  target: string,
  rank: number,
): { model: OnnxModel; scaleInput: string } {
  const copy = shallowCopy(model);
  const b = OnnxGraphBuilder.extend(copy);
  const scaleInput = b.input(b.unique('xlens/scale'), ['N', null]);
  const shape = b.int64('xlens/scale_shape', [0, -1, ...new Array(Math.max(0, rank - 2)).fill(1)]);
  const before = copy.graph.node.length;
  const reshaped = b.node('Reshape', [scaleInput, shape], {}, { name: 'xlens/scale_reshape' });
  const scaled = b.node('Mul', [target, reshaped], {}, { name: 'xlens/scale_mul' });
  const added = copy.graph.node.splice(before);
  const nodes = copy.graph.node.map((n) =>
    n.input.includes(target) ? { ...n, input: n.input.map((x) => (x === target ? scaled : x)) } : n,
  );
  const at = nodes.findIndex((n) => n.output.includes(target));
  nodes.splice(at + 1, 0, ...added);
  copy.graph.node = nodes;
  copy.graph.output = copy.graph.output.map((o) => (o.name === target ? { ...o, name: scaled } : o));
  return { model: copy, scaleInput };
}
