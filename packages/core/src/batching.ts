/** `[start, end)` ranges covering `total` in steps of `size`. */
export function chunkRanges(total: number, size: number): Array<[number, number]> {
  const step = Math.max(1, Math.floor(size));
  const out: Array<[number, number]> = [];
  for (let s = 0; s < total; s += step) out.push([s, Math.min(total, s + step)]);
  return out;
}

/** Largest chunk the measured batch size tries, in rows. */
export const measuredBatchMax = 64;

/** Largest chunk the measured batch size tries, in bytes of float32 input rows. */
export const measuredBatchBytes = 256 * 2 ** 20;

/** Float32 input bytes of the first measured chunk, at most (ADR 0011): large rows start small. */
export const measuredBatchStartBytes = 4 * 2 ** 20;

/**
 * The first chunk size of a measured stream: `preferred` rows, lowered to the largest power of two
 * whose rows fit `measuredBatchStartBytes` (4 rows of 3×224², 16 of 3×112² or smaller).
 */
export function measuredBatchStart(preferred: number, rowFloats: number): number {
  const fit = Math.floor(measuredBatchStartBytes / (4 * Math.max(1, rowFloats)));
  let start = 1;
  while (start * 2 <= Math.min(preferred, fit)) start *= 2;
  return start;
}

/**
 * A stream's rows per model call, chosen by measurement when the user gives no `batchSize`
 * (ADR 0011). It starts at `start` and times every full chunk: while doubling the chunk lowers the
 * time per row by at least 10% it keeps doubling (up to `max`); when the first doubling does not
 * pay, it halves while that lowers the time per row at all (a smaller chunk also needs less
 * memory, so it needs no margin); then it settles on the best size seen. A partial chunk (the last
 * one) is not measured. Results do not depend on the sizes chosen (ADR 0003), only the time.
 */
export class MeasuredBatchSize {
  #size: number;
  #settled: boolean;
  #best: { size: number; perRow: number } | null = null;
  #step: 2 | 0.5 = 2;
  readonly #start: number;
  readonly #max: number;

  constructor(start: number, max: number, settled = false) {
    this.#max = Math.max(1, Math.floor(max));
    this.#start = Math.min(Math.max(1, Math.floor(start)), this.#max);
    this.#size = this.#start;
    this.#settled = settled;
  }

  /** Rows of the next chunk. */
  get size(): number {
    return this.#size;
  }

  /** Whether the size is final. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Record that a chunk of `rows` rows took `ms` milliseconds; returns the next chunk's rows. */
  record(rows: number, ms: number): number {
    if (this.#settled || rows < this.#size || !(ms >= 0)) return this.#size;
    const perRow = ms / rows;
    const best = this.#best;
    const gain = this.#step === 2 ? 0.9 : 1;
    if (best && !(perRow < gain * best.perRow)) {
      // No gain: after a failed first doubling try halving, else keep the best size seen.
      if (this.#step === 2 && best.size === this.#start && this.#start > 1) {
        this.#step = 0.5;
        return this.#move(Math.floor(this.#start / 2));
      }
      this.#size = best.size;
      this.#settled = true;
      return this.#size;
    }
    this.#best = { size: this.#size, perRow };
    return this.#move(Math.floor(this.#size * this.#step));
  }

  /** Go to `next` rows, or settle on the best size when `next` is out of range. */
  #move(next: number): number {
    if (next >= 1 && next <= this.#max && next !== this.#best?.size) this.#size = next;
    else {
      this.#size = this.#best?.size ?? this.#size;
      this.#settled = true;
    }
    return this.#size;
  }
}
