/**
 * @xlens/backend-onnx/node — Node.js-only file access, kept out of the main entry so that it loads
 * in browsers: `readOnnxModel` reads an `.onnx` file and its external data files (regular files
 * inside the model's folder only), `loadExternalData` fills in external tensors of a decoded model,
 * `sessionCache(dir)` keeps built ONNX Runtime sessions on disk between processes.
 */

export { loadExternalData, readOnnxModel, readOnnxSource } from './files.js';
export { defaultCacheDir, sessionCache } from './session-cache.js';
