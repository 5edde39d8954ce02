import { join } from 'node:path';
import { findLayer, type Model } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromOnnx } from '../src/index.js';

// A plain torch.onnx.export of a narrowed torchvision ResNet-18 (see fixtures/generate.py): its
// tensors are named by export scope, e.g. /layer4/layer4.1/relu_1/Relu_output_0.
let model: Model;
beforeAll(async () => {
  model = await fromOnnx(join(import.meta.dirname, 'fixtures', 'resnet18_default_init_opset17.onnx'));
});
afterAll(async () => {
  await model.dispose();
});

describe('PyTorch module paths name the last tensor of their export scope', () => {
  it('layer4, layer4.1.conv2 and layer4.0.downsample.0 resolve to real tensors', () => {
    expect(findLayer(model, 'layer4').name).toBe('/layer4/layer4.1/relu_1/Relu_output_0');
    expect(findLayer(model, 'layer4.1.conv2').name).toBe('/layer4/layer4.1/conv2/Conv_output_0');
    expect(findLayer(model, 'layer4.0.downsample.0').name).toBe(
      '/layer4/layer4.0/downsample/downsample.0/Conv_output_0',
    );
  });

  it('a path captures the same activation as its full tensor name', async () => {
    const x = {
      data: Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => Math.sin(i)),
      shape: [1, 3, 32, 32],
    };
    const byPath = await model.capture!(x, ['layer4']);
    const byName = await model.capture!(x, ['/layer4/layer4.1/relu_1/Relu_output_0']);
    expect(Array.from(byPath.activations.layer4.data)).toEqual(
      Array.from(byName.activations['/layer4/layer4.1/relu_1/Relu_output_0'].data),
    );
  });

  it('an unknown path lists a few near names and the CAM candidates', () => {
    let message = '';
    try {
      findLayer(model, 'layer9');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /has no layer "layer9"; did you mean .*\? CAM candidates \(last spatial layers\): /,
    );
    expect(message.length).toBeLessThan(600);
  });
});
