/**
 * Format rows as a plain-text table with aligned columns; `right` lists right-aligned columns.
 * Cells go through `printable`, since many come from the model (names, labels).
 */
export function textTable(
  header: readonly string[],
  cellsIn: readonly (readonly string[])[],
  right: readonly number[] = [],
): string {
  const rows = cellsIn.map((r) => r.map((c) => printable(c)));
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Milliseconds as a short human string. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

/**
 * Text from outside (model node names, labels, file names) made safe for a terminal: control
 * characters — ANSI escapes, carriage returns, tabs, newlines — are shown as `\xNN` escapes
 * instead of acting on the terminal.
 */
export function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    out += control ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}
