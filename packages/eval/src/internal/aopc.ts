/**
 * Area over the perturbation curve of one item (Samek et al. 2017, eq. 12, for one image): the
 * mean over the L + 1 steps k = 0..L of f(x⁽⁰⁾) − f(x⁽ᵏ⁾).
 */
export function aopc(y: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < y.length; k++) s += y[0] - y[k];
  return s / y.length;
}
