/**
 * @xlens/backend-tfjs/testing — tfjs models for tests and benchmarks: `buildToyModel` (from
 * core's backend-neutral `ToySpec`), `buildSmallCnn`, `buildResNet18Like`, and `graphModelTwin`
 * (a LayersModel as the GraphModel tfjs-converter would make of it).
 */

export { type GraphTwinOptions, graphModelTwin } from './graph-twin.js';
export { buildResNet18Like, buildSmallCnn, type ResNet18LikeOptions, type SmallCnnOptions } from './nets.js';
export { buildToyModel } from './toy.js';
