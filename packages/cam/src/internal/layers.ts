import {
  findSpatialLayer,
  InputError,
  type LayerInfo,
  lastSpatialLayer,
  type Model,
  OptionError,
  type OptionSpecs,
  type Tensor,
} from '@xlens/core';

/** Options every CAM method shares. */
export interface CamLayerOptions {
  /** Target layer by name; `''` picks the last layer with a spatial output (core `lastSpatialLayer`). */
  readonly layer: string;
  /** Whether the map is bilinearly upsampled to the input size (`false`: the raw coarse map). */
  readonly upsample: boolean;
  /** Whether the final ReLU is applied (`false` keeps negative evidence visible). */
  readonly relu: boolean;
}

/** Common options plus layer fusion, for the methods that weight channels of any spatial layer. */
export interface CamCommonOptions extends CamLayerOptions {
  /**
   * Comma-separated layer names whose maps are fused (see `fuseMaps`); `''` uses `layer` alone.
   * Setting both `layer` and `layers` is an error.
   */
  readonly layers: string;
}

/** Option specs of `CamLayerOptions`. */
export const camLayerOptionSpecs: OptionSpecs<CamLayerOptions> = {
  layer: {
    type: 'string',
    doc: "target layer name; '' = the last layer with a spatial output [C, H, W], H, W > 1",
  },
  upsample: {
    type: 'boolean',
    doc: 'upsample the coarse map bilinearly to the input size; false returns the coarse map',
  },
  relu: { type: 'boolean', doc: 'apply the final ReLU (false keeps negative evidence visible)' },
};

/** Option specs of `CamCommonOptions`. */
export const camCommonOptionSpecs: OptionSpecs<CamCommonOptions> = {
  ...camLayerOptionSpecs,
  layers: {
    type: 'string',
    doc: "comma-separated layers whose maps are fused: each scaled by its max |value|, resized, averaged; '' = just `layer`",
  },
};

/** Defaults of the common options with a method's own ReLU default. */
export function camDefaults(relu: boolean): CamCommonOptions {
  return { layer: '', layers: '', upsample: true, relu };
}

/** Defaults of the single-layer options with a method's own ReLU default. */
export function camLayerDefaults(relu: boolean): CamLayerOptions {
  return { layer: '', upsample: true, relu };
}

/** Split a comma list, trimming blanks. */
function splitNames(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The target layers of a CAM call, validated (before any compute): the named layer, the listed
 * layers, or the automatic pick. Throws `unknown-layer` / `not-spatial-layer` from core, and
 * `invalid-option` when both `layer` and `layers` are given or a layer is listed twice.
 */
export function targetLayers(
  model: Model,
  options: { readonly layer: string; readonly layers?: string },
): LayerInfo[] {
  const listed = splitNames(options.layers ?? '');
  if (listed.length > 0 && options.layer !== '') {
    throw new OptionError(
      'invalid-option',
      `give either layer (${JSON.stringify(options.layer)}) or layers (${JSON.stringify(options.layers)}), not both`,
    );
  }
  if (listed.length === 0)
    return [options.layer === '' ? lastSpatialLayer(model) : findSpatialLayer(model, options.layer)];
  const seen = new Set<string>();
  return listed.map((name) => {
    if (seen.has(name)) throw new OptionError('invalid-option', `layers lists ${JSON.stringify(name)} twice`);
    seen.add(name);
    return findSpatialLayer(model, name);
  });
}

/** The model input must be an image batch: item shape of rank 3. */
export function checkImageModel(method: string, model: Model): void {
  if (model.info.inputShape.length !== 3) {
    throw new InputError(
      'invalid-shape',
      `${method} explains image models (item shape [C, H, W] or [H, W, C]); ${model.info.name} has item shape [${model.info.inputShape.join(', ')}]`,
    );
  }
}

/** `validate` hook shared by the CAM methods: an image model and valid target layers. */
export function validateCam(method: string) {
  return (options: { readonly layer: string; readonly layers?: string }, model: Model): void => {
    checkImageModel(method, model);
    targetLayers(model, options);
  };
}

/** Check that a channels-first layer tensor is `N×C×h×w` and return its dimensions. */
export function layerDims(t: Tensor, layer: string): { n: number; c: number; h: number; w: number } {
  if (t.shape.length !== 4) {
    throw new InputError(
      'invalid-shape',
      `layer ${layer} returned shape [${t.shape.join(', ')}]; CAM methods need N×C×h×w`,
    );
  }
  const [n, c, h, w] = t.shape;
  return { n, c, h, w };
}
