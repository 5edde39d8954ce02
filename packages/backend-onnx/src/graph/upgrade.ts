import { UnsupportedError } from '@xlens/core';
import { OnnxGraphBuilder } from '../builder.js';
import { floatTensor } from '../proto/tensor-data.js';
import { DataType, type OnnxNode } from '../proto/types.js';
import { attr, attrInts, type GraphInfo } from './graph-info.js';
import { shallowCopy } from './prepare.js';

/** The opset backward graphs need: `ScatterElements(reduction='add')` arrived in opset 16. */
export const backwardOpset = 16;

function without(node: OnnxNode, names: readonly string[]): OnnxNode {
  return { ...node, attribute: node.attribute.filter((a) => !names.includes(a.name)) };
}

/**
 * A copy of the model at opset ≥ 16, with the nodes whose signature changed between the model's
 * opset and 16 rewritten to keep their meaning: axes/split attributes that became inputs (opset
 * 13), Softmax-family axis semantics (13), Dropout's ratio (12), Clip and Pad attributes (11),
 * Slice attributes (10). Upsample (deprecated at 10) is not rewritten. Tensor names are kept, so
 * the probe's facts still apply.
 */
export function upgradeOpset(info: GraphInfo): GraphInfo['model'] {
  const model = shallowCopy(info.model);
  const from = info.opset;
  if (from >= backwardOpset) return model;
  const b = OnnxGraphBuilder.extend(model);
  b.setOpset(backwardOpset);
  const out: OnnxNode[] = [];
  const constantInput = (values: readonly number[]) => b.int64('xlens/upgrade', values);
  for (const node of model.graph.node) {
    if (node.domain && node.domain !== 'ai.onnx') {
      out.push(node);
      continue;
    }
    const op = node.opType;
    if (op === 'Upsample') {
      throw new UnsupportedError(
        'unsupported-op',
        `op Upsample (node ${node.name}) at opset ${from}: re-export the model at opset 11 or later to compute gradients`,
      );
    }
    if (from < 13 && ['Squeeze', 'Unsqueeze', 'ReduceSum', 'Split'].includes(op)) {
      const key = op === 'Split' ? 'split' : 'axes';
      const values = attrInts(node, key);
      const n = without(node, [key]);
      if (values !== undefined) n.input = [node.input[0], constantInput(values)];
      out.push(n);
      continue;
    }
    if (from < 13 && ['Softmax', 'LogSoftmax', 'Hardmax'].includes(op)) {
      const rank = info.rank(node.input[0]);
      const raw = attr(node, 'axis')?.i ?? 1;
      const axis = rank !== undefined && raw < 0 ? raw + rank : raw;
      if (rank === undefined || axis === rank - 1) {
        out.push({
          ...without(node, ['axis']),
          attribute: [...without(node, ['axis']).attribute, { name: 'axis', type: 2, i: -1 }],
        });
        continue;
      }
      // Old semantics: softmax over the input flattened to 2-D at `axis`.
      const flat = b.unique(`${node.output[0]}/flat`);
      const soft = b.unique(`${node.output[0]}/soft`);
      const shape = b.unique(`${node.output[0]}/shape`);
      const facts = info.facts.get(node.input[0]);
      if (facts) {
        const flatten = (d: readonly number[]) => [
          d.slice(0, axis).reduce((a, c) => a * c, 1),
          d.slice(axis).reduce((a, c) => a * c, 1),
        ];
        const flatFacts = {
          dtype: facts.dtype,
          shape1: flatten(facts.shape1),
          shape2: flatten(facts.shape2),
        };
        info.facts.set(flat, flatFacts);
        info.facts.set(soft, flatFacts);
        info.facts.set(shape, { dtype: DataType.INT64, shape1: [rank], shape2: [rank] });
      }
      out.push({
        input: [node.input[0]],
        output: [flat],
        name: `${node.name}/flatten`,
        opType: 'Flatten',
        attribute: [{ name: 'axis', type: 2, i: axis }],
      });
      out.push({
        ...without(node, ['axis']),
        input: [flat],
        output: [soft],
        attribute: [{ name: 'axis', type: 2, i: 1 }],
      });
      out.push({
        input: [node.input[0]],
        output: [shape],
        name: `${node.name}/shape`,
        opType: 'Shape',
        attribute: [],
      });
      out.push({
        input: [soft, shape],
        output: [...node.output],
        name: `${node.name}/reshape`,
        opType: 'Reshape',
        attribute: [],
      });
      continue;
    }
    if (from < 12 && op === 'Dropout') {
      out.push(without(node, ['ratio']));
      continue;
    }
    if (from < 11 && op === 'Clip') {
      const min = attr(node, 'min')?.f;
      const max = attr(node, 'max')?.f;
      const n = without(node, ['min', 'max']);
      n.input = [
        node.input[0],
        min === undefined ? '' : b.tensor(floatTensor('xlens/upgrade', [min], [])),
        max === undefined ? '' : b.tensor(floatTensor('xlens/upgrade', [max], [])),
      ];
      out.push(n);
      continue;
    }
    if (from < 11 && op === 'Pad') {
      const pads = attrInts(node, 'pads') ?? [];
      const value = attr(node, 'value')?.f ?? 0;
      const n = without(node, ['pads', 'value']);
      n.input = [node.input[0], constantInput(pads), b.tensor(floatTensor('xlens/upgrade', [value], []))];
      out.push(n);
      continue;
    }
    if (from < 10 && op === 'Slice') {
      const starts = attrInts(node, 'starts') ?? [];
      const ends = attrInts(node, 'ends') ?? [];
      const axes = attrInts(node, 'axes') ?? starts.map((_, i) => i);
      const n = without(node, ['starts', 'ends', 'axes']);
      n.input = [node.input[0], constantInput(starts), constantInput(ends), constantInput(axes)];
      out.push(n);
      continue;
    }
    out.push(node);
  }
  model.graph.node = out;
  return model;
}
