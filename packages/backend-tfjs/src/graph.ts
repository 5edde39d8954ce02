import type * as tf from '@tensorflow/tfjs';
import type { LayerInfo, LayerKind } from '@xlens/core';
import { UnsupportedError } from '@xlens/core';

/**
 * The parts of tfjs-layers' internal graph structure this backend walks. They are not in tfjs's
 * public typings but have been stable across 3.x and 4.x.
 * @internal
 */
export interface KSymbolic {
  readonly id: number;
  readonly name: string;
  readonly shape: readonly (number | null)[];
}
/** @internal */
export interface KNode {
  readonly outboundLayer: KLayer;
  readonly inputTensors: readonly KSymbolic[];
  readonly outputTensors: readonly KSymbolic[];
  readonly callArgs?: Record<string, unknown>;
}
/** @internal */
export interface KLayer {
  readonly name: string;
  getClassName(): string;
  readonly inboundNodes: readonly KNode[];
  readonly weights: readonly tf.LayerVariable[];
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[];
  // Present on the layers whose fields the interpreter reads.
  readonly activation?: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
  readonly useBias?: boolean;
  readonly dataFormat?: string;
  readonly maxValue?: number | null;
}
/** @internal */
export interface KContainer extends KLayer {
  readonly layers: readonly KLayer[];
  readonly inputs: readonly KSymbolic[];
  readonly outputs: readonly KSymbolic[];
  readonly inputLayers?: readonly KLayer[];
  readonly nodesByDepth: Readonly<Record<string, readonly KNode[]>>;
  /** Sequential keeps its functional graph here once built. */
  readonly model?: KContainer;
  build?(): void;
}

/** One executable step of the flattened graph: a layer applied at one node. @internal */
export interface Step {
  readonly index: number;
  /** Unique flat name: nested layers are `outer/inner`. */
  readonly name: string;
  readonly layer: KLayer;
  readonly className: string;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly kwargs: Record<string, unknown>;
  /** A nested model's entry: no compute, its output slot is `outputs[0]`. */
  readonly alias: boolean;
  /** Output shape of one item, channels-last as tfjs has it (-1 for free dims). */
  readonly itemShape: readonly number[];
  readonly info: LayerInfo;
}

/** The flattened graph of a LayersModel. @internal */
export interface Program {
  readonly inputSlot: number;
  readonly inputName: string;
  readonly outputSlot: number;
  readonly inputItemShape: readonly number[];
  readonly steps: readonly Step[];
  readonly byName: ReadonlyMap<string, Step>;
  /** Step producing each slot (aliases excluded). */
  readonly producer: ReadonlyMap<number, Step>;
  /** Steps consuming each slot. */
  readonly consumers: ReadonlyMap<number, readonly Step[]>;
}

const kinds: Record<string, LayerKind> = {
  InputLayer: 'input',
  Conv1D: 'conv',
  Conv2D: 'conv',
  Conv3D: 'conv',
  DepthwiseConv2D: 'conv',
  SeparableConv2D: 'conv',
  Conv2DTranspose: 'conv',
  Dense: 'dense',
  BatchNormalization: 'batchnorm',
  ReLU: 'activation',
  LeakyReLU: 'activation',
  PReLU: 'activation',
  ELU: 'activation',
  ThresholdedReLU: 'activation',
  Activation: 'activation',
  Softmax: 'softmax',
  MaxPooling1D: 'pool',
  MaxPooling2D: 'pool',
  AveragePooling1D: 'pool',
  AveragePooling2D: 'pool',
  GlobalAveragePooling1D: 'global-pool',
  GlobalAveragePooling2D: 'global-pool',
  GlobalMaxPooling1D: 'global-pool',
  GlobalMaxPooling2D: 'global-pool',
  Add: 'add',
  Multiply: 'multiply',
  Concatenate: 'concat',
  Flatten: 'reshape',
  Reshape: 'reshape',
  Permute: 'reshape',
  Dropout: 'dropout',
  SpatialDropout1D: 'dropout',
  AlphaDropout: 'dropout',
  GaussianDropout: 'dropout',
  GaussianNoise: 'dropout',
};

/** Whether a layer is itself a model (Sequential or functional) to be flattened. */
function isContainer(layer: KLayer): layer is KContainer {
  const c = layer as Partial<KContainer>;
  return Array.isArray(c.layers) && Array.isArray(c.inputs) && c.nodesByDepth !== undefined;
}

/** Channels-first view of a per-item channels-last shape: `[H, W, C]` → `[C, H, W]`. */
export function channelsFirstShape(shape: readonly number[]): number[] {
  if (shape.length < 2) return [...shape];
  return [shape[shape.length - 1], ...shape.slice(0, -1)];
}

function activationOf(layer: KLayer): string | undefined {
  if (layer.getClassName() === 'ReLU') return layer.maxValue != null ? `relu${layer.maxValue}` : 'relu';
  const a = layer.activation?.getClassName();
  return a && a !== 'linear' ? a : undefined;
}

function kindOf(layer: KLayer): LayerKind {
  const cls = layer.getClassName();
  if (cls === 'Activation' && layer.activation?.getClassName() === 'softmax') return 'softmax';
  return kinds[cls] ?? 'other';
}

/** Flatten a LayersModel (nested models included) into steps in topological order. @internal */
export function buildProgram(model: tf.LayersModel): Program {
  const root = model as unknown as KContainer;
  if (root.inputs.length !== 1 || root.outputs.length < 1) {
    throw new UnsupportedError(
      'invalid-model',
      `tfjs model ${root.name} has ${root.inputs.length} inputs; xlens explains single-input models`,
    );
  }
  let nextSlot = 0;
  const steps: Step[] = [];
  const byName = new Map<string, Step>();
  const slotName = new Map<number, string>();
  const inputSlot = nextSlot++;
  const inShape = root.inputs[0].shape.slice(1).map((d) => d ?? -1);
  // The input layer's name: its tensor's name carries tfjs's per-process uniquifying suffix.
  const inputName = root.inputLayers?.[0]?.name ?? root.inputs[0].name.replace(/:\d+$/, '');
  slotName.set(inputSlot, inputName);
  const uniqueName = (base: string): string => {
    if (!byName.has(base)) return base;
    let i = 2;
    while (byName.has(`${base}#${i}`)) i++;
    return `${base}#${i}`;
  };
  const push = (s: Omit<Step, 'index' | 'info'> & { kind: LayerKind; op: string }): void => {
    const shapeCf = channelsFirstShape(s.itemShape);
    const layer = s.layer;
    const info: LayerInfo = {
      name: s.name,
      kind: s.kind,
      op: s.op,
      outputShape: shapeCf,
      inputs: s.inputs.map((i) => slotName.get(i) ?? '?'),
      ...(activationOf(layer) ? { activation: activationOf(layer) } : {}),
      ...(s.alias
        ? {}
        : {
            hasWeights: layer.weights.length > 0,
            hasBias: layer.useBias === true && layer.weights.length > 1,
          }),
    };
    const step: Step = {
      index: steps.length,
      name: s.name,
      layer,
      className: s.className,
      inputs: s.inputs,
      outputs: s.outputs,
      kwargs: s.kwargs,
      alias: s.alias,
      itemShape: s.itemShape,
      info,
    };
    steps.push(step);
    byName.set(step.name, step);
    slotName.set(step.outputs[0], step.name);
  };

  const walk = (container: KContainer, inputSlots: readonly number[], prefix: string): number[] => {
    // A Sequential keeps its graph in an inner functional model, built lazily (as predict does).
    if (container.getClassName() === 'Sequential' && !container.model) container.build?.();
    const graph = container.model && isContainer(container.model) ? container.model : container;
    const slots = new Map<number, number>();
    for (let i = 0; i < graph.inputs.length; i++) slots.set(graph.inputs[i].id, inputSlots[i]);
    const depths = Object.keys(graph.nodesByDepth)
      .map(Number)
      .sort((a, b) => b - a);
    for (const depth of depths) {
      for (const node of graph.nodesByDepth[String(depth)]) {
        const layer = node.outboundLayer;
        const cls = layer.getClassName();
        if (cls === 'InputLayer') continue;
        const ins = node.inputTensors.map((t) => {
          const s = slots.get(t.id);
          if (s === undefined)
            throw new UnsupportedError(
              'invalid-model',
              `layer ${prefix}${layer.name} reads a tensor outside its model's graph`,
            );
          return s;
        });
        const name = uniqueName(prefix + layer.name);
        let outs: number[];
        if (isContainer(layer)) {
          outs = walk(layer, ins, `${name}/`);
          push({
            name,
            layer,
            className: cls,
            inputs: ins,
            outputs: outs,
            kwargs: {},
            alias: true,
            itemShape: node.outputTensors[0].shape.slice(1).map((d) => d ?? -1),
            kind: 'other',
            op: cls,
          });
        } else {
          outs = node.outputTensors.map(() => nextSlot++);
          push({
            name,
            layer,
            className: cls,
            inputs: ins,
            outputs: outs,
            kwargs: { ...(node.callArgs ?? {}) },
            alias: false,
            itemShape: node.outputTensors[0].shape.slice(1).map((d) => d ?? -1),
            kind: kindOf(layer),
            op: cls,
          });
        }
        for (let i = 0; i < node.outputTensors.length; i++) slots.set(node.outputTensors[i].id, outs[i]);
      }
    }
    return graph.outputs.map((t) => {
      const s = slots.get(t.id);
      if (s === undefined)
        throw new UnsupportedError(
          'invalid-model',
          `an output of ${prefix || container.name} is not reached from its inputs`,
        );
      return s;
    });
  };
  const outputs = walk(root, [inputSlot], '');
  const producer = new Map<number, Step>();
  const consumers = new Map<number, Step[]>();
  for (const s of steps) {
    if (s.alias) continue;
    for (const o of s.outputs) producer.set(o, s);
    for (const i of s.inputs) consumers.set(i, [...(consumers.get(i) ?? []), s]);
  }
  return {
    inputSlot,
    inputName,
    outputSlot: outputs[0],
    inputItemShape: inShape,
    steps,
    byName,
    producer,
    consumers,
  };
}

/** The LayerInfo list: the model input first, then every step. @internal */
export function layerInfos(program: Program): LayerInfo[] {
  const input: LayerInfo = {
    name: program.inputName,
    kind: 'input',
    op: 'InputLayer',
    outputShape: channelsFirstShape(program.inputItemShape),
    inputs: [],
  };
  return [input, ...program.steps.map((s) => s.info)];
}
