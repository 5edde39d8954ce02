import { binaryOps } from './ops-binary.js';
import { elementwiseUnary, identityLike, softmaxOps } from './ops-elementwise.js';
import { linearOps } from './ops-linear.js';
import { poolOps } from './ops-pool.js';
import { shapeOps } from './ops-shape.js';
import type { OpGradient } from './types.js';

/** Backward rules by ONNX op type (default domain). */
export const opGradients: Readonly<Record<string, OpGradient>> = {
  ...elementwiseUnary,
  ...identityLike,
  ...softmaxOps,
  ...binaryOps,
  ...linearOps,
  ...poolOps,
  ...shapeOps,
};

/** Op types that never carry a gradient (shape plumbing, comparisons, constants). */
export const nonDifferentiableOps: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'Constant',
  'ConstantOfShape',
  'Range',
  'NonZero',
  'ArgMax',
  'ArgMin',
  'Equal',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
  'EyeLike',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'NonMaxSuppression',
]);

/** The op types xlens can differentiate, sorted (for messages and the README). */
export const differentiableOpTypes: readonly string[] = Object.keys(opGradients).sort();
