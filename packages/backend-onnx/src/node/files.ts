import { realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { XlensError } from '@xlens/core';
import { readFileChecked, realPathInside } from '@xlens/core/node';
import { allTensors, decodeOnnxModel, invalid } from '../proto/codec.js';
import { elementSize } from '../proto/tensor-data.js';
import type { OnnxModel } from '../proto/types.js';

/**
 * Read every tensor stored as external data (`data_location = EXTERNAL`) from its file, resolved
 * relative to `baseDir` (the model's folder), and keep it inline so the model can be re-encoded
 * and handed to ONNX Runtime as bytes. A location outside `baseDir`, a missing file or a short
 * read throws `invalid-model`.
 */
export async function loadExternalData(model: OnnxModel, baseDir: string | undefined): Promise<void> {
  await loadExternal(model, baseDir, new Map());
}

async function loadExternal(
  model: OnnxModel,
  baseDir: string | undefined,
  files: Map<string, Promise<Uint8Array>>,
): Promise<void> {
  for (const t of allTensors(model.graph)) {
    if (t.dataLocation !== 1) continue;
    const info = new Map((t.externalData ?? []).map((e) => [e.key, e.value]));
    const location = info.get('location');
    if (!location) throw invalid(`tensor ${t.name ?? ''} is stored externally but names no location`);
    if (baseDir === undefined) {
      throw invalid(
        `tensor ${t.name ?? ''} is stored in external file ${location}; load the model from its path, not from bytes`,
      );
    }
    let path: string;
    try {
      path = realPathInside(baseDir, location, `external data file of tensor ${t.name ?? ''}`);
    } catch (error) {
      throw invalid((error as Error).message, error);
    }
    if (!files.has(path))
      files.set(
        path,
        Promise.resolve().then(() => readFileChecked(path)),
      );
    let data: Uint8Array;
    try {
      data = await files.get(path)!;
    } catch (error) {
      throw invalid(
        `cannot read external data file ${location} of tensor ${t.name ?? ''}: ${(error as Error).message}`,
        error,
      );
    }
    const offset = Number(info.get('offset') ?? 0);
    const size = elementSize(t.dataType) * t.dims.reduce((a, b) => a * b, 1);
    const length = info.has('length') ? Number(info.get('length')) : size;
    if (!(offset >= 0 && length >= 0 && offset + length <= data.length) || length !== size) {
      throw invalid(
        `external data of tensor ${t.name ?? ''} (${location}, offset ${offset}, length ${length}) does not fit the file (${data.length} bytes) or the tensor (${size} bytes)`,
      );
    }
    t.rawData = data.slice(offset, offset + length);
    t.dataLocation = undefined;
    t.externalData = undefined;
  }
}

/**
 * Read an `.onnx` file and its external data files. Only regular files are read (a device such
 * as `/dev/zero` is refused before reading), within a size limit.
 */
export async function readOnnxModel(path: string): Promise<OnnxModel> {
  return (await readOnnxSource(path)).model;
}

/**
 * Each file's resolved path, size, modification time (ns), inode and device, one line per file:
 * what identifies a file's version without reading it (Python keys its bytecode cache the same way).
 */
function fileIdentity(paths: readonly string[]): string {
  return paths
    .map((p) => {
      const s = statSync(p, { bigint: true });
      return [realpathSync(p), s.size, s.mtimeNs, s.ino, s.dev].join('\0');
    })
    .join('\n');
}

/**
 * `readOnnxModel`, also returning the bytes of every file read (the model file first, then its
 * external data files) and their `identity` (resolved paths, sizes, modification times), from
 * which the session cache derives the model's key without hashing every byte.
 */
export async function readOnnxSource(
  path: string,
): Promise<{ model: OnnxModel; files: Uint8Array[]; identity: string }> {
  let bytes: Uint8Array;
  try {
    bytes = readFileChecked(path);
  } catch (error) {
    throw invalid(
      `cannot read ONNX model ${path}: ${error instanceof XlensError ? error.message.replace(/^cannot read [^:]*: /, '') : (error as Error).message}`,
      error,
    );
  }
  const model = decodeOnnxModel(bytes);
  const external = new Map<string, Promise<Uint8Array>>();
  await loadExternal(model, dirname(path), external);
  return {
    model,
    files: [bytes, ...(await Promise.all(external.values()))],
    identity: fileIdentity([path, ...external.keys()]),
  };
}
