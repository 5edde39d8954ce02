// Full-width ResNet-18, MobileNetV2 and DenseNet-121 with random weights, written with the package's
// graph builder in the layout torchvision's ONNX exports have (`torch.onnx.export` of an eval-mode
// model, opset 17, constant folding on): every BatchNorm that follows a convolution is folded into
// that Conv's weight and bias; BatchNorms that follow a Concat (DenseNet) stay BatchNormalization
// nodes; ReLU6 is Clip with constant min/max inputs; the head is GlobalAveragePool → Flatten → Gemm
// (transB = 1). The benchmarks therefore measure the graph shapes users load, without torch.
import { encodeOnnxModel, OnnxGraphBuilder } from '../dist/index.js';
import { normals } from './resnet18.mjs';

/** Shared pieces: a Conv with a folded-BatchNorm bias, unfolded BatchNorm, the classifier head. */
function parts(b) {
  let seed = 1;
  let count = 0;
  const conv = (x, cin, cout, k, stride, { group = 1, pad = (k - 1) / 2, name, bias = true } = {}) => {
    const id = name ?? `conv${count++}`;
    const fanIn = (cin / group) * k * k;
    const w = b.initializer(`${id}.weight`, normals(cout * fanIn, Math.sqrt(2 / fanIn), seed++), [
      cout,
      cin / group,
      k,
      k,
    ]);
    // A Conv followed by no BatchNorm has no bias in torchvision (DenseNet's 3×3 and transitions).
    const inputs = bias ? [x, w, b.initializer(`${id}.bias`, normals(cout, 0.05, seed++), [cout])] : [x, w];
    return b.node('Conv', inputs, {
      dilations: [1, 1],
      group,
      kernel_shape: [k, k],
      pads: [pad, pad, pad, pad],
      strides: [stride, stride],
    });
  };
  const batchNorm = (x, c) => {
    const id = `bn${count++}`;
    const scale = b.initializer(
      `${id}.weight`,
      normals(c, 0.1, seed++).map((v) => 1 + v),
      [c],
    );
    const shift = b.initializer(`${id}.bias`, normals(c, 0.05, seed++), [c]);
    const mean = b.initializer(`${id}.running_mean`, normals(c, 0.05, seed++), [c]);
    const variance = b.initializer(`${id}.running_var`, new Float32Array(c).fill(1), [c]);
    return b.node('BatchNormalization', [x, scale, shift, mean, variance], { epsilon: 1e-5, momentum: 0.9 });
  };
  const head = (x, features, classes) => {
    const flat = b.node('Flatten', [b.node('GlobalAveragePool', [x])], { axis: 1 });
    const w = b.initializer('fc.weight', normals(classes * features, Math.sqrt(1 / features), seed++), [
      classes,
      features,
    ]);
    const bias = b.initializer('fc.bias', normals(classes, 0.01, seed++), [classes]);
    b.output(b.node('Gemm', [flat, w, bias], { alpha: 1, beta: 1, transB: 1 }, { outputs: ['output'] }), [
      'N',
      classes,
    ]);
  };
  return { conv, batchNorm, head };
}

/** torchvision `resnet18` layout: 7×7/2 stem, 3×3/2 MaxPool, 8 basic blocks, 512 features. */
export function resnet18(size = 224, classes = 1000) {
  const b = new OnnxGraphBuilder({ opset: 17, name: 'resnet18' });
  const { conv, head } = parts(b);
  const relu = (x) => b.node('Relu', [x]);
  const block = (x, cin, cout, stride) => {
    const h = conv(relu(conv(x, cin, cout, 3, stride)), cout, cout, 3, 1);
    const skip = stride !== 1 || cin !== cout ? conv(x, cin, cout, 1, stride) : x;
    return relu(b.node('Add', [h, skip]));
  };
  let x = b.input('input', ['N', 3, size, size]);
  x = relu(conv(x, 3, 64, 7, 2));
  x = b.node('MaxPool', [x], { ceil_mode: 0, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
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
  head(x, 512, classes);
  return encodeOnnxModel(b.build());
}

/** torchvision `mobilenet_v2` layout: inverted residuals with ReLU6 (Clip 0…6), 1280 features. */
export function mobilenetV2(size = 224, classes = 1000) {
  const b = new OnnxGraphBuilder({ opset: 17, name: 'mobilenet_v2' });
  const { conv, head } = parts(b);
  const lo = b.initializer('clip.min', [0], []);
  const hi = b.initializer('clip.max', [6], []);
  const relu6 = (x) => b.node('Clip', [x, lo, hi]);
  let x = b.input('input', ['N', 3, size, size]);
  x = relu6(conv(x, 3, 32, 3, 2));
  let cin = 32;
  for (const [t, c, n, s] of [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ]) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = cin * t;
      let h = t === 1 ? x : relu6(conv(x, cin, hidden, 1, 1));
      h = relu6(conv(h, hidden, hidden, 3, stride, { group: hidden }));
      h = conv(h, hidden, c, 1, 1);
      x = stride === 1 && cin === c ? b.node('Add', [x, h]) : h;
      cin = c;
    }
  }
  x = relu6(conv(x, cin, 1280, 1, 1));
  head(x, 1280, classes);
  return encodeOnnxModel(b.build());
}

/**
 * torchvision `densenet121` layout: growth 32, blocks of 6, 12, 24 and 16 layers; the BatchNorm at
 * the start of each dense layer and transition reads a Concat and stays unfolded.
 */
export function densenet121(size = 224, classes = 1000) {
  const b = new OnnxGraphBuilder({ opset: 17, name: 'densenet121' });
  const { conv, batchNorm, head } = parts(b);
  const relu = (x) => b.node('Relu', [x]);
  let x = b.input('input', ['N', 3, size, size]);
  x = relu(conv(x, 3, 64, 7, 2));
  x = b.node('MaxPool', [x], { ceil_mode: 0, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  let c = 64;
  const growth = 32;
  [6, 12, 24, 16].forEach((layers, i) => {
    const features = [x];
    for (let l = 0; l < layers; l++) {
      const cat = features.length === 1 ? features[0] : b.node('Concat', features, { axis: 1 });
      const h = relu(conv(relu(batchNorm(cat, c + l * growth)), c + l * growth, 4 * growth, 1, 1));
      features.push(conv(h, 4 * growth, growth, 3, 1, { bias: false }));
    }
    x = b.node('Concat', features, { axis: 1 });
    c += layers * growth;
    if (i < 3) {
      x = conv(relu(batchNorm(x, c)), c, c / 2, 1, 1, { pad: 0, bias: false });
      x = b.node('AveragePool', [x], {
        ceil_mode: 0,
        kernel_shape: [2, 2],
        pads: [0, 0, 0, 0],
        strides: [2, 2],
      });
      c /= 2;
    }
  });
  // torchvision: features end with norm5, then F.relu, adaptive average pooling, the classifier.
  x = relu(batchNorm(x, c));
  head(x, c, classes);
  return encodeOnnxModel(b.build());
}

/** The three benchmark models by name. */
export const torchvisionModels = { resnet18, mobilenet_v2: mobilenetV2, densenet121 };
