// Shared benchmark helpers: every benchmark reports a method's time as a multiple of one forward
// pass of the same model and batch, measured in the same run (absolute times are noise on shared
// machines). Used by each package's bench/run.mjs.

/** Median wall time in ms of `fn` over `repeats` runs after `warmup` runs. */
export async function timeIt(fn, { warmup = 1, repeats = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Measure one forward pass and each case as a ratio to it.
 * cases: [{ name, run: async () => void, repeats? }]
 * Returns rows { name, ms, ratio } with the forward row first.
 */
export async function ratioTable(forward, cases, options = {}) {
  const fwd = await timeIt(forward, { warmup: 2, repeats: options.forwardRepeats ?? 7 });
  const rows = [{ name: 'forward', ms: fwd, ratio: 1 }];
  for (const c of cases) {
    const ms = await timeIt(c.run, { warmup: c.warmup ?? 1, repeats: c.repeats ?? 3 });
    rows.push({ name: c.name, ms, ratio: ms / fwd });
  }
  return rows;
}

/** Markdown table of several ratio columns: columns = [{ title, rows }]. */
export function markdownTable(columns, firstHeader = 'method') {
  const names = [...new Set(columns.flatMap((c) => c.rows.map((r) => r.name)))];
  const head = `| ${firstHeader} | ${columns.map((c) => c.title).join(' | ')} |`;
  const sep = `|---|${columns.map(() => '---:').join('|')}|`;
  const lines = names.map((n) => {
    const cells = columns.map((c) => {
      const r = c.rows.find((x) => x.name === n);
      return r ? `${r.ratio.toFixed(1)}×` : '–';
    });
    return `| ${n} | ${cells.join(' | ')} |`;
  });
  return [head, sep, ...lines].join('\n');
}
