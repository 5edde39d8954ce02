import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  nodeFileReader,
  readFileChecked,
  readNpyFile,
  readNpzFile,
  writeNpyFile,
  writeNpzFile,
} from './index.js';

describe('@xlens/core/node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xlens-node-files-'));
  const t = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] };

  it('writes and reads .npy and .npz files', async () => {
    writeNpyFile(join(dir, 't.npy'), t);
    expect(readNpyFile(join(dir, 't.npy'))).toEqual(t);
    writeNpzFile(join(dir, 't.npz'), { t, u: { data: new Float32Array(1), shape: [1] } });
    expect(await readNpzFile(join(dir, 't.npz'))).toEqual({
      t,
      u: { data: new Float32Array(1), shape: [1] },
    });
    expect(nodeFileReader.readBytes(join(dir, 't.npy')).length).toBe(128 + 24);
  });

  it('refuses missing files, directories, devices and FIFOs with a clear error', () => {
    expect(() => readFileChecked(join(dir, 'gone.npy'))).toThrow(/cannot read .*gone\.npy: no such file/);
    mkdirSync(join(dir, 'sub'));
    expect(() => readFileChecked(join(dir, 'sub'))).toThrow(
      /sub: it is a directory; expected a regular file/,
    );
    expect(() => readFileChecked('/dev/zero')).toThrow(/\/dev\/zero: it is a character device/);
    const fifo = join(dir, 'pipe');
    let made = false;
    try {
      execFileSync('mkfifo', [fifo]);
      made = true;
    } catch {
      // no mkfifo on this system: the stat check is the same code path as for devices.
    }
    if (made) expect(() => readFileChecked(fifo)).toThrow(/pipe: it is a named pipe \(FIFO\)/);
    expect(() => readNpyFile('/dev/zero')).toThrow(expect.objectContaining({ code: 'invalid-file' }));
  });

  it('checks the size before reading', () => {
    writeFileSync(join(dir, 'big.bin'), new Uint8Array(2048));
    expect(() => readFileChecked(join(dir, 'big.bin'), 1024)).toThrow(
      /big\.bin: it holds 2\.0 KiB, more than the 1\.0 KiB limit/,
    );
    expect(readFileChecked(join(dir, 'big.bin'), 2048).length).toBe(2048);
  });

  it('names the path when writing fails', () => {
    expect(() => writeNpyFile(join(dir, 'no', 'such', 'dir.npy'), t)).toThrow(/cannot write .*dir\.npy/);
  });
});
