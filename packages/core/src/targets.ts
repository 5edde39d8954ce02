import { TargetError } from './errors.js';
import type { ResolvedTarget, ScoreKind, TargetSpec } from './explainer.js';
import type { ModelInfo } from './model.js';
import { firstNonFinite, type Tensor } from './tensor.js';

const scoreKinds: readonly ScoreKind[] = ['logit', 'softmax', 'log-softmax', 'sigmoid'];

/** Check a score kind, naming the allowed ones. */
export function checkScoreKind(score: unknown): ScoreKind {
  if (typeof score !== 'string' || !scoreKinds.includes(score as ScoreKind)) {
    throw new TargetError(
      'invalid-target',
      `score ${JSON.stringify(score)} is not one of ${scoreKinds.join(', ')}`,
    );
  }
  return score as ScoreKind;
}

/** Index of the largest value of each row of an `N×K` tensor. */
export function argmaxRows(output: Tensor): Int32Array {
  const [n, k] = output.shape;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (output.data[i * k + j] > output.data[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Indices of the `k` largest values of one row, best first. */
export function topK(row: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: row.length }, (_, i) => i)
    .sort((a, b) => row[b] - row[a])
    .slice(0, k);
}

/** Whether the target needs the model's predictions to resolve (`top1`). */
export function targetNeedsForward(spec: TargetSpec | undefined): boolean {
  return spec === undefined || spec === 'top1';
}

/**
 * Validate a target spec against the model and batch size. `predictions` (`N×K`) is needed only
 * for `top1`. Throws `TargetError` naming the bad value.
 */
export function resolveTarget(
  spec: TargetSpec | undefined,
  info: ModelInfo,
  n: number,
  score: ScoreKind,
  predictions?: Tensor,
): ResolvedTarget {
  const k = info.numClasses;
  const checkClass = (c: number, where: string): number => {
    if (!Number.isInteger(c))
      throw new TargetError('invalid-target', `target ${c}${where} is not an integer class index`);
    if (c < 0 || c >= k)
      throw new TargetError(
        'target-out-of-range',
        `target ${c}${where} is out of range: the model has ${k} classes (0..${k - 1})`,
      );
    return c;
  };
  if (spec === undefined || spec === 'top1') {
    if (!predictions) throw new TargetError('invalid-target', 'target top1 needs the model predictions');
    return { classes: argmaxRows(predictions), cotangent: null, score };
  }
  if (typeof spec === 'number') {
    checkClass(spec, '');
    return { classes: new Int32Array(n).fill(spec), cotangent: null, score };
  }
  if (typeof spec === 'string') {
    const idx = info.labels?.indexOf(spec) ?? -1;
    if (idx < 0) {
      const known = info.labels
        ? `known labels: ${info.labels.slice(0, 20).join(', ')}${info.labels.length > 20 ? ', …' : ''}`
        : 'the model has no labels';
      throw new TargetError(
        'invalid-target',
        `target label ${JSON.stringify(spec)} is unknown (${known}); use a class index or top1`,
      );
    }
    return { classes: new Int32Array(n).fill(idx), cotangent: null, score };
  }
  if (Array.isArray(spec)) {
    const list = spec as readonly number[];
    if (list.length !== n && list.length !== 1) {
      throw new TargetError(
        'invalid-target',
        `got ${list.length} targets for a batch of ${n} items: give one per item (or one for all)`,
      );
    }
    const classes = new Int32Array(n);
    for (let i = 0; i < n; i++) classes[i] = checkClass(list[list.length === 1 ? 0 : i], ` (item ${i})`);
    return { classes, cotangent: null, score };
  }
  if (typeof spec === 'object' && spec !== null && 'cotangent' in spec) {
    const c = spec.cotangent;
    if (c.shape.length !== 2 || c.shape[1] !== k || (c.shape[0] !== n && c.shape[0] !== 1)) {
      throw new TargetError(
        'invalid-target',
        `cotangent target has shape [${c.shape.join(', ')}]; expected [${n}, ${k}] or [1, ${k}]`,
      );
    }
    if (firstNonFinite(c.data) >= 0)
      throw new TargetError('invalid-target', 'cotangent target contains NaN or infinite values');
    if (c.shape[0] === n) return { classes: null, cotangent: c, score: 'logit' };
    const full = new Float32Array(n * k);
    for (let i = 0; i < n; i++) full.set(c.data, i * k);
    return { classes: null, cotangent: { data: full, shape: [n, k] }, score: 'logit' };
  }
  throw new TargetError(
    'invalid-target',
    `target ${JSON.stringify(spec)} is not top1, a class index, a list of indices, a label or { cotangent }`,
  );
}

function softmaxRow(row: Float32Array): Float64Array {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of row) m = Math.max(m, v);
  const e = new Float64Array(row.length);
  let s = 0;
  for (let j = 0; j < row.length; j++) {
    e[j] = Math.exp(row[j] - m);
    s += e[j];
  }
  for (let j = 0; j < row.length; j++) e[j] /= s;
  return e;
}

/** Score of class `c` in one output row, per score kind. */
export function scoreOf(row: Float32Array, c: number, score: ScoreKind): number {
  switch (score) {
    case 'logit':
      return row[c];
    case 'softmax':
      return softmaxRow(row)[c];
    case 'log-softmax':
      return Math.log(softmaxRow(row)[c]);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-row[c]));
  }
}

/**
 * Cotangent over the outputs whose vector-Jacobian product gives the gradient of the score:
 * one-hot for logits; `p_c(e_c − p)` for softmax; `e_c − p` for log-softmax; `σ(1−σ)e_c` for sigmoid.
 * `output` may be null for logit scores.
 */
export function scoreCotangent(
  output: Tensor | null,
  classes: ArrayLike<number>,
  k: number,
  score: ScoreKind,
): Tensor {
  const m = classes.length;
  const out = new Float32Array(m * k);
  for (let i = 0; i < m; i++) {
    const c = classes[i];
    if (score === 'logit') {
      out[i * k + c] = 1;
      continue;
    }
    if (!output) throw new TargetError('invalid-target', `score ${score} needs the forward output`);
    const row = output.data.subarray(i * k, (i + 1) * k);
    if (score === 'sigmoid') {
      const s = 1 / (1 + Math.exp(-row[c]));
      out[i * k + c] = s * (1 - s);
      continue;
    }
    const p = softmaxRow(row);
    for (let j = 0; j < k; j++) {
      const delta = j === c ? 1 : 0;
      out[i * k + j] = score === 'softmax' ? p[c] * (delta - p[j]) : delta - p[j];
    }
  }
  return { data: out, shape: [m, k] };
}
