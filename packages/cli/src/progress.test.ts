import { describe, expect, it } from 'vitest';
import { ProgressBar } from './progress.js';

const stream = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 80, write: (t: string) => chunks.push(t) };
};

describe('ProgressBar', () => {
  it('prints one line per finished method when not a TTY', () => {
    const s = stream(false);
    const bar = new ProgressBar(s, 2);
    bar.start(0, 'saliency');
    bar.update(1, 2);
    bar.finish(12.4);
    bar.start(1, 'grad-cam');
    bar.finish(3);
    bar.end();
    expect(s.chunks.join('')).toBe('[1/2] saliency done in 12 ms\n[2/2] grad-cam done in 3 ms\n');
  });

  it('redraws one line in place on a TTY and clears it at the end', () => {
    const s = stream(true);
    const bar = new ProgressBar(s, 2);
    bar.start(1, 'score-cam');
    const clear = '\r\u001b[2K';
    expect(s.chunks.at(-1)?.startsWith(clear)).toBe(true);
    expect(s.chunks.at(-1)?.slice(clear.length)).toMatch(/^█+░+ 2\/2 score-cam 0%$/);
    bar.finish(5);
    expect(s.chunks.at(-1)?.slice(clear.length)).toMatch(/^█+ 2\/2 score-cam 100%$/);
    expect(s.chunks.join('')).not.toContain('\n');
    bar.end();
    expect(s.chunks.at(-1)).toBe('\r\x1b[2K');
  });

  it('keeps the whole line when the terminal reports no width', () => {
    const s = { ...stream(true), columns: 0 };
    new ProgressBar(s, 1).start(0, 'saliency');
    expect(s.chunks.at(-1)).toMatch(/1\/1 saliency 0%$/);
  });

  it('is silent when quiet', () => {
    for (const tty of [true, false]) {
      const s = stream(tty);
      const bar = new ProgressBar(s, 1, true);
      bar.start(0, 'x');
      bar.update(1, 1);
      bar.finish(1);
      bar.end();
      expect(s.chunks).toEqual([]);
    }
  });
});
