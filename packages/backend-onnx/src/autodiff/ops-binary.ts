import type { BackwardContext, OpGradient } from './types.js';

/** For each wanted operand, `unbroadcast(fn(i))`. */
function each(ctx: BackwardContext, fn: (i: number) => string): (string | undefined)[] {
  const y = ctx.node.output[0];
  return ctx.node.input.map((x, i) => (ctx.wants[i] && x ? ctx.e.unbroadcast(fn(i), x, y) : undefined));
}

/** Gradients of broadcasting binary and variadic element-wise ops. */
export const binaryOps: Record<string, OpGradient> = {
  Add: { diff: [0, 1], backward: (ctx) => each(ctx, () => ctx.g[0]!) },
  Sum: { diff: Array.from({ length: 64 }, (_, i) => i), backward: (ctx) => each(ctx, () => ctx.g[0]!) },
  Sub: { diff: [0, 1], backward: (ctx) => each(ctx, (i) => (i === 0 ? ctx.g[0]! : ctx.e.neg(ctx.g[0]!))) },
  Mul: {
    diff: [0, 1],
    backward: (ctx) => each(ctx, (i) => ctx.e.mul(ctx.g[0]!, ctx.node.input[1 - i])),
  },
  Div: {
    diff: [0, 1],
    backward: (ctx) => {
      const { e, node } = ctx;
      const g = ctx.g[0]!;
      // d(a/b)/db = −(a/b)/b = −y/b.
      return each(ctx, (i) =>
        i === 0 ? e.div(g, node.input[1]) : e.neg(e.div(e.mul(g, node.output[0]), node.input[1])),
      );
    },
  },
  Mean: {
    diff: Array.from({ length: 64 }, (_, i) => i),
    backward: (ctx) => {
      const share = ctx.e.mul(ctx.g[0]!, ctx.e.f32(1 / ctx.node.input.length));
      return each(ctx, () => share);
    },
  },
  Max: {
    diff: Array.from({ length: 64 }, (_, i) => i),
    backward: (ctx) =>
      each(ctx, (i) =>
        ctx.e.where(ctx.e.op('Equal', [ctx.node.input[i], ctx.node.output[0]]), ctx.g[0]!, ctx.e.f32(0)),
      ),
  },
  Min: {
    diff: Array.from({ length: 64 }, (_, i) => i),
    backward: (ctx) =>
      each(ctx, (i) =>
        ctx.e.where(ctx.e.op('Equal', [ctx.node.input[i], ctx.node.output[0]]), ctx.g[0]!, ctx.e.f32(0)),
      ),
  },
  Where: {
    diff: [1, 2],
    backward: (ctx) => {
      const { e, node } = ctx;
      const g = ctx.g[0]!;
      const zero = e.f32(0);
      return each(ctx, (i) => (i === 1 ? e.where(node.input[0], g, zero) : e.where(node.input[0], zero, g)));
    },
  },
};
