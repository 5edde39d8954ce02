import { describe, expect, it } from 'vitest';
import { chunkRanges, MeasuredBatchSize, measuredBatchStart } from './batching.js';

describe('batching', () => {
  it('chunkRanges covers the total in steps', () => {
    expect(chunkRanges(5, 2)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(chunkRanges(0, 4)).toEqual([]);
    expect(chunkRanges(3, 0)).toHaveLength(3);
  });
});

/** Feed a sizer chunks whose time is `msPerRow(size) × size` until it settles; returns the sizes tried. */
function drive(sizer: MeasuredBatchSize, msPerRow: (rows: number) => number): number[] {
  const tried: number[] = [];
  for (let i = 0; i < 20 && !sizer.settled; i++) {
    const rows = sizer.size;
    tried.push(rows);
    sizer.record(rows, msPerRow(rows) * rows);
  }
  return tried;
}

describe('MeasuredBatchSize (ADR 0011)', () => {
  it('doubles while the time per row falls by 10% or more, then keeps the best size', () => {
    // Per-row cost 1 + 8/rows: a fixed per-call overhead shared by the rows. 16 → 32 gains 17%,
    // 32 → 64 exactly 10%, which is not enough: 32 is kept.
    const s = new MeasuredBatchSize(16, 64);
    expect(drive(s, (r) => 1 + 8 / r)).toEqual([16, 32, 64]);
    expect(s.size).toBe(32);
    // Overhead 2/rows: 8 → 16 gains 10% exactly, so 8 is kept.
    const t = new MeasuredBatchSize(2, 64);
    expect(drive(t, (r) => 1 + 2 / r)).toEqual([2, 4, 8, 16]);
    expect(t.size).toBe(8);
  });

  it('stops at the cap', () => {
    const s = new MeasuredBatchSize(16, 40);
    expect(drive(s, (r) => 100 / r)).toEqual([16, 32]);
    expect(s.size).toBe(32);
    expect(s.settled).toBe(true);
  });

  it('halves when the first doubling does not pay', () => {
    // Per-row cost grows with the chunk (cache misses): smaller is better down to 2.
    const s = new MeasuredBatchSize(16, 64);
    expect(drive(s, (r) => (r <= 2 ? 1 : r))).toEqual([16, 32, 8, 4, 2, 1]);
    expect(s.size).toBe(2);
    // Flat cost: one doubling and one halving are tried, the start is kept.
    const flat = new MeasuredBatchSize(16, 64);
    expect(drive(flat, () => 1)).toEqual([16, 32, 8]);
    expect(flat.size).toBe(16);
  });

  it('keeps any halving gain: 16 → 32 → 8 → 4 → 2 → 1 on a cost that falls 3% per halving', () => {
    // ONNX Runtime on a 224² ResNet measured about this: per-row time 2–5% lower per halving.
    const s = new MeasuredBatchSize(16, 64);
    expect(drive(s, (r) => 1 + 0.03 * Math.log2(r))).toEqual([16, 32, 8, 4, 2, 1]);
    expect(s.size).toBe(1);
    // A halving that costs more stops the walk at the size before it.
    const t = new MeasuredBatchSize(16, 64);
    expect(drive(t, (r) => (r === 2 ? 2 : 1 + 0.03 * Math.log2(r)))).toEqual([16, 32, 8, 4, 2]);
    expect(t.size).toBe(4);
  });

  it('starts large rows at smaller chunks', () => {
    expect(measuredBatchStart(16, 3 * 32 * 32)).toBe(16);
    expect(measuredBatchStart(16, 3 * 112 * 112)).toBe(16);
    expect(measuredBatchStart(16, 3 * 224 * 224)).toBe(4);
    expect(measuredBatchStart(16, 3 * 1024 * 1024)).toBe(1);
    expect(measuredBatchStart(5, 10)).toBe(4);
  });

  it('ignores partial chunks and starts settled when told', () => {
    const s = new MeasuredBatchSize(16, 64);
    expect(s.record(5, 1)).toBe(16);
    expect(s.settled).toBe(false);
    const known = new MeasuredBatchSize(24, 64, true);
    expect(known.record(24, 1)).toBe(24);
    expect(known.size).toBe(24);
    expect(new MeasuredBatchSize(100, 10).size).toBe(10);
  });
});
