import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { arch, cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { CachedEntry, OnnxSessionCache } from '../session-cache.js';

/** What an entry's `.json` file holds next to its `.ort` file. */
interface EntryRecord {
  readonly key: string;
  readonly meta: string;
  /** Size and CRC-32 of the `.ort` file, when the entry has one. */
  readonly size?: number;
  readonly crc32?: number;
}

/** Remove a file if it exists; a cache never fails because cleaning up did. */
function discard(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // e.g. the folder is gone or not a folder: nothing to clean.
  }
}

/**
 * The default cache folder: `$XLENS_CACHE_DIR`, else `$XDG_CACHE_HOME/xlens/onnx`, else
 * `~/.cache/xlens/onnx`.
 */
export function defaultCacheDir(): string {
  const env = process.env;
  if (env.XLENS_CACHE_DIR) return env.XLENS_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'xlens', 'onnx');
}

/** Chunk of the pipelined read: large enough for few thread-pool round trips. */
const readChunk = 8 * 2 ** 20;

/**
 * The file at `path` if it has `size` bytes and CRC-32 `crc`, else undefined. Chunks are read in
 * the thread pool while the previous one is checksummed on this thread, so the check costs about
 * nothing beyond the read (a read then a checksum of a 138 MB entry: ~100 + ~40 ms). The bytes get
 * a buffer of their own (never Node's shared pool), since a session keeps using them.
 */
async function readChecked(path: string, size: number, crc: number): Promise<Uint8Array | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    if ((await handle.stat()).size !== size) return undefined;
    const out = new Uint8Array(size);
    let value = 0;
    let done = 0;
    let pending = size > 0 ? handle.read(out, 0, Math.min(readChunk, size), 0) : undefined;
    while (pending) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) return undefined;
      const from = done;
      done += bytesRead;
      pending = done < size ? handle.read(out, done, Math.min(readChunk, size - done), done) : undefined;
      value = crc32(out.subarray(from, done), value);
    }
    return value === crc ? out : undefined;
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The processor an entry was optimized for: ONNX Runtime's optimized graphs use the instruction set
 * and vector width of the machine that wrote them (e.g. its NCHWc block size), so a cache folder
 * shared between machines keeps one entry per processor.
 */
function machine(): string {
  return `${arch()} ${cpus()[0]?.model ?? 'unknown'}`;
}

/**
 * A session cache in a folder (Node.js only), for `fromOnnx(source, { cache: sessionCache(dir) })`:
 * each entry is `<hash of key and processor>.ort` (ONNX Runtime's optimized model, in ORT format)
 * and `<hash>.json` (the key, xlens's metadata, and the model file's size and CRC-32). Files are
 * written under temporary names and renamed into place, the `.json` last, so a crashed writer
 * leaves no entry. A record that does not parse is deleted on read; a model file that does not
 * match its recorded size and CRC-32 is deleted and the caller rebuilds it. The folder is created
 * on first write.
 */
export function sessionCache(dir: string = defaultCacheDir()): OnnxSessionCache {
  const host = machine();
  const base = (key: string) =>
    join(dir, createHash('sha256').update(host).update('\n').update(key).digest('hex').slice(0, 40));
  const remove = (key: string) => {
    for (const ext of ['.json', '.ort']) discard(base(key) + ext);
  };
  return {
    async get(key: string): Promise<CachedEntry | undefined> {
      let text: string;
      try {
        text = readFileSync(`${base(key)}.json`, 'utf8');
      } catch {
        return undefined;
      }
      let record: EntryRecord;
      try {
        record = JSON.parse(text) as EntryRecord;
        if (typeof record.key !== 'string' || typeof record.meta !== 'string') throw new Error('bad record');
      } catch {
        remove(key);
        return undefined;
      }
      // Another key with the same file name (a truncated-hash collision): not this entry.
      if (record.key !== key) return undefined;
      if (record.size === undefined) return { meta: record.meta };
      // The bytes are handed to ONNX Runtime, which reads the weights from them in place.
      const model = await readChecked(`${base(key)}.ort`, record.size, record.crc32 ?? -1);
      if (!model) {
        remove(key);
        return undefined;
      }
      return { model, meta: record.meta };
    },
    stagingPath(key: string): string {
      mkdirSync(dir, { recursive: true });
      return `${base(key)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp.ort`;
    },
    async put(key: string, meta: string, staged?: string): Promise<void> {
      const tmp = `${base(key)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp.json`;
      try {
        mkdirSync(dir, { recursive: true });
        let record: EntryRecord = { key, meta };
        if (staged !== undefined) {
          const model = readFileSync(staged);
          record = { ...record, size: model.length, crc32: crc32(model) };
          renameSync(staged, `${base(key)}.ort`);
        }
        writeFileSync(tmp, JSON.stringify(record));
        renameSync(tmp, `${base(key)}.json`);
      } catch {
        // The cache is an optimisation: an unwritable folder or a full disk only costs the next rebuild.
        discard(tmp);
        if (staged !== undefined) discard(staged);
      }
    },
    async delete(key: string): Promise<void> {
      remove(key);
    },
  };
}
