/**
 * @xlens/zoo — small models and data sets that ship with xlens: a procedural shapes data set with
 * ground-truth masks and boxes, its shortcut variant, MNIST digits, and CNNs trained on them (tfjs
 * and ONNX files with the same weights).
 */
export { ZOO_GENERATOR_NAMES, type ZooGeneratorName, zooGeneratorPath } from './generators.js';
export { type Box, MARK_BOX, pasteMark, SHAPES_SIZE } from './mark.js';
export { ZOO_MASKER_NAMES, type ZooMaskerName, zooMaskerFor, zooMaskerPath } from './maskers.js';
export {
  MNIST_CLASSES,
  MNIST_SIZE,
  type MnistOptions,
  type MnistSamples,
  type MnistSplit,
  mnistSamples,
  mnistSplitSize,
} from './mnist.js';
export {
  isZooModel,
  ZOO_MODEL_NAMES,
  type ZooModel,
  type ZooModelFormat,
  type ZooModelMeta,
  type ZooModelName,
  zooModel,
  zooModelPath,
  zooModels,
} from './models.js';
export { SAMPLE_SEED, type SampleImages, sampleImages } from './samples.js';
export {
  permutedLabels,
  SHAPE_CLASSES,
  SHORTCUT_DEFAULTS,
  type ShapeSample,
  type ShapesDataset,
  type ShapesDatasetOptions,
  type ShortcutDatasetOptions,
  type ShortcutOptions,
  shapeLabel,
  shapeSample,
  shapesDataset,
  shortcutDataset,
} from './shapes.js';
