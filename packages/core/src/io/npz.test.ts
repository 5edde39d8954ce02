import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNpz, serializeNpz } from './npz.js';
import { crc32, readZip, writeZip } from './zip.js';

// A plain copy: a Node Buffer may share its ArrayBuffer with others (slice() would not copy).
const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../test/fixtures/npy/${name}`, import.meta.url)));
const values = [-1, -0.5, 0, 0.5, 1, 1.5];

describe('parseNpz', () => {
  it('reads np.savez (stored entries, zip64 local headers)', async () => {
    const arrays = await parseNpz(fixture('stored.npz'));
    expect(Object.keys(arrays)).toEqual(['a', 'b']);
    expect(arrays.a).toEqual({ data: Float32Array.from(values), shape: [2, 3] });
    expect(arrays.b).toEqual({ data: Float32Array.from([7, 8]), shape: [2] });
  });

  it('reads np.savez_compressed (deflated entries) through DecompressionStream', async () => {
    const arrays = await parseNpz(fixture('deflated.npz'));
    expect(arrays.a.data).toEqual(Float32Array.from(values));
    expect(arrays.big.shape).toEqual([1000]);
    expect(Array.from(arrays.big.data.subarray(0, 9))).toEqual([0, 1, 2, 3, 4, 5, 6, 0, 1]);
  });

  it('round-trips through serializeNpz, and names the entry of a bad array', async () => {
    const arrays = {
      conv1: { data: Float32Array.from([1, -2.5, 3e-8, 4, 5, 6]), shape: [2, 1, 1, 3] },
      'fc/weight': { data: Float32Array.from([0.1, 0.2]), shape: [1, 2] },
      ünï: { data: new Float32Array(0), shape: [0] },
    };
    expect(await parseNpz(serializeNpz(arrays))).toEqual(arrays);
    const entries = [{ name: 'x.npy', data: new TextEncoder().encode('not numpy') }];
    await expect(parseNpz(writeZip(entries), 'p.npz')).rejects.toThrow(
      /p\.npz: entry "x\.npy": not a \.npy file/,
    );
    const other = [{ name: 'notes.txt', data: new Uint8Array(3) }];
    await expect(parseNpz(writeZip(other), 'p.npz')).rejects.toThrow(
      /p\.npz: entry "notes\.txt" is not a \.npy array/,
    );
  });

  it('refuses what is not a zip, and an empty name when writing', async () => {
    await expect(parseNpz(new Uint8Array(40), 'q.npz')).rejects.toThrow(/q\.npz: not a zip archive/);
    await expect(parseNpz(fixture('f4.npy'))).rejects.toMatchObject({ code: 'invalid-file' });
    expect(() => serializeNpz({ '': { data: new Float32Array(1), shape: [1] } })).toThrow(/empty name/);
  });
});

describe('zip', () => {
  const entries = [
    { name: 'a.npy', data: Uint8Array.from([1, 2, 3]) },
    { name: 'b.npy', data: new TextEncoder().encode('hello') },
  ];

  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('writes the same bytes for the same entries, and reads them back', async () => {
    expect(writeZip(entries)).toEqual(writeZip(entries));
    expect(await readZip(writeZip(entries), 'z')).toEqual(entries);
  });

  it('detects corruption: CRC, truncation, unsupported methods, encryption, duplicates', async () => {
    const good = writeZip(entries);
    const flipped = good.slice();
    flipped[30 + 5] ^= 0xff; // first byte of a.npy's data
    await expect(readZip(flipped, 'z.npz')).rejects.toThrow(/z\.npz: entry "a\.npy": CRC-32 mismatch/);
    await expect(readZip(good.subarray(10), 'z.npz')).rejects.toThrow(
      /z\.npz: (truncated|central directory)/,
    );
    const bzip = good.slice();
    const directory = good.length - 22 - 2 * (46 + 5);
    new DataView(bzip.buffer).setUint16(directory + 10, 12, true);
    await expect(readZip(bzip, 'z.npz')).rejects.toThrow(
      /entry "a\.npy" uses compression method 12 \(bzip2\)/,
    );
    const locked = good.slice();
    new DataView(locked.buffer).setUint16(directory + 8, 1, true);
    await expect(readZip(locked, 'z.npz')).rejects.toThrow(/entry "a\.npy" is encrypted/);
    const twice = writeZip([entries[0], entries[0]]);
    await expect(readZip(twice, 'z.npz')).rejects.toThrow(/entry "a\.npy" appears twice/);
  });

  it('refuses corrupt deflate data and data that inflates past its declared size', async () => {
    // A deflated entry made by hand: method 8 over bytes that are not deflate data.
    const bad = writeZip([{ name: 'a.npy', data: Uint8Array.from([0xff, 0xff, 0xff]) }]);
    const view = new DataView(bad.buffer);
    const directory = bad.length - 22 - (46 + 5);
    view.setUint16(8, 8, true);
    view.setUint16(directory + 10, 8, true);
    await expect(readZip(bad, 'z.npz')).rejects.toThrow(/z\.npz: entry "a\.npy": corrupt deflate data/);
    const real = fixture('deflated.npz');
    const small = real.slice();
    const v = new DataView(small.buffer);
    // Shrink the first entry's declared size in the central directory.
    let at = v.getUint32(small.length - 22 + 16, true);
    while (v.getUint32(at, true) !== 0x02014b50) at++;
    v.setUint32(at + 24, 100, true);
    await expect(readZip(small, 'z.npz')).rejects.toThrow(/inflates to more than its declared 100 bytes/);
  });

  it('reads zip64 end records', async () => {
    // Rewrite a plain archive the way zip64 writers do: the end record points at a zip64 record.
    const plain = writeZip(entries);
    const end = plain.length - 22;
    const v = new DataView(plain.buffer);
    const directory = v.getUint32(end + 16, true);
    const size = v.getUint32(end + 12, true);
    const out = new Uint8Array(end + 56 + 20 + 22);
    out.set(plain.subarray(0, end));
    const o = new DataView(out.buffer);
    o.setUint32(end, 0x06064b50, true);
    o.setBigUint64(end + 4, 44n, true);
    o.setBigUint64(end + 24, 2n, true);
    o.setBigUint64(end + 32, 2n, true);
    o.setBigUint64(end + 40, BigInt(size), true);
    o.setBigUint64(end + 48, BigInt(directory), true);
    o.setUint32(end + 56, 0x07064b50, true);
    o.setBigUint64(end + 56 + 8, BigInt(end), true);
    o.setUint32(end + 56 + 16, 1, true);
    const last = end + 76;
    o.setUint32(last, 0x06054b50, true);
    o.setUint16(last + 8, 0xffff, true);
    o.setUint16(last + 10, 0xffff, true);
    o.setUint32(last + 12, 0xffffffff, true);
    o.setUint32(last + 16, 0xffffffff, true);
    expect(await readZip(out, 'z64')).toEqual(entries);
  });
});
