import { InputError, type ScoreSummary, summarizeScores } from '@xlens/core';
import Database from 'better-sqlite3';
import { type EvaluationPlan, planId, type UnitResult, type WorkUnit } from './plan.js';

const schema = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, plan TEXT NOT NULL, items INTEGER NOT NULL, units INTEGER NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS units (
  key TEXT PRIMARY KEY, run TEXT NOT NULL, item_start INTEGER NOT NULL, item_end INTEGER NOT NULL,
  method_index INTEGER NOT NULL, metric_index INTEGER NOT NULL, error TEXT, warnings TEXT NOT NULL,
  milliseconds REAL NOT NULL, attempts INTEGER NOT NULL, worker TEXT
);
CREATE TABLE IF NOT EXISTS scores (
  run TEXT NOT NULL, method_index INTEGER NOT NULL, metric_index INTEGER NOT NULL, item INTEGER NOT NULL,
  name TEXT NOT NULL, target INTEGER, score REAL, error TEXT, unit TEXT NOT NULL,
  PRIMARY KEY (run, method_index, metric_index, item)
);
`;

/** One stored score row, as exported. */
export interface ScoreRow {
  readonly method: string;
  readonly metric: string;
  readonly item: number;
  readonly name: string;
  readonly target: number | null;
  readonly score: number | null;
  readonly error: string | null;
}

/** Mean and 95% CI of one (method, metric) over the items with a score, plus the items without. */
export interface MethodSummary {
  readonly method: string;
  readonly metric: string;
  readonly summary: ScoreSummary;
  /** Items without a score (unreadable, undefined, failed). */
  readonly errors: number;
}

/** How far a run is. */
export interface RunProgress {
  readonly units: number;
  readonly done: number;
  /** Units whose method or metric failed (recorded; a rerun does not repeat them). */
  readonly failed: number;
  /** Units that needed more than one attempt (a worker died or stalled). */
  readonly retried: number;
}

interface ScoreDbRow {
  method_index: number;
  metric_index: number;
  item: number;
  name: string;
  target: number | null;
  score: number | null;
  error: string | null;
}

/**
 * The results of evaluations in one SQLite file (better-sqlite3): runs (plans), units and per-item
 * scores. A unit's result is written in one transaction and only once: a second result for the
 * same unit key (a retried unit whose first attempt got through after all) is ignored, so nothing
 * is counted twice, and a run interrupted at any point keeps every unit it finished.
 */
export class ResultStore {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Open (or create) a store at `path`. */
  static open(path: string): ResultStore {
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (e) {
      throw new InputError(
        'invalid-input',
        `cannot open the results database ${path}: ${(e as Error).message}`,
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(schema);
    return new ResultStore(db);
  }

  /** Record a run's plan (once) with its item and unit counts; returns its id. */
  beginRun(plan: EvaluationPlan, items: number, units: number): string {
    const id = planId(plan);
    this.#db
      .prepare('INSERT OR IGNORE INTO runs (id, plan, items, units, created) VALUES (?, ?, ?, ?, ?)')
      .run(id, JSON.stringify(plan), items, units, new Date().toISOString());
    return id;
  }

  /** The plan of a run, and its item count. */
  run(id: string): { plan: EvaluationPlan; items: number; units: number } {
    const row = this.#db.prepare('SELECT plan, items, units FROM runs WHERE id = ?').get(id) as
      | { plan: string; items: number; units: number }
      | undefined;
    if (!row) throw new InputError('invalid-input', `no run ${id} in this results database`);
    return { plan: JSON.parse(row.plan) as EvaluationPlan, items: row.items, units: row.units };
  }

  /** Keys of the run's units that have a result. */
  finishedKeys(run: string): Set<string> {
    const rows = this.#db.prepare('SELECT key FROM units WHERE run = ?').pluck().all(run) as string[];
    return new Set(rows);
  }

  /**
   * Write a unit's result; false (and nothing written) when the unit already has one. Throws when
   * the result does not hold exactly one row per item of the unit's range.
   */
  record(unit: WorkUnit, result: UnitResult, attempts = 1, worker?: string): boolean {
    const items = result.items.map((s) => s.item);
    const expected = unit.end - unit.start;
    if (
      result.key !== unit.key ||
      items.length !== expected ||
      new Set(items).size !== expected ||
      items.some((i) => i < unit.start || i >= unit.end)
    )
      throw new Error(
        `result of unit ${unit.key} does not cover items ${unit.start}..${unit.end - 1} once each`,
      );
    const write = this.#db.transaction((): boolean => {
      const inserted = this.#db
        .prepare(
          'INSERT OR IGNORE INTO units (key, run, item_start, item_end, method_index, metric_index, error, warnings, milliseconds, attempts, worker) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          unit.key,
          unit.run,
          unit.start,
          unit.end,
          unit.methodIndex,
          unit.metricIndex,
          result.error ?? null,
          JSON.stringify(result.warnings),
          result.milliseconds,
          attempts,
          worker ?? null,
        );
      if (inserted.changes === 0) return false;
      const insert = this.#db.prepare(
        'INSERT INTO scores (run, method_index, metric_index, item, name, target, score, error, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const s of result.items)
        insert.run(
          unit.run,
          unit.methodIndex,
          unit.metricIndex,
          s.item,
          s.name,
          s.target,
          s.score,
          s.error ?? null,
          unit.key,
        );
      return true;
    });
    return write();
  }

  /** Units done, failed and retried so far. */
  progress(run: string): RunProgress {
    const { units } = this.run(run);
    const row = this.#db
      .prepare(
        'SELECT COUNT(*) AS done, SUM(error IS NOT NULL) AS failed, SUM(attempts > 1) AS retried FROM units WHERE run = ?',
      )
      .get(run) as { done: number; failed: number | null; retried: number | null };
    return { units, done: row.done, failed: row.failed ?? 0, retried: row.retried ?? 0 };
  }

  /** Every score row of a run, by method, metric and item. */
  *scores(run: string): Generator<ScoreRow> {
    const { plan } = this.run(run);
    const rows = this.#db
      .prepare(
        'SELECT method_index, metric_index, item, name, target, score, error FROM scores WHERE run = ? ORDER BY method_index, metric_index, item',
      )
      .iterate(run) as IterableIterator<ScoreDbRow>;
    for (const r of rows)
      yield {
        method: plan.methods[r.method_index].key,
        metric: plan.metrics[r.metric_index].id,
        item: r.item,
        name: r.name,
        target: r.target,
        score: r.score,
        error: r.error,
      };
  }

  /** Mean and 95% CI per method and metric. */
  summaries(run: string): MethodSummary[] {
    const groups = new Map<string, { method: string; metric: string; scores: number[]; errors: number }>();
    for (const r of this.scores(run)) {
      const key = `${r.method}\0${r.metric}`;
      let g = groups.get(key);
      if (!g) {
        g = { method: r.method, metric: r.metric, scores: [], errors: 0 };
        groups.set(key, g);
      }
      if (r.score === null) g.errors++;
      else g.scores.push(r.score);
    }
    return [...groups.values()].map((g) => ({
      method: g.method,
      metric: g.metric,
      summary: summarizeScores(g.scores),
      errors: g.errors,
    }));
  }

  /** Unit-level failures and warnings of a run. */
  notes(run: string): {
    method: string;
    metric: string;
    start: number;
    end: number;
    error: string | null;
    warnings: string[];
  }[] {
    const { plan } = this.run(run);
    const rows = this.#db
      .prepare(
        "SELECT item_start, item_end, method_index, metric_index, error, warnings FROM units WHERE run = ? AND (error IS NOT NULL OR warnings != '[]') ORDER BY method_index, metric_index, item_start",
      )
      .all(run) as {
      item_start: number;
      item_end: number;
      method_index: number;
      metric_index: number;
      error: string | null;
      warnings: string;
    }[];
    return rows.map((r) => ({
      method: plan.methods[r.method_index].key,
      metric: plan.metrics[r.metric_index].id,
      start: r.item_start,
      end: r.item_end,
      error: r.error,
      warnings: JSON.parse(r.warnings) as string[],
    }));
  }

  /** Total compute time of the run's recorded units, in ms. */
  computeMilliseconds(run: string): number {
    return (
      (this.#db.prepare('SELECT SUM(milliseconds) FROM units WHERE run = ?').pluck().get(run) as
        | number
        | null) ?? 0
    );
  }

  close(): void {
    this.#db.close();
  }
}

const csvCell = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** Per-item scores as CSV: method, metric, item, name, target, score, error (empty score when none). */
export function scoresCsv(rows: Iterable<ScoreRow>): string {
  const out = ['method,metric,item,name,target,score,error'];
  for (const r of rows)
    out.push([r.method, r.metric, r.item, r.name, r.target, r.score, r.error].map(csvCell).join(','));
  return `${out.join('\n')}\n`;
}

/** Per-item scores as JSON lines, one object per row. */
export function scoresJsonl(rows: Iterable<ScoreRow>): string {
  let out = '';
  for (const r of rows) out += `${JSON.stringify(r)}\n`;
  return out;
}
