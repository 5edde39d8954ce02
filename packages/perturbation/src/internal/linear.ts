/**
 * Lower Cholesky factor L (L·Lᵀ = A) of a symmetric positive semi-definite `d×d` matrix (row-major).
 * A singular or barely indefinite A (a segment never switched, a covariance estimated from too few
 * patches) gets a ridge of 1e-10·trace/d, then 100× more, until it factorises: a regularised
 * answer instead of a failure.
 */
export function cholesky(a: Float64Array, d: number): Float64Array {
  let trace = 0;
  for (let j = 0; j < d; j++) trace += Math.abs(a[j * d + j]);
  if (!Number.isFinite(trace)) return new Float64Array(d * d);
  const base = (trace / Math.max(d, 1)) * 1e-10 || 1e-300;
  for (let jitter = 0; ; jitter = jitter === 0 ? base : jitter * 100) {
    const l = new Float64Array(d * d);
    let ok = true;
    for (let j = 0; j < d && ok; j++) {
      for (let k = 0; k <= j; k++) {
        let s = a[j * d + k] + (j === k ? jitter : 0);
        for (let m = 0; m < k; m++) s -= l[j * d + m] * l[k * d + m];
        if (j === k) {
          ok = s > 0;
          l[j * d + j] = Math.sqrt(s);
        } else l[j * d + k] = s / l[k * d + k];
        if (!ok) break;
      }
    }
    if (ok || jitter > trace + 1) return ok ? l : new Float64Array(d * d);
  }
}

/** Solve L·Lᵀ·x = b for the Cholesky factor `l` of a `d×d` matrix (zero pivots give zeros). */
export function choleskySolve(l: Float64Array, b: Float64Array, d: number): Float64Array {
  const x = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    if (l[j * d + j] === 0) continue;
    let s = b[j];
    for (let m = 0; m < j; m++) s -= l[j * d + m] * x[m];
    x[j] = s / l[j * d + j];
  }
  for (let j = d - 1; j >= 0; j--) {
    if (l[j * d + j] === 0) {
      x[j] = 0;
      continue;
    }
    let s = x[j];
    for (let m = j + 1; m < d; m++) s -= l[m * d + j] * x[m];
    x[j] = s / l[j * d + j];
  }
  return x;
}

/** Solve the symmetric positive (semi-)definite system A·x = b (see `cholesky` for singular A). */
export function solveSpd(a: Float64Array, b: Float64Array, d: number): Float64Array {
  return choleskySolve(cholesky(a, d), b, d);
}

/** A fitted weighted linear model. */
export interface LinearFit {
  readonly coef: Float64Array;
  readonly intercept: number;
  /** Weighted coefficient of determination R² on the fitted rows. */
  readonly r2: number;
}

/**
 * Weighted ridge regression with an intercept, as scikit-learn's `Ridge(alpha)` with
 * `sample_weight` (what LIME fits): X and y centred on their weighted means, then
 * (XᵀWX + αI)·β = XᵀWy, intercept = ȳ − x̄·β. `x(r, j)` reads feature j of row r.
 */
export function weightedRidge(
  x: (r: number, j: number) => number,
  y: ArrayLike<number>,
  weights: ArrayLike<number>,
  d: number,
  alpha: number,
): LinearFit {
  const rows = y.length;
  let wsum = 0;
  const xm = new Float64Array(d);
  let ym = 0;
  for (let r = 0; r < rows; r++) {
    wsum += weights[r];
    ym += weights[r] * y[r];
    for (let j = 0; j < d; j++) xm[j] += weights[r] * x(r, j);
  }
  ym /= wsum;
  for (let j = 0; j < d; j++) xm[j] /= wsum;
  const a = new Float64Array(d * d);
  const b = new Float64Array(d);
  const xc = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const wr = weights[r];
    for (let j = 0; j < d; j++) xc[j] = x(r, j) - xm[j];
    const yc = y[r] - ym;
    for (let j = 0; j < d; j++) {
      b[j] += wr * xc[j] * yc;
      for (let k = 0; k <= j; k++) a[j * d + k] += wr * xc[j] * xc[k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < j; k++) a[k * d + j] = a[j * d + k];
    a[j * d + j] += alpha;
  }
  const coef = solveSpd(a, b, d);
  let intercept = ym;
  for (let j = 0; j < d; j++) intercept -= xm[j] * coef[j];
  let residual = 0;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let fit = intercept;
    for (let j = 0; j < d; j++) fit += coef[j] * x(r, j);
    residual += weights[r] * (y[r] - fit) ** 2;
    total += weights[r] * (y[r] - ym) ** 2;
  }
  return { coef, intercept, r2: total > 0 ? 1 - residual / total : 1 };
}
