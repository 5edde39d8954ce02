import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
      let model: Buffer;
      try {
        // One synchronous read: fs.promises.readFile reads in 512 KiB steps through the thread
        // pool, several times slower on a 100 MB entry, and nothing else runs meanwhile.
        model = readFileSync(`${base(key)}.ort`);
      } catch {
        remove(key);
        return undefined;
      }
      if (model.length !== record.size || crc32(model) !== record.crc32) {
        remove(key);
        return undefined;
      }
      // A buffer of its own (a small read may share Node's pool, which must not back a session).
      const own =
        model.byteOffset === 0 && model.buffer.byteLength === model.length
          ? new Uint8Array(model.buffer)
          : Uint8Array.from(model);
      return { model: own, meta: record.meta };
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
