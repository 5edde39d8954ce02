import type { BackwardRules, ExplainContext, Tensor } from '@xlens/core';
import { itemList, sizeOf } from '@xlens/core';

/** A relevance map and the bookkeeping of where its relevance came from. */
export interface RelevanceRun {
  /** Relevance at the input, in the input layout. */
  readonly map: Tensor;
  /** Model outputs of the same pass. */
  readonly output: Tensor;
  /** Σ over the outputs of `z ⊙ cotangent`: the relevance put in at the top, per item. */
  readonly seeded: number[];
  /** Σ of the input relevance per item. */
  readonly total: number[];
}

/**
 * The seed that puts the target logit in as relevance: one-hot rows for class targets (whatever
 * `score` says: LRP decomposes the logit), the explicit cotangent for cotangent targets.
 */
export function logitSeed(ctx: ExplainContext<unknown>): Tensor {
  const n = ctx.input.shape[0];
  const k = ctx.model.info.numClasses;
  const classes = ctx.target.classes;
  if (!classes) return ctx.target.cotangent!;
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) data[i * k + classes[i]] = 1;
  return { data, shape: [n, k] };
}

/** A warning when the run asked for a score other than the logit, which relevance methods ignore. */
export function scoreWarnings(ctx: ExplainContext<unknown>): string[] {
  return ctx.target.classes && ctx.target.score !== 'logit'
    ? [`${ctx.method} decomposes the target logit; score ${ctx.target.score} was ignored`]
    : [];
}

/**
 * One backward pass with `rules` returning input relevance. The seed is `cotangent` (rows aligned
 * with the input), by default `logitSeed`; under the gradient convention the relevance put in at
 * the outputs is `z ⊙ cotangent`, i.e. the logit for a one-hot seed.
 */
export async function relevanceRun(
  ctx: ExplainContext<unknown>,
  rules: BackwardRules,
  cotangent: Tensor = logitSeed(ctx),
): Promise<RelevanceRun> {
  const result = await ctx.gradient({ input: ctx.input, rules, relevance: true, cotangent });
  const map = result.inputRelevance ?? times(ctx.input, result.inputGradient!);
  return { map, output: result.output, seeded: rowDots(result.output, cotangent), total: itemSums(map) };
}

/** Element-wise product of two equally sized tensors, shaped like `a`. */
export function times(a: Tensor, b: Tensor): Tensor {
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] * b.data[i];
  return { data: out, shape: [...a.shape] };
}

/** Σ_j a_ij·b_ij per row of two `N×K` tensors. */
export function rowDots(a: Tensor, b: Tensor): number[] {
  const [n, k] = a.shape;
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < k; j++) s += a.data[i * k + j] * b.data[i * k + j];
    return s;
  });
}

/** Σ of each item of a batch. */
export function itemSums(t: Tensor): number[] {
  const m = sizeOf(t.shape.slice(1));
  return Array.from({ length: t.shape[0] }, (_, i) => {
    let s = 0;
    for (let j = 0; j < m; j++) s += t.data[i * m + j];
    return s;
  });
}

/** Extras of an LRP-style run, per item: Σ input relevance, the relevance put in, and their gap. */
export type ConservationExtras = {
  readonly relevanceSum: number[];
  readonly outputRelevance: number[];
  readonly conservationGap: number[];
};

/** Extras of a relevance run: input-relevance sums, seeded relevance and their gap per item. */
export function conservationExtras(run: RelevanceRun): ConservationExtras {
  return {
    relevanceSum: run.total,
    outputRelevance: run.seeded,
    conservationGap: run.total.map((t, i) => t - run.seeded[i]),
  };
}

/** How far Σ input relevance may sit from the relevance put in before a run warns (10% of it). */
export const conservationTolerance = 0.1;

/**
 * A warning when Σ input relevance misses the relevance put in by more than
 * `conservationTolerance` of it on some item, so the map is not read as a decomposition of the
 * logit. Biases (every convolution with a folded BatchNorm has one), stabilisers and units driven by
 * their bias alone take or add relevance (ADR 0010); `hint` says what the method can do about it.
 */
export function conservationWarnings(
  ctx: ExplainContext<unknown>,
  run: RelevanceRun,
  hint: string | null,
): string[] {
  const off: number[] = [];
  const shares: number[] = [];
  run.seeded.forEach((s, i) => {
    if (s !== 0 && Math.abs(run.total[i] - s) > conservationTolerance * Math.abs(s)) {
      off.push(i);
      shares.push(run.total[i] / s);
    }
  });
  if (off.length === 0) return [];
  const percent = (v: number) =>
    `${Math.abs(v) >= 0.1 ? Math.round(100 * v) : Number((100 * v).toPrecision(2))}%`;
  const [low, high] = [Math.min(...shares), Math.max(...shares)];
  const range = low === high ? percent(low) : `${percent(low)} to ${percent(high)}`;
  const items = itemList(off, run.seeded.length);
  return [
    `${ctx.method}: Σ input relevance is ${range} of the target logit on ${items} (more than ${percent(conservationTolerance)} off): biases, stabilisers and units driven by their bias alone took or added the rest${hint ? `; ${hint}` : ''}; extras.conservationGap has it per item`,
  ];
}

/**
 * An output cotangent whose relevance `z ⊙ c` equals the wanted output relevance `r`:
 * `c = r ⊘ z` (0 where z is 0, which carries no relevance under the gradient convention).
 */
export function cotangentForRelevance(output: Tensor, relevance: Float32Array): Tensor {
  const data = new Float32Array(relevance.length);
  for (let i = 0; i < data.length; i++) data[i] = output.data[i] === 0 ? 0 : relevance[i] / output.data[i];
  return { data, shape: [...output.shape] };
}
