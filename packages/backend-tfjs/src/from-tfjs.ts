import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '@xlens/core';
import { fromGraphModel } from './graph-model.js';
import { fromLayersModel } from './layers-model.js';
import type { FromTfjsOptions, TfjsModel } from './options.js';
import { checkMaxBatchBytes } from './sub-batch.js';

/**
 * Wrap a TensorFlow.js model as an xlens `Model`.
 *
 * A `LayersModel` (Sequential or functional, nested models included and addressable as
 * `outer/inner`) gets every capability: layers, capture, gradients, layer-gradients, relu-rules,
 * linear-rules, derive. A `GraphModel` gets layers (graph nodes), capture and gradients.
 * Inputs are NHWC (`info.layout`); activations and layer gradients are channels-first. The xlens
 * model owns the tfjs model: `dispose()` disposes it unless `disposeModel: false`. Batches are
 * split into sub-batches that fit `maxBatchBytes` (default 1 GiB on wasm).
 */
export function fromTfjs(model: tf.LayersModel | tf.GraphModel, options: FromTfjsOptions = {}): TfjsModel {
  checkMaxBatchBytes(options.maxBatchBytes);
  if (model instanceof tf.LayersModel) return fromLayersModel(model, options);
  if (model instanceof tf.GraphModel) return fromGraphModel(model, options);
  throw new UnsupportedError(
    'invalid-model',
    'fromTfjs expects a tf.LayersModel or tf.GraphModel from the same @tensorflow/tfjs this package imports (a second copy of tfjs fails this check)',
  );
}
