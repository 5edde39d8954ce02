import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isZooModel, ZOO_MODEL_NAMES, zooModel, zooModelPath, zooModels } from './models.js';

describe('zoo model catalogue', () => {
  it('lists every model with paths inside the package models folder', () => {
    expect(zooModels.map((m) => m.name)).toEqual([...ZOO_MODEL_NAMES]);
    for (const m of zooModels) {
      expect(m.tfjs).toMatch(new RegExp(`/models/${m.name}/model\\.json$`));
      expect(m.onnx).toMatch(new RegExp(`/models/${m.name}/model\\.onnx$`));
      expect(existsSync(m.tfjs)).toBe(true);
      expect(existsSync(m.onnx)).toBe(true);
    }
  });

  it('reads labels and meta from the model folder', () => {
    const shapes = zooModel('shapes');
    expect(shapes.labels).toEqual(['circle', 'square', 'triangle', 'star', 'cross', 'ring']);
    expect(shapes.meta.inputShape).toEqual([64, 64, 3]);
    expect(shapes.meta.camLayer).toMatch(/^conv\d$/);
    expect(zooModel('mnist').meta.inputShape).toEqual([28, 28, 1]);
  });

  it('resolves paths by format and rejects unknown names and formats', () => {
    expect(zooModelPath('mnist')).toBe(zooModel('mnist').tfjs);
    expect(zooModelPath('mnist', 'onnx')).toBe(zooModel('mnist').onnx);
    expect(isZooModel('shapes')).toBe(true);
    expect(isZooModel('resnet')).toBe(false);
    expect(() => zooModel('resnet')).toThrow(
      "unknown zoo model 'resnet'; known: shapes, shapes-shortcut, mnist, shapes-permuted",
    );
    expect(() => zooModelPath('shapes', 'pt' as never)).toThrow(
      "unknown model format 'pt'; known: tfjs, onnx",
    );
  });
});
