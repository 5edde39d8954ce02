/**
 * @xlens/backend-tfjs — an xlens `Model` over TensorFlow.js: `fromTfjs(model)` for a LayersModel
 * or GraphModel, `loadTfjsModel(path)` for a model.json, and `initTfjsBackend()` to pick a tfjs
 * backend (wasm by default in Node). Toy and benchmark models live in `@xlens/backend-tfjs/testing`.
 */

export { type InitTfjsBackendOptions, initTfjsBackend, type TfjsBackendName } from './backend.js';
export { fromTfjs } from './from-tfjs.js';
export { loadTfjsModel, tfjsFileHandler } from './load.js';
export type { FromTfjsOptions, TfjsModel } from './options.js';
