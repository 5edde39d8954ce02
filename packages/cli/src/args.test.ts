import { describe, expect, it } from 'vitest';
import { intFlag, numbersFlag, parseCommandLine, sizeFlag, UsageError } from './args.js';

describe('command line', () => {
  it('defaults to explain and collects repeated flags', () => {
    const a = parseCommandLine([
      '--method',
      'saliency',
      '--method',
      'grad-cam',
      '-i',
      'a.png',
      '-i',
      'b.png',
    ]);
    expect(a.command).toBe('explain');
    expect(a.values.method).toEqual(['saliency', 'grad-cam']);
    expect(a.values.image).toEqual(['a.png', 'b.png']);
  });

  it('rejects unknown commands, stray arguments and flags a command does not take', () => {
    expect(() => parseCommandLine(['explian'])).toThrow(/unknown command "explian"/);
    expect(() => parseCommandLine(['explain', 'x.png'])).toThrow(/unexpected argument "x.png"/);
    expect(() => parseCommandLine(['methods', '--image', 'a.png'])).toThrow(
      /xlens methods does not take --image/,
    );
    expect(() => parseCommandLine(['--nope'])).toThrow(UsageError);
  });

  it('routes --help and help <command>', () => {
    expect(parseCommandLine(['layers', '--help'])).toMatchObject({ command: 'help', topic: 'layers' });
    expect(parseCommandLine(['help', 'explain'])).toMatchObject({ command: 'help', topic: 'explain' });
    expect(parseCommandLine(['--version']).version).toBe(true);
  });

  it('parses numeric flags strictly', () => {
    expect(intFlag('seed', '7', 0)).toBe(7);
    expect(() => intFlag('batch-size', '0', 1)).toThrow(
      /--batch-size "0" is invalid; expected an integer ≥ 1/,
    );
    expect(numbersFlag('mean', '0.485, 0.456,0.406')).toEqual([0.485, 0.456, 0.406]);
    expect(() => numbersFlag('std', '0.2,x')).toThrow(/--std/);
    expect(sizeFlag('224')).toEqual({ height: 224, width: 224 });
    expect(sizeFlag('240x320')).toEqual({ height: 240, width: 320 });
    expect(() => sizeFlag('big')).toThrow(/--size "big"/);
  });
});
