// Write models/<name>/model.onnx from models/<name>/model.json + weights.bin, with the same weights.
//
//   node scripts/export-onnx.mjs [shapes|shapes-shortcut|mnist ...]
//
// Reads the tfjs LayersModel files directly (no tfjs needed) and builds the ONNX graph with
// @xlens/backend-onnx's OnnxGraphBuilder. The graph input stays NHWC like the tfjs model (a
// Transpose to NCHW comes first), conv kernels go from HWIO to OIHW, dense kernels from [in, out]
// to Gemm's [out, in] with transB. Every layer's output tensor carries the Keras layer name (conv1,
// pool1, …, gap, logits), so captures and CAM layers are addressed alike on both backends; a fused
// ReLU is a Relu node named after the layer, recorded as fused in the model metadata, as
// backend-onnx's toy models do.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeOnnxModel, OnnxGraphBuilder } from '@xlens/backend-onnx';

const here = dirname(fileURLToPath(import.meta.url));
const modelsDir = join(here, '..', 'models');
// backend-onnx's metadata key for "this Conv/Gemm output and the Relu after it are one layer".
const FUSED_LAYERS_KEY = 'xlens.fused_layers';

/** Weights of a tfjs model directory by name (`conv1/kernel` → { shape, values }). */
function readWeights(dir, manifest) {
  const out = new Map();
  for (const group of manifest) {
    const bin = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.dtype !== 'float32' || spec.quantization)
        throw new Error(`weight ${spec.name}: only unquantised float32 is supported`);
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = bin.readFloatLE(offset + 4 * i);
      offset += 4 * n;
      out.set(spec.name, { shape: spec.shape, values });
    }
  }
  return out;
}

/** Permute a row-major tensor's axes (`perm[i]` is the source axis of output axis i). */
function transpose(values, shape, perm) {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(values.length);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let a = 0; a < perm.length; a++) src += idx[a] * strides[perm[a]];
    out[o] = values[src];
    for (let a = outShape.length - 1; a >= 0; a--) {
      if (++idx[a] < outShape[a]) break;
      idx[a] = 0;
    }
  }
  return { values: out, shape: outShape };
}

/** TF 'same'/'valid' padding as ONNX pads `[top, left, bottom, right]` for one spatial size. */
function tfPads(padding, [h, w], [kh, kw], [sh, sw]) {
  if (padding === 'valid') return [0, 0, 0, 0];
  const total = (size, k, s) => Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
  const th = total(h, kh, sh);
  const tw = total(w, kw, sw);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

function outSize(padding, size, k, s) {
  return padding === 'same' ? Math.ceil(size / s) : Math.floor((size - k) / s) + 1;
}

/** Convert one tfjs LayersModel directory to an ONNX model (a plain object for `encodeOnnxModel`). */
export function tfjsDirToOnnx(dir, name) {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const weights = readWeights(dir, json.weightsManifest);
  const topology = json.modelTopology.model_config ?? json.modelTopology;
  const layers = topology.config.layers;
  const b = new OnnxGraphBuilder({ opset: 13, name, producerName: 'xlens zoo export-onnx' });
  const fused = {};
  let x;
  let shape; // [C, H, W] or [K] of the current tensor
  let inputName;
  const linearThenRelu = (layerName, op, inputs, attrs, activation) => {
    if (activation === 'linear') return b.node(op, inputs, attrs, { name: layerName, outputs: [layerName] });
    if (activation !== 'relu')
      throw new Error(`layer ${layerName}: activation '${activation}' is not supported`);
    const linear = b.node(op, inputs, attrs, { name: layerName, outputs: [`${layerName}/linear`] });
    fused[linear] = layerName;
    return b.node('Relu', [linear], {}, { name: `${layerName}/relu`, outputs: [layerName] });
  };
  for (const layer of layers) {
    const c = layer.config;
    if (c.data_format && c.data_format !== 'channels_last')
      throw new Error(`layer ${c.name}: only channels_last is supported`);
    // The chain must be linear: each layer's single input is the previous layer.
    switch (layer.class_name) {
      case 'InputLayer': {
        const [, h, w, ch] = c.batch_input_shape;
        inputName = b.input(c.name, ['N', h, w, ch]);
        x = b.node(
          'Transpose',
          [inputName],
          { perm: [0, 3, 1, 2] },
          { name: `${c.name}/nchw`, outputs: [`${c.name}/nchw`] },
        );
        shape = [ch, h, w];
        break;
      }
      case 'Conv2D': {
        const kernel = weights.get(`${c.name}/kernel`);
        const [kh, kw, cin, cout] = kernel.shape;
        const strides = c.strides;
        const dil = c.dilation_rate ?? [1, 1];
        if (dil[0] !== 1 || dil[1] !== 1 || (c.groups ?? 1) !== 1)
          throw new Error(`layer ${c.name}: dilation/groups not supported`);
        const w = transpose(kernel.values, kernel.shape, [3, 2, 0, 1]);
        const inputs = [x, b.initializer(`${c.name}.weight`, w.values, [cout, cin, kh, kw])];
        if (c.use_bias)
          inputs.push(b.initializer(`${c.name}.bias`, weights.get(`${c.name}/bias`).values, [cout]));
        const pads = tfPads(c.padding, [shape[1], shape[2]], [kh, kw], strides);
        x = linearThenRelu(c.name, 'Conv', inputs, { kernel_shape: [kh, kw], strides, pads }, c.activation);
        shape = [
          cout,
          outSize(c.padding, shape[1], kh, strides[0]),
          outSize(c.padding, shape[2], kw, strides[1]),
        ];
        break;
      }
      case 'MaxPooling2D': {
        const k = c.pool_size;
        const s = c.strides ?? k;
        const pads = tfPads(c.padding, [shape[1], shape[2]], k, s);
        x = b.node(
          'MaxPool',
          [x],
          { kernel_shape: k, strides: s, pads },
          { name: c.name, outputs: [c.name] },
        );
        shape = [
          shape[0],
          outSize(c.padding, shape[1], k[0], s[0]),
          outSize(c.padding, shape[2], k[1], s[1]),
        ];
        break;
      }
      case 'GlobalAveragePooling2D': {
        const pooled = b.node(
          'GlobalAveragePool',
          [x],
          {},
          { name: `${c.name}/pool`, outputs: [`${c.name}/pool`] },
        );
        x = b.node('Flatten', [pooled], { axis: 1 }, { name: c.name, outputs: [c.name] });
        shape = [shape[0]];
        break;
      }
      case 'Dense': {
        const kernel = weights.get(`${c.name}/kernel`);
        const [fin, fout] = kernel.shape;
        const w = transpose(kernel.values, kernel.shape, [1, 0]);
        const inputs = [x, b.initializer(`${c.name}.weight`, w.values, [fout, fin])];
        if (c.use_bias)
          inputs.push(b.initializer(`${c.name}.bias`, weights.get(`${c.name}/bias`).values, [fout]));
        x = linearThenRelu(c.name, 'Gemm', inputs, { transB: 1 }, c.activation);
        shape = [fout];
        break;
      }
      default:
        throw new Error(`layer ${c.name}: ${layer.class_name} is not supported by this exporter`);
    }
  }
  b.output(x, ['N', shape[0]]);
  if (Object.keys(fused).length > 0) b.setMetadata(FUSED_LAYERS_KEY, JSON.stringify(fused));
  b.setMetadata('xlens.layout', 'NHWC');
  b.setMetadata(
    'xlens.source',
    'tfjs LayersModel (model.json) converted by @xlens/zoo scripts/export-onnx.mjs',
  );
  return b.build();
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const names = process.argv.slice(2);
  for (const name of names.length ? names : ['shapes', 'shapes-shortcut', 'mnist']) {
    const dir = join(modelsDir, name);
    const bytes = encodeOnnxModel(tfjsDirToOnnx(dir, name));
    writeFileSync(join(dir, 'model.onnx'), bytes);
    console.log(`[${name}] wrote ${join(dir, 'model.onnx')} (${bytes.length} bytes)`);
  }
}
