import { describe, expect, it } from 'vitest';
import { durationText, progressText } from './progress-text.js';

describe('progressText', () => {
  it('formats durations and the bar with units and ETA', () => {
    expect([
      durationText(12_400),
      durationText(245_000),
      durationText(3_720_000),
      durationText(Number.NaN),
    ]).toEqual(['12s', '4m05s', '1h02m', '–']);
    expect(progressText({ total: 4, done: 1, resumed: 0, lost: 0, elapsedMs: 3000, etaMs: 9000 }, 4)).toBe(
      '█░░░ 1/4 units · 3s elapsed · ETA 9s',
    );
  });
});
