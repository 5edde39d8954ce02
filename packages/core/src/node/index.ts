/**
 * @xlens/core/node — Node.js-only file access, kept out of the main entry so that it loads in
 * browsers: safe reading of regular files (`readFileChecked`, `nodeFileReader` for the run option
 * `files`) and `.npy` / `.npz` files on disk.
 */

export { realPathInside } from './inside-folder.js';
export {
  maxFileBytes,
  nodeFileReader,
  readFileChecked,
  readNpyFile,
  readNpzFile,
  writeNpyFile,
  writeNpzFile,
} from './node-files.js';
