import { CapabilityError, type LayerInfo, type Model } from '@xlens/core';

/** Layer kinds that LRP's linear rules apply to. */
export const linearKinds: ReadonlySet<LayerInfo['kind']> = new Set(['conv', 'dense']);

/** Layer kinds that pass values through unchanged, so a layer behind them still "sees" the input. */
const transparentKinds: ReadonlySet<LayerInfo['kind']> = new Set(['reshape', 'dropout']);

/** One linear layer with the facts a composite decides on. */
export interface LinearLayer {
  readonly layer: LayerInfo;
  /** Position in `model.layers()` order. */
  readonly index: number;
  /** Position among the linear layers (0 = first). */
  readonly linearIndex: number;
  /** Number of linear layers in the model. */
  readonly linearCount: number;
  /** Fed by the model input up to reshapes: where `z-box`, `w-square` and `flat` may sit. */
  readonly inputFed: boolean;
}

/** `model.layers()`, or a capability error naming the method that needs it. */
export function layersOf(model: Model, method: string): readonly LayerInfo[] {
  if (!model.layers || !model.capabilities.has('layers')) {
    throw new CapabilityError(
      `${method} needs the layer list (capability layers), which ${model.info.name} does not offer`,
    );
  }
  return model.layers();
}

/**
 * Whether a layer reads the model input directly or through value-preserving reshapes only.
 * A name in `inputs` that is not a listed layer, or a layer of kind `input`, is the model input.
 */
export function isInputFed(layer: LayerInfo, byName: ReadonlyMap<string, LayerInfo>): boolean {
  if (layer.inputs.length === 0) return true;
  return layer.inputs.every((name) => {
    const source = byName.get(name);
    if (!source || source.kind === 'input') return true;
    return transparentKinds.has(source.kind) && isInputFed(source, byName);
  });
}

/** The model's conv and dense layers in topological order, with position facts. */
export function linearLayers(layers: readonly LayerInfo[]): LinearLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const linear = layers
    .map((layer, index) => ({ layer, index }))
    .filter(({ layer }) => linearKinds.has(layer.kind));
  return linear.map(({ layer, index }, linearIndex) => ({
    layer,
    index,
    linearIndex,
    linearCount: linear.length,
    inputFed: isInputFed(layer, byName),
  }));
}
