import { describe, expect, it } from 'vitest';
import { fromFunction } from './function-model.js';
import { findLayer, findSpatialLayer, isSpatial, lastSpatialLayer, torchScope } from './layers.js';
import { referenceModel } from './testing/reference-model.js';
import { biasFreeCnn, tinyCnn, tinyDense } from './testing/toy-nets.js';

describe('layer lookup', () => {
  const m = referenceModel(tinyCnn());
  it('findLayer finds by name and suggests close names', () => {
    expect(findLayer(m, 'conv2').kind).toBe('conv');
    expect(() => findLayer(m, 'conv')).toThrow(
      expect.objectContaining({
        code: 'unknown-layer',
        message: expect.stringContaining('did you mean conv1, conv2, '),
      }),
    );
    expect(() => findLayer(m, 'zzz')).toThrow(
      /did you mean [\w, ]+\? CAM candidates \(last spatial layers\): .*relu2$/,
    );
  });
  it('suggests at most five names and the CAM candidates, never the whole list', () => {
    const many = {
      ...m,
      layers: () => Array.from({ length: 60 }, (_, i) => ({ ...m.layers!()[1], name: `block${i}` })),
    };
    const message = (() => {
      try {
        findLayer(many, 'blok7');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/did you mean block7, /);
    expect(message.split('did you mean ')[1].split('?')[0].split(', ')).toHaveLength(5);
    expect(message).toContain('CAM candidates (last spatial layers): block57, block58, block59');
  });
  it('takes PyTorch module paths for torch.onnx.export tensor names', () => {
    const names = [
      'input',
      '/conv1/Conv_output_0',
      '/layer4/layer4.0/conv1/Conv_output_0',
      '/layer4/layer4.1/conv2/Conv_output_0',
      '/layer4/layer4.1/relu_1/Relu_output_0',
      '/features/features.7/Relu_output_0',
      '/avgpool/GlobalAveragePool_output_0',
    ];
    const torchy = { ...m, layers: () => names.map((name) => ({ ...m.layers!()[1], name })) };
    expect(torchScope('layer4.1.conv2')).toBe('/layer4/layer4.1/conv2/');
    expect(torchScope('layer4.0.downsample.0')).toBe('/layer4/layer4.0/downsample/downsample.0/');
    expect(findLayer(torchy, 'layer4.1.conv2').name).toBe('/layer4/layer4.1/conv2/Conv_output_0');
    expect(findLayer(torchy, 'layer4').name).toBe('/layer4/layer4.1/relu_1/Relu_output_0');
    expect(findLayer(torchy, 'features.7').name).toBe('/features/features.7/Relu_output_0');
    // A full tensor name still wins, and a path of no scope is an unknown layer.
    expect(findLayer(torchy, '/layer4/layer4.0/conv1/Conv_output_0').name).toBe(names[2]);
    expect(() => findLayer(torchy, 'layer5')).toThrow(/no layer "layer5"/);
  });
  it('findSpatialLayer rejects vectors', () => {
    expect(findSpatialLayer(m, 'pool1').outputShape).toEqual([4, 4, 4]);
    expect(() => findSpatialLayer(m, 'gap')).toThrow(
      expect.objectContaining({ code: 'not-spatial-layer', message: expect.stringContaining('[6]') }),
    );
  });
  it('lastSpatialLayer skips vectors, 1×1 maps and the input', () => {
    expect(lastSpatialLayer(m).name).toBe('relu2');
    // bias-free-cnn's conv2 is 6×2×2; flatten and fc come after.
    expect(lastSpatialLayer(referenceModel(biasFreeCnn())).name).toBe('conv2');
    expect(() => lastSpatialLayer(referenceModel(tinyDense()))).toThrow(
      expect.objectContaining({ code: 'not-spatial-layer' }),
    );
    expect(isSpatial({ name: 'x', kind: 'conv', op: 'Conv', outputShape: [4, 1, 1], inputs: [] })).toBe(
      false,
    );
  });
  it('needs the layers capability', () => {
    const f = fromFunction(() => new Float32Array(2), { inputShape: [1], layout: 'NCHW', numClasses: 2 });
    expect(() => findLayer(f, 'a')).toThrow(expect.objectContaining({ code: 'missing-capability' }));
  });
});
