import { UnsupportedError } from '@xlens/core';
import { valueInfo } from '../builder.js';
import { DataType, type OnnxModel, type OnnxValueInfo } from '../proto/types.js';

/** The model with one input and one output picked and a symbolic batch dimension. */
export interface PreparedModel {
  readonly model: OnnxModel;
  readonly inputName: string;
  readonly outputName: string;
  /** Dims of one input item as declared by the model (unknown dims are -1). */
  readonly itemDims: readonly number[];
}

/** A copy of the model whose graph lists can be changed without touching the original (tensors are shared). */
export function shallowCopy(model: OnnxModel): OnnxModel {
  const g = model.graph;
  return {
    ...model,
    opsetImport: model.opsetImport.map((o) => ({ ...o })),
    graph: {
      ...g,
      node: [...g.node],
      initializer: [...g.initializer],
      input: [...g.input],
      output: [...g.output],
      valueInfo: [...g.valueInfo],
    },
  };
}

function dimsOf(v: OnnxValueInfo): number[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
    typeof d.dimValue === 'number' && d.dimValue > 0 ? d.dimValue : -1,
  );
}

/**
 * Pick the model input (the graph input that is not an initializer, or `inputName`) and output
 * (the first graph output, or `outputName`); drop the other outputs and the intermediate shape
 * annotations (they often pin the batch to 1), and make the batch dimension symbolic.
 */
export function prepareModel(
  source: OnnxModel,
  options: { inputName?: string; outputName?: string },
): PreparedModel {
  const model = shallowCopy(source);
  const g = model.graph;
  const inits = new Set(g.initializer.map((t) => t.name));
  const inputs = g.input.filter((v) => !inits.has(v.name));
  let input: OnnxValueInfo | undefined;
  if (options.inputName !== undefined) {
    input = inputs.find((v) => v.name === options.inputName);
    if (!input) {
      throw new UnsupportedError(
        'invalid-model',
        `the model has no input ${JSON.stringify(options.inputName)}; its inputs: ${inputs.map((v) => v.name).join(', ')}`,
      );
    }
  } else if (inputs.length === 1) {
    input = inputs[0];
  } else {
    throw new UnsupportedError(
      'invalid-model',
      `the model has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ')}); xlens explains single-input models: pass inputName to pick one when the others have defaults`,
    );
  }
  const elem = input.type?.tensorType?.elemType;
  if (elem !== DataType.FLOAT) {
    throw new UnsupportedError(
      'unsupported',
      `model input ${input.name} has element type ${elem}; xlens feeds float32 (type 1) inputs`,
    );
  }
  let output: OnnxValueInfo | undefined;
  if (options.outputName !== undefined) {
    output = g.output.find((v) => v.name === options.outputName);
    if (!output) {
      throw new UnsupportedError(
        'invalid-model',
        `the model has no output ${JSON.stringify(options.outputName)}; its outputs: ${g.output.map((v) => v.name).join(', ')}`,
      );
    }
  } else {
    output = g.output[0];
    if (!output) throw new UnsupportedError('invalid-model', 'the model has no outputs');
  }
  const dims = dimsOf(input);
  if (dims.length < 2) {
    throw new UnsupportedError(
      'unsupported',
      `model input ${input.name} has rank ${dims.length}; xlens needs a batch dimension and at least one item dimension`,
    );
  }
  const extra = g.input.filter((v) => inits.has(v.name));
  g.input = [valueInfo(input.name, ['N', ...dims.slice(1).map((d) => (d > 0 ? d : null))]), ...extra];
  g.output = [
    {
      name: output.name,
      type: { tensorType: { elemType: output.type?.tensorType?.elemType ?? DataType.FLOAT } },
    },
  ];
  g.valueInfo = [];
  return { model, inputName: input.name, outputName: output.name, itemDims: dims.slice(1) };
}
