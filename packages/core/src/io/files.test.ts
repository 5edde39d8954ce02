import { describe, expect, it } from 'vitest';
import { memoryFiles, readFileBytes } from './files.js';

describe('FileSource helpers', () => {
  const files = memoryFiles({ 'a.npy': Uint8Array.from([1, 2]) });

  it('memoryFiles serves bytes by path and names the missing ones', () => {
    expect(Array.from(files.readBytes('a.npy'))).toEqual([1, 2]);
    expect(() => files.readBytes('b.npy')).toThrow(
      /cannot read b\.npy: no such file among the 1 in memory \(a\.npy\)/,
    );
    expect(() => files.readBytes('toString')).toThrow(/no such file/);
  });

  it('readFileBytes says how to pass a FileSource when there is none', () => {
    expect(() => readFileBytes(undefined, 'x.npy', 'baseline file')).toThrow(
      /baseline file "x\.npy" is a path, and reading files needs a FileSource: .*nodeFileReader.*@xlens\/core\/node/,
    );
    expect(() => readFileBytes(undefined, 'x.npy', 'baseline file')).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
  });

  it('readFileBytes names what the file was for when reading fails', () => {
    expect(() => readFileBytes(files, 'b.npy', 'baseline file')).toThrow(
      /^baseline file: cannot read b\.npy/,
    );
    const throwing = {
      readBytes(): Uint8Array {
        throw new Error('disk on fire');
      },
    };
    expect(() => readFileBytes(throwing, 'c.npy', 'pattern file')).toThrow(
      expect.objectContaining({
        code: 'invalid-file',
        message: 'pattern file: cannot read c.npy (disk on fire)',
      }),
    );
  });
});
