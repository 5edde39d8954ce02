import { InputError } from '../errors.js';

/**
 * The zip container of `.npz` files, from the PKWARE APPNOTE: enough to read what `np.savez` and
 * `np.savez_compressed` write (stored or deflated entries, zip64 records included) and to write
 * stored entries. Deflate uses the runtime's `DecompressionStream('deflate-raw')` (Node.js ≥ 18,
 * current browsers), so core keeps no dependencies.
 */

/** One file of a zip archive. */
export interface ZipEntry {
  /** Path inside the archive. */
  readonly name: string;
  /** Uncompressed contents. */
  readonly data: Uint8Array;
}

/** Largest entry read, 2 GiB: the declared size is checked before inflating anything. */
const maxEntryBytes = 2 ** 31;

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zip uses) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const methodNames: Readonly<Record<number, string>> = {
  1: 'shrink',
  6: 'implode',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstandard',
  95: 'xz',
  99: 'AES encryption',
};

/** Minimal typing of the web-standard `DecompressionStream`, so core needs no DOM or Node types. */
type DecompressionStreamClass = new (
  format: string,
) => { readonly writable: WritableStream<Uint8Array>; readonly readable: ReadableStream<Uint8Array> };

/** Raw-inflate `data`, which must produce exactly `size` bytes; `what` names the entry in messages. */
async function inflateRaw(data: Uint8Array, size: number, what: string): Promise<Uint8Array> {
  const Decompression = (globalThis as { DecompressionStream?: DecompressionStreamClass })
    .DecompressionStream;
  let stream: InstanceType<DecompressionStreamClass>;
  try {
    if (!Decompression) throw new Error('DecompressionStream is missing');
    stream = new Decompression('deflate-raw');
  } catch (err) {
    throw new InputError(
      'invalid-file',
      `${what} is deflate-compressed, and this runtime cannot inflate it (${(err as Error).message}); use Node.js ≥ 18 or a current browser, or save with np.savez (uncompressed)`,
    );
  }
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // Errors of corrupt data surface on the reader; the writer's copy of them is dropped here.
  const writing = writer
    .write(data)
    .then(() => writer.close())
    .catch(() => undefined);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > size) {
        await reader.cancel();
        throw new InputError('invalid-file', `${what} inflates to more than its declared ${size} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('invalid-file', `${what}: corrupt deflate data (${(err as Error).message})`);
  } finally {
    await writing;
  }
  if (total !== size)
    throw new InputError('invalid-file', `${what} inflates to ${total} bytes; the archive declares ${size}`);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The entries of zip bytes, in central-directory order (directories skipped). Checks every offset
 * and size against the bytes, the CRC-32 of every entry, and refuses encrypted entries, methods
 * other than stored and deflate, multi-disk archives and duplicate names, with an
 * `InputError('invalid-file')` that names `source` and the entry.
 */
export async function readZip(bytes: Uint8Array, source: string): Promise<ZipEntry[]> {
  const fail = (why: string): never => {
    throw new InputError('invalid-file', `${source}: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, length: number, what: string): void => {
    if (at < 0 || at + length > bytes.length) fail(`truncated zip archive (${what} lies past the end)`);
  };
  const u64 = (at: number): number => Number(view.getBigUint64(at, true));
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  const notZip = 'not a zip archive (an .npz file is a zip of .npy files, as np.savez writes)';
  if (bytes.length < 22) fail(notZip);
  let end = bytes.length - 22;
  const lowest = Math.max(0, end - 0xffff);
  while (end >= lowest && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < lowest) fail(notZip);
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0)
    fail('multi-disk zip archives are not supported');
  let count = view.getUint16(end + 10, true);
  let directory = view.getUint32(end + 16, true);
  if (count === 0xffff || directory === 0xffffffff) {
    // Zip64: the locator just before the record points at the zip64 end-of-central-directory record.
    const locator = end - 20;
    need(locator, 20, 'the zip64 locator');
    if (view.getUint32(locator, true) !== 0x07064b50) fail('zip64 locator missing');
    const record = u64(locator + 8);
    need(record, 56, 'the zip64 end record');
    if (view.getUint32(record, true) !== 0x06064b50) fail('zip64 end record missing');
    count = u64(record + 32);
    directory = u64(record + 48);
  }
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  const decoder = new TextDecoder();
  let at = directory;
  for (let i = 0; i < count; i++) {
    need(at, 46, `central directory entry ${i}`);
    if (view.getUint32(at, true) !== 0x02014b50) fail(`central directory entry ${i} is corrupt`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressed = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let offset = view.getUint32(at + 42, true);
    need(at + 46, nameLength + extraLength, `central directory entry ${i}`);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const what = `${source}: entry ${JSON.stringify(name)}`;
    // Zip64 extra field (id 1): 8-byte values for whichever of the 4-byte fields hold 0xffffffff.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === 1) {
        let field = extra + 4;
        const next = (): number => {
          if (field + 8 > extra + 4 + length) fail(`${what}: zip64 extra field is too short`);
          const v = u64(field);
          field += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (offset === 0xffffffff) offset = next();
      }
      extra += 4 + length;
    }
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/') && size === 0) continue;
    if (names.has(name)) fail(`entry ${JSON.stringify(name)} appears twice`);
    names.add(name);
    if (flags & 1) throw new InputError('invalid-file', `${what} is encrypted`);
    if (method !== 0 && method !== 8) {
      throw new InputError(
        'invalid-file',
        `${what} uses compression method ${method}${methodNames[method] ? ` (${methodNames[method]})` : ''}; expected stored (np.savez) or deflate (np.savez_compressed)`,
      );
    }
    if (size > maxEntryBytes)
      throw new InputError('invalid-file', `${what} declares ${size} bytes, more than the 2 GiB limit`);
    need(offset, 30, `the local header of entry ${JSON.stringify(name)}`);
    if (view.getUint32(offset, true) !== 0x04034b50)
      throw new InputError('invalid-file', `${what}: local header is corrupt`);
    // Sizes come from the central directory: np.savez writes 0xffffffff in the local header.
    const start = offset + 30 + view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true);
    need(start, compressed, `the data of entry ${JSON.stringify(name)}`);
    const raw = bytes.subarray(start, start + compressed);
    let data: Uint8Array;
    if (method === 8) data = await inflateRaw(raw, size, what);
    else if (compressed !== size)
      throw new InputError(
        'invalid-file',
        `${what} is stored with ${compressed} bytes but declares ${size} uncompressed`,
      );
    else data = raw;
    if (crc32(data) !== crc)
      throw new InputError('invalid-file', `${what}: CRC-32 mismatch (the archive is corrupt)`);
    entries.push({ name, data });
  }
  return entries;
}

/**
 * Zip bytes holding `entries` stored (uncompressed), with their CRC-32, a fixed timestamp
 * (1980-01-01, so equal inputs give equal bytes) and UTF-8 names. Throws
 * `InputError('invalid-input')` past the limits of a zip without zip64 (4 GiB, 65535 entries).
 */
export function writeZip(entries: readonly ZipEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const names = entries.map((e) => encoder.encode(e.name));
  const size = entries.reduce((s, e, i) => s + 30 + 46 + 2 * names[i].length + e.data.length, 22);
  if (size > 0xffffffff || entries.length > 0xfffe)
    throw new InputError(
      'invalid-input',
      `cannot write a zip of ${entries.length} entries and ${size} bytes: more than 4 GiB or 65534 entries`,
    );
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  const utf8 = (name: string): number => (/^[\x20-\x7e]*$/.test(name) ? 0 : 0x800);
  const offsets: number[] = [];
  const crcs = entries.map((e) => crc32(e.data));
  let at = 0;
  entries.forEach((e, i) => {
    offsets.push(at);
    view.setUint32(at, 0x04034b50, true);
    view.setUint16(at + 4, 20, true); // version needed: 2.0
    view.setUint16(at + 6, utf8(e.name), true);
    view.setUint16(at + 8, 0, true); // stored
    view.setUint16(at + 12, 0x21, true); // date 1980-01-01
    view.setUint32(at + 14, crcs[i], true);
    view.setUint32(at + 18, e.data.length, true);
    view.setUint32(at + 22, e.data.length, true);
    view.setUint16(at + 26, names[i].length, true);
    out.set(names[i], at + 30);
    out.set(e.data, at + 30 + names[i].length);
    at += 30 + names[i].length + e.data.length;
  });
  const directory = at;
  entries.forEach((e, i) => {
    view.setUint32(at, 0x02014b50, true);
    view.setUint16(at + 4, 20, true);
    view.setUint16(at + 6, 20, true);
    view.setUint16(at + 8, utf8(e.name), true);
    view.setUint16(at + 14, 0x21, true);
    view.setUint32(at + 16, crcs[i], true);
    view.setUint32(at + 20, e.data.length, true);
    view.setUint32(at + 24, e.data.length, true);
    view.setUint16(at + 28, names[i].length, true);
    view.setUint32(at + 42, offsets[i], true);
    out.set(names[i], at + 46);
    at += 46 + names[i].length;
  });
  view.setUint32(at, 0x06054b50, true);
  view.setUint16(at + 8, entries.length, true);
  view.setUint16(at + 10, entries.length, true);
  view.setUint32(at + 12, at - directory, true);
  view.setUint32(at + 16, directory, true);
  return out;
}
