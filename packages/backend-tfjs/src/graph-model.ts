import type * as tf from '@tensorflow/tfjs';
import { type OutputActivation, UnsupportedError, XlensError } from '@xlens/core';
import { executorModel } from './graph-executor.js';
import type { GNode } from './graph-layers.js';
import {
  chooseOutput,
  type GraphView,
  graphNodes,
  probeTensors,
  splitPort,
  tensorKey,
} from './graph-nodes.js';
import { type GraphTranslation, translateGraph } from './graph-translate.js';
import { fromLayersModel } from './layers-model.js';
import type { FromTfjsOptions, TfjsModel } from './options.js';

const passThrough = new Set(['Identity', 'StopGradient', 'Snapshot']);
const headOps: Record<string, OutputActivation['kind']> = { Softmax: 'softmax', LogSoftmax: 'log-softmax' };

/** The softmax or log-softmax computing `key` (through `Identity`), with the tensor it reads. */
function findHead(
  view: GraphView,
  key: string,
): { node: string; input: string; kind: OutputActivation['kind'] } | null {
  let [name, port] = splitPort(key);
  for (;;) {
    const node = view.nodes[name];
    if (!node || port !== 0) return null;
    const kind = headOps[node.op];
    if (kind)
      return node.inputNames.length >= 1
        ? { node: node.name, input: tensorKey(node.inputNames[0]), kind }
        : null;
    if (!passThrough.has(node.op) || node.inputNames.length !== 1) return null;
    [name, port] = splitPort(node.inputNames[0]);
  }
}

/**
 * The `Model` over a tfjs GraphModel (tfjs-converter output). The GraphDef is translated into the
 * Keras layers the LayersModel interpreter runs (ADR 0007), so a GraphModel gets every capability a
 * LayersModel has. Output names may carry a port (`Identity:0`, as TF2 signatures write them). A
 * softmax head is removed unless `stripSoftmax: false`. Graphs that cannot be translated fall back
 * to the GraphModel executor (forward, capture, gradients), with a warning saying why.
 * @internal
 */
export function fromGraphModel(model: tf.GraphModel, options: FromTfjsOptions): TfjsModel {
  if (model.inputs.length !== 1) {
    throw new UnsupportedError(
      'invalid-model',
      `GraphModel has ${model.inputs.length} inputs (${model.inputs.map((i) => i.name).join(', ')}); xlens explains single-input models`,
    );
  }
  const nodes = graphNodes(model);
  const input = model.inputs[0];
  const inputName = splitPort(input.name)[0];
  const itemShape = (input.shape ?? []).slice(1);
  if (itemShape.length === 0 || itemShape.some((d) => d < 0)) {
    throw new UnsupportedError(
      'invalid-model',
      `GraphModel input ${input.name} has dimensions [${(input.shape ?? []).join(', ')}]; xlens needs fixed item dimensions (only the batch may be free)`,
    );
  }
  const view: GraphView = { model, nodes, inputName, itemShape };
  const outputFacts = (key: string) => {
    try {
      return probeTensors(view, [key]).get(key)?.shape;
    } catch {
      return undefined;
    }
  };
  const { key: output } = chooseOutput(view, options.outputNode, outputFacts);
  const head = findHead(view, output);
  const strip = head !== null && options.stripSoftmax !== false;
  const top = strip && head ? head.input : output;
  let translation: GraphTranslation | null = null;
  let failure: unknown;
  try {
    translation = translateGraph(view, top, strip && head ? head.node : undefined);
  } catch (e) {
    if (e instanceof XlensError) throw e;
    failure = e;
  }
  const outputActivation: OutputActivation | undefined = head
    ? {
        kind: head.kind,
        layer: (strip ? translation?.namedAs : translation?.aliases.get(head.node)) ?? head.node,
        removed: strip,
      }
    : undefined;
  if (translation) {
    const keras = translation.build();
    try {
      return fromLayersModel(
        keras,
        { ...options, name: options.name ?? 'graph-model' },
        {
          translation,
          source: model,
          ...(outputActivation ? { head: outputActivation } : {}),
        },
      );
    } catch (e) {
      keras.dispose();
      for (const t of translation.owned) t.dispose();
      throw e;
    }
  }
  const reason = `the graph could not be translated into layers (${(failure as Error)?.message ?? failure}): it runs in the GraphModel executor with forward, capture and plain gradients only`;
  return executorModel(
    model,
    nodes as unknown as Record<string, GNode>,
    inputName,
    itemShape,
    top,
    outputActivation,
    [reason],
    options,
  );
}
