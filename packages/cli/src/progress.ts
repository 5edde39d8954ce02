/** Where progress goes: a stream with an optional TTY flag and width (process.stderr fits). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Progress of a run of several methods. On a TTY, one line redrawn in place (a bar over all
 * methods, the current method and its fraction), throttled; otherwise one plain line per finished
 * method, so logs stay readable. Silent when `quiet`.
 */
export class ProgressBar {
  readonly #stream: ProgressStream;
  readonly #total: number;
  readonly #quiet: boolean;
  #index = 0;
  #label = '';
  #fraction = 0;
  #last = 0;
  #drawn = false;

  constructor(stream: ProgressStream, totalMethods: number, quiet = false) {
    this.#stream = stream;
    this.#total = Math.max(totalMethods, 1);
    this.#quiet = quiet;
  }

  /** A method starts. */
  start(index: number, label: string): void {
    this.#index = index;
    this.#label = label;
    this.#fraction = 0;
    this.#draw(true);
  }

  /** Progress inside the current method. */
  update(done: number, total: number): void {
    this.#fraction = total > 0 ? Math.min(Math.max(done / total, 0), 1) : 0;
    this.#draw(false);
  }

  /** The current method finished, taking `ms`. */
  finish(ms: number): void {
    if (this.#quiet) return;
    if (this.#stream.isTTY) {
      this.#fraction = 1;
      this.#draw(true);
    } else {
      this.#stream.write(`[${this.#index + 1}/${this.#total}] ${this.#label} done in ${ms.toFixed(0)} ms\n`);
    }
  }

  /** The current method failed (its error is reported at the end). */
  fail(): void {
    if (this.#quiet) return;
    if (this.#stream.isTTY) this.#draw(true);
    else this.#stream.write(`[${this.#index + 1}/${this.#total}] ${this.#label} failed\n`);
  }

  /** Clear the bar (TTY) before other output. */
  end(): void {
    if (!this.#quiet && this.#stream.isTTY && this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }

  #draw(force: boolean): void {
    if (this.#quiet || !this.#stream.isTTY) return;
    const now = Date.now();
    if (!force && now - this.#last < 80) return;
    this.#last = now;
    const overall = (this.#index + this.#fraction) / this.#total;
    // A pseudo-terminal may report 0 columns: treat that as unknown.
    const columns = this.#stream.columns || 80;
    const width = Math.max(10, Math.min(30, columns - 50));
    const filled = Math.round(overall * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const text = `${bar} ${this.#index + 1}/${this.#total} ${this.#label} ${Math.round(this.#fraction * 100)}%`;
    this.#stream.write(`\r\x1b[2K${text.slice(0, Math.max(columns - 1, 20))}`);
    this.#drawn = true;
  }
}
