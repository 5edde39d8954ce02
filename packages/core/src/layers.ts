import { CapabilityError, LayerError } from './errors.js';
import type { LayerInfo, Model } from './model.js';

function layerList(model: Model): readonly LayerInfo[] {
  if (!model.layers || !model.capabilities.has('layers')) {
    throw new CapabilityError(`${model.info.name} does not list its layers (capability layers)`);
  }
  return model.layers();
}

/** Whether a layer's output is a spatial map `[C, H, W]` with H, W > 1. */
export function isSpatial(layer: LayerInfo): boolean {
  const s = layer.outputShape;
  return s.length === 3 && s[1] > 1 && s[2] > 1;
}

/** The layer with this name, or an `unknown-layer` error listing close candidates. */
export function findLayer(model: Model, name: string): LayerInfo {
  const layers = layerList(model);
  const found = layers.find((l) => l.name === name);
  if (found) return found;
  const names = layers.map((l) => l.name);
  const close = names.filter(
    (n) => n.toLowerCase().includes(name.toLowerCase()) || name.toLowerCase().includes(n.toLowerCase()),
  );
  const hint =
    close.length > 0
      ? `did you mean ${close.slice(0, 5).join(', ')}?`
      : `layers: ${names.slice(0, 30).join(', ')}${names.length > 30 ? ', …' : ''}`;
  throw new LayerError('unknown-layer', `${model.info.name} has no layer ${JSON.stringify(name)}; ${hint}`);
}

/** A named layer that must be spatial (`[C, H, W]`, H, W > 1), e.g. for CAM methods. */
export function findSpatialLayer(model: Model, name: string): LayerInfo {
  const layer = findLayer(model, name);
  if (!isSpatial(layer)) {
    throw new LayerError(
      'not-spatial-layer',
      `layer ${name} has output shape [${layer.outputShape.join(', ')}], not a spatial map [C, H, W] with H, W > 1`,
    );
  }
  return layer;
}

/**
 * The automatic CAM layer: the last layer, in topological order, whose output is a spatial map
 * with H, W > 1. Throws `not-spatial-layer` when there is none.
 */
export function lastSpatialLayer(model: Model): LayerInfo {
  const layers = layerList(model);
  for (let i = layers.length - 1; i >= 0; i--)
    if (isSpatial(layers[i]) && layers[i].kind !== 'input') return layers[i];
  throw new LayerError(
    'not-spatial-layer',
    `${model.info.name} has no layer with a spatial output [C, H, W] (H, W > 1)`,
  );
}
