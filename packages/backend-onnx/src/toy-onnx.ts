import type { ToySpec } from '@xlens/core/testing';
import { OnnxGraphBuilder } from './builder.js';
import { fusedLayersKey } from './layer-list.js';
import { encodeOnnxModel } from './proto/codec.js';
import type { OnnxModel } from './proto/types.js';

/**
 * The ONNX graph (NCHW, dynamic batch `N`, default opset 13) of a backend-neutral toy network
 * from `@xlens/core/testing`. Each spec layer's output tensor carries the layer's name, so
 * captures, layer gradients and rules address it by that name; a fused `activation: 'relu'` is a
 * separate `Relu` node whose output takes the layer name, its `Conv`/`Gemm` writing
 * `<name>/linear`; the pair is recorded under the `fusedLayersKey` metadata entry, so
 * `layers()` lists it as one conv/dense layer with a ReLU activation, as the spec (and Keras) do.
 * `global-avg-pool` is a `ReduceMean` over the spatial axes (`[N, C]`).
 */
export function toyOnnxModel(spec: ToySpec, options: { opset?: number } = {}): OnnxModel {
  const b = new OnnxGraphBuilder({
    opset: options.opset ?? 13,
    name: spec.name,
    producerName: 'xlens toyOnnx',
  });
  let x = b.input('input', ['N', ...spec.inputShape]);
  const fused: Record<string, string> = {};
  const withActivation = (
    name: string,
    op: string,
    inputs: string[],
    attrs: Record<string, number | number[]>,
    relu: boolean,
  ) => {
    if (!relu) return b.node(op, inputs, attrs, { name, outputs: [name] });
    const linear = b.node(op, inputs, attrs, { name, outputs: [`${name}/linear`] });
    fused[linear] = name;
    return b.node('Relu', [linear], {}, { name: `${name}/relu`, outputs: [name] });
  };
  for (const layer of spec.layers) {
    switch (layer.type) {
      case 'conv': {
        const k = layer.kernel;
        const s = layer.stride ?? 1;
        const p = layer.padding === 'same' ? (k - 1) / 2 : 0;
        const inputs = [
          x,
          b.initializer(`${layer.name}.weight`, layer.weight, [layer.outChannels, layer.inChannels, k, k]),
        ];
        if (layer.bias) inputs.push(b.initializer(`${layer.name}.bias`, layer.bias, [layer.outChannels]));
        const attrs = { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p] };
        x = withActivation(layer.name, 'Conv', inputs, attrs, layer.activation === 'relu');
        break;
      }
      case 'dense': {
        const inputs = [
          x,
          b.initializer(`${layer.name}.weight`, layer.weight, [layer.outFeatures, layer.inFeatures]),
        ];
        if (layer.bias) inputs.push(b.initializer(`${layer.name}.bias`, layer.bias, [layer.outFeatures]));
        x = withActivation(layer.name, 'Gemm', inputs, { transB: 1 }, layer.activation === 'relu');
        break;
      }
      case 'relu':
        x = b.node('Relu', [x], {}, { name: layer.name, outputs: [layer.name] });
        break;
      case 'max-pool':
      case 'avg-pool': {
        const op = layer.type === 'max-pool' ? 'MaxPool' : 'AveragePool';
        const attrs = { kernel_shape: [layer.size, layer.size], strides: [layer.size, layer.size] };
        x = b.node(op, [x], attrs, { name: layer.name, outputs: [layer.name] });
        break;
      }
      case 'global-avg-pool':
        x =
          b.opset >= 18
            ? b.node(
                'ReduceMean',
                [x, b.int64('axes', [2, 3])],
                { keepdims: 0 },
                { name: layer.name, outputs: [layer.name] },
              )
            : b.node(
                'ReduceMean',
                [x],
                { axes: [2, 3], keepdims: 0 },
                { name: layer.name, outputs: [layer.name] },
              );
        break;
      case 'flatten':
        x = b.node('Flatten', [x], { axis: 1 }, { name: layer.name, outputs: [layer.name] });
        break;
      case 'batchnorm': {
        const c = layer.gamma.length;
        const inputs = [
          x,
          b.initializer(`${layer.name}.gamma`, layer.gamma, [c]),
          b.initializer(`${layer.name}.beta`, layer.beta, [c]),
          b.initializer(`${layer.name}.mean`, layer.mean, [c]),
          b.initializer(`${layer.name}.variance`, layer.variance, [c]),
        ];
        x = b.node(
          'BatchNormalization',
          inputs,
          { epsilon: layer.epsilon },
          { name: layer.name, outputs: [layer.name] },
        );
        break;
      }
      case 'add':
        // Every layer's output tensor carries its name, so the second addend is `from` itself.
        x = b.node('Add', [x, layer.from], {}, { name: layer.name, outputs: [layer.name] });
        break;
    }
  }
  b.output(x, ['N', spec.numClasses]);
  if (Object.keys(fused).length > 0) b.setMetadata(fusedLayersKey, JSON.stringify(fused));
  return b.build();
}

/** `toyOnnxModel` encoded as `.onnx` bytes, ready for `fromOnnx`. */
export function toyOnnx(spec: ToySpec, options: { opset?: number } = {}): Uint8Array {
  return encodeOnnxModel(toyOnnxModel(spec, options));
}
