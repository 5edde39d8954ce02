/** One stored entry: ONNX Runtime's optimized model of a session and xlens's metadata for it. */
export interface CachedEntry {
  /**
   * The optimized model (ORT format): its bytes, which the session then reads its weights from in
   * place, so the store must not reuse them; or a file path the runtime opens itself
   * (onnxruntime-node). Absent for entries that hold metadata only, such as probe results.
   */
  readonly model?: Uint8Array | string;
  /**
   * Whether the model matches its record, checked while the runtime loads it (absent: already
   * checked). A mismatch resolves false and removes the entry; the session is then rebuilt.
   */
  readonly verified?: Promise<boolean>;
  /** xlens's JSON metadata (graph input/output names, probe facts). */
  readonly meta: string;
}

/**
 * Where `fromOnnx` keeps the sessions it builds between processes (option `cache`). Keys are
 * strings naming the model's hash and everything that shapes the graph and the session; the store
 * decides file names. Entries that fail their integrity check must be removed and reported as
 * missing, so the caller rebuilds them. Writing is best effort: a failed `put` leaves no entry.
 * `sessionCache(dir)` from `@xlens/backend-onnx/node` is the Node.js implementation.
 */
export interface OnnxSessionCache {
  /** The entry for `key`, or undefined (missing, or corrupt and now removed); see `verified`. */
  get(key: string): Promise<CachedEntry | undefined>;
  /**
   * A fresh file path ONNX Runtime writes the optimized model of `key` to while creating the
   * session (`optimizedModelFilePath`), to hand back to `put`.
   */
  stagingPath(key: string): string;
  /** Store `meta` (and the model ORT wrote to `staged`, if given) under `key`. */
  put(key: string, meta: string, staged?: string): Promise<void>;
  /** Remove the entry of `key` (e.g. when ONNX Runtime refuses its model). */
  delete(key: string): Promise<void>;
}

/** Version of the cache entries' content: bump when graph building changes what a key yields. */
export const cacheFormat = 'xlens-onnx-2';

/** Hex SHA-256 of byte arrays, in order (Web Crypto: works in Node.js and browsers, off the main thread). */
export async function sha256Hex(parts: readonly Uint8Array[]): Promise<string> {
  const total = parts.reduce((a, p) => a + p.length, 0);
  let data: Uint8Array;
  if (parts.length === 1) data = parts[0];
  else {
    data = new Uint8Array(total);
    let offset = 0;
    for (const p of parts) {
      data.set(p, offset);
      offset += p.length;
    }
  }
  const digest = await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
