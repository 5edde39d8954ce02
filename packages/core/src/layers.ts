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

/**
 * The export scope of a PyTorch module path, the prefix `torch.onnx.export` gives every tensor the
 * module produces: one segment per module, named by its attribute, except that a numbered child
 * of a container is named after the container (`layer4.1.conv2` → `/layer4/layer4.1/conv2/`,
 * `layer4.0.downsample.0` → `/layer4/layer4.0/downsample/downsample.0/`). Null for names that are
 * not dotted identifiers.
 */
export function torchScope(path: string): string | null {
  if (!/^[A-Za-z_]\w*(\.\w+)*$/.test(path)) return null;
  const segments: string[] = [];
  for (const part of path.split('.'))
    segments.push(
      /^\d+$/.test(part) && segments.length > 0 ? `${segments[segments.length - 1]}.${part}` : part,
    );
  return `/${segments.join('/')}/`;
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/**
 * The layer with this name. A name that is not a layer but a PyTorch module path (`layer4`,
 * `features.7`, `layer4.1.conv2`) names the last layer, in topological order, of that module's
 * export scope. Otherwise an `unknown-layer` error lists the five nearest names and the CAM
 * candidates (the last spatial layers), never the whole list.
 */
export function findLayer(model: Model, name: string): LayerInfo {
  const layers = layerList(model);
  const found = layers.find((l) => l.name === name);
  if (found) return found;
  const scope = torchScope(name);
  if (scope) {
    for (let i = layers.length - 1; i >= 0; i--) if (layers[i].name.startsWith(scope)) return layers[i];
  }
  const lower = name.toLowerCase();
  const nearest = layers
    .map((l) => {
      const n = l.name.toLowerCase();
      // A name containing the query (or contained in it) is nearer than any edit distance.
      const d = n.includes(lower) || lower.includes(n) ? -1 : editDistance(lower, n);
      return { name: l.name, d };
    })
    .sort((a, b) => a.d - b.d)
    .slice(0, 5)
    .map((c) => c.name);
  const cam = layers
    .filter((l) => isSpatial(l) && l.kind !== 'input')
    .slice(-3)
    .map((l) => l.name);
  const hint = `did you mean ${nearest.join(', ')}?${cam.length > 0 ? ` CAM candidates (last spatial layers): ${cam.join(', ')}` : ''}`;
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
