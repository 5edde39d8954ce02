import { nodeFiles } from './load-node.js';
import type { OnnxModel } from './proto/types.js';

/**
 * Read an `.onnx` file and its external data files (Node.js only; loads `@xlens/backend-onnx/node`
 * on first use, which exports the same function). Only regular files are read (a device such as
 * `/dev/zero` is refused before reading), within a size limit.
 */
export async function readOnnxModel(path: string): Promise<OnnxModel> {
  return (await nodeFiles('readOnnxModel')).readOnnxModel(path);
}

/**
 * Read every tensor stored as external data from its file, relative to `baseDir` (Node.js only;
 * loads `@xlens/backend-onnx/node` on first use, which exports the same function). A location
 * outside `baseDir`, a missing file or a short read throws `invalid-model`.
 */
export async function loadExternalData(model: OnnxModel, baseDir: string | undefined): Promise<void> {
  return (await nodeFiles('loadExternalData')).loadExternalData(model, baseDir);
}
