import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCacheDir, sessionCache } from './session-cache.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xlens-store-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A cache in a fresh folder holding one 64-byte model entry under key `k`. */
async function oneEntry() {
  const dir = tempDir();
  const cache = sessionCache(dir);
  const staged = cache.stagingPath('k');
  writeFileSync(staged, new Uint8Array(64).fill(7));
  await cache.put('k', 'm', staged);
  return { dir, cache };
}

describe('sessionCache', () => {
  it('stores metadata-only and model entries under their key and returns them verified', async () => {
    const cache = sessionCache(join(tempDir(), 'nested'));
    expect(await cache.get('a')).toBeUndefined();
    await cache.put('a', '{"x":1}');
    expect(await cache.get('a')).toEqual({ meta: '{"x":1}' });
    const staged = cache.stagingPath('b');
    writeFileSync(staged, new Uint8Array([1, 2, 3, 4, 5]));
    await cache.put('b', 'meta-b', staged);
    expect(existsSync(staged)).toBe(false);
    const hit = await cache.get('b');
    expect(hit?.meta).toBe('meta-b');
    expect(hit?.model).toBeInstanceOf(Uint8Array);
    expect(Array.from(hit!.model as Uint8Array)).toEqual([1, 2, 3, 4, 5]);
    expect(await cache.get('c')).toBeUndefined();
  });

  it('removes an entry whose model file was truncated', async () => {
    const { dir, cache } = await oneEntry();
    const model = readdirSync(dir).find((f) => f.endsWith('.ort'))!;
    truncateSync(join(dir, model), 10);
    expect(await cache.get('k')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('removes an entry whose model file grew, and reads a multi-chunk entry whole', async () => {
    const { dir, cache } = await oneEntry();
    const path = join(dir, readdirSync(dir).find((f) => f.endsWith('.ort'))!);
    writeFileSync(path, new Uint8Array(65).fill(7));
    expect(await cache.get('k')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
    // 20 MiB: three 8 MiB reads, each checksummed while the next one runs.
    const big = new Uint8Array(20 * 2 ** 20).map((_, i) => (i * 2654435761) >>> 24);
    const staged = cache.stagingPath('big');
    writeFileSync(staged, big);
    await cache.put('big', 'm', staged);
    const hit = await cache.get('big');
    expect(hit?.model).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(hit!.model as Uint8Array, big)).toBe(0);
    big[big.length - 1] ^= 1;
    writeFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.ort'))!), big);
    expect(await cache.get('big')).toBeUndefined();
  });

  it('removes an entry whose model file has a flipped bit (CRC-32 mismatch)', async () => {
    const { dir, cache } = await oneEntry();
    const path = join(dir, readdirSync(dir).find((f) => f.endsWith('.ort'))!);
    const damaged = readFileSync(path);
    damaged[20] ^= 0x01;
    writeFileSync(path, damaged);
    expect(await cache.get('k')).toBeUndefined();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('swallows write failures, leaving no entry and no staged file', async () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const cache = sessionCache(join(file, 'cache'));
    await expect(cache.put('k', 'm')).resolves.toBeUndefined();
    expect(await cache.get('k')).toBeUndefined();
  });

  it('honours XLENS_CACHE_DIR for the default folder', () => {
    const saved = process.env.XLENS_CACHE_DIR;
    try {
      process.env.XLENS_CACHE_DIR = '/some/where';
      expect(defaultCacheDir()).toBe('/some/where');
      delete process.env.XLENS_CACHE_DIR;
      expect(defaultCacheDir()).toMatch(/xlens[\\/]onnx$/);
    } finally {
      if (saved === undefined) delete process.env.XLENS_CACHE_DIR;
      else process.env.XLENS_CACHE_DIR = saved;
    }
  });
});
