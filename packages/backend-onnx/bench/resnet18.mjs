// A ResNet-18-shaped ONNX model with random weights, built with the package's own graph builder
// (Conv + BatchNormalization + Relu, MaxPool, residual Add, GlobalAveragePool, Gemm), so the
// benchmark needs no downloaded model and no Python.
import { encodeOnnxModel, OnnxGraphBuilder } from '../dist/index.js';

/** Seeded normal draws (LCG + Box–Muller), shared by the bench model builders. */
export function normals(count, std, seed) {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i += 2) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const u = (s + 1) / 2 ** 32;
    s = (s * 1664525 + 1013904223) >>> 0;
    const v = s / 2 ** 32;
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = std * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = std * r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Encoded ResNet-18-shaped model: input `[N, 3, size, size]`, 1000 logits. */
export function resnet18Onnx(size = 224, classes = 1000) {
  const b = new OnnxGraphBuilder({ opset: 17, name: 'resnet18-like' });
  let seed = 1;
  const convBn = (x, cin, cout, k, stride, relu) => {
    const w = b.initializer('conv.w', normals(cout * cin * k * k, Math.sqrt(2 / (cin * k * k)), seed++), [
      cout,
      cin,
      k,
      k,
    ]);
    const p = (k - 1) / 2;
    const c = b.node('Conv', [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [p, p, p, p] });
    const ones = (v) => b.initializer('bn', new Float32Array(cout).fill(v), [cout]);
    const y = b.node('BatchNormalization', [c, ones(1), ones(0), ones(0), ones(1)], { epsilon: 1e-5 });
    return relu ? b.node('Relu', [y]) : y;
  };
  const block = (x, cin, cout, stride) => {
    const h = convBn(convBn(x, cin, cout, 3, stride, true), cout, cout, 3, 1, false);
    const skip = stride !== 1 || cin !== cout ? convBn(x, cin, cout, 1, stride, false) : x;
    return b.node('Relu', [b.node('Add', [h, skip])]);
  };
  let x = b.input('input', ['N', 3, size, size]);
  x = convBn(x, 3, 64, 7, 2, true);
  x = b.node('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let cin = 64;
  for (const [cout, stride] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ]) {
    x = block(block(x, cin, cout, stride), cout, cout, 1);
    cin = cout;
  }
  const pooled = b.node('Flatten', [b.node('GlobalAveragePool', [x])]);
  const fc = b.initializer('fc.w', normals(classes * 512, Math.sqrt(1 / 512), seed++), [classes, 512]);
  b.output(
    b.node(
      'Gemm',
      [pooled, fc, b.initializer('fc.b', new Float32Array(classes), [classes])],
      { transB: 1 },
      { outputs: ['logits'] },
    ),
  );
  return encodeOnnxModel(b.build());
}
