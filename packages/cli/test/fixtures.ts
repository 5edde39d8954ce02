import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initTfjsBackend } from '@xlens/backend-tfjs';
import { buildSmallCnn } from '@xlens/backend-tfjs/testing';
import { serializeNpy, type Tensor, toChannelsFirst } from '@xlens/core';
import { encodePng, imageFromBytes } from '@xlens/viz';

/** The built CLI entry point. */
export const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/** Side of the fixture images and model input. */
export const SIZE = 32;
export const CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring'];

/** Files the tests use. */
export interface Fixtures {
  readonly dir: string;
  /** tfjs model.json of a random small CNN, NHWC 32×32×3, 6 classes. */
  readonly model: string;
  readonly labels: string;
  /** Two PNGs at model size, in a folder of their own. */
  readonly images: readonly [string, string];
  readonly imageDir: string;
  /** The same pixels as the PNGs, as raw RGB bytes per image. */
  readonly pixels: readonly [Uint8Array, Uint8Array];
  /** Both images as x = pixel / 255, NHWC and NCHW. */
  readonly nhwc: string;
  readonly nchw: string;
  /** A complex64 .npy (a dtype core's reader refuses). */
  readonly complexNpy: string;
  readonly wrongShapeNpy: string;
  readonly notAnImage: string;
}

/** Deterministic RGB test pictures: a bright disc or square on a gradient. */
function picture(kind: number): Uint8Array {
  const out = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const o = (y * SIZE + x) * 3;
      const inside =
        kind === 0 ? (x - 15.5) ** 2 + (y - 15.5) ** 2 < 64 : Math.abs(x - 12) < 6 && Math.abs(y - 18) < 6;
      out[o] = inside ? 230 : 20 + 4 * x;
      out[o + 1] = inside ? 200 : 40 + 3 * y;
      out[o + 2] = inside ? 30 : 90;
    }
  return out;
}

const toTensor = (pixels: readonly Uint8Array[]): Tensor => {
  const data = new Float32Array(pixels.length * SIZE * SIZE * 3);
  for (const [i, p] of pixels.entries())
    data.set(
      Float32Array.from(p, (v) => v / 255),
      i * p.length,
    );
  return { data, shape: [pixels.length, SIZE, SIZE, 3] };
};

/** A complex64 .npy (a dtype --input refuses; float64 and integers are read as float32). */
function complexNpy(shape: number[]): Uint8Array {
  let header = `{'descr': '<c8', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(10 + header.length + count * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** Write every fixture into a fresh temporary folder. */
export async function makeFixtures(): Promise<Fixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'xlens-cli-'));
  await mkdir(join(dir, 'model'));
  await mkdir(join(dir, 'images'));
  await initTfjsBackend('wasm');
  const net = buildSmallCnn({ inputSize: SIZE, channels: 3, numClasses: CLASSES.length, seed: 3 });
  await net.save(
    tf.io.withSaveHandler(async (a) => {
      await writeFile(join(dir, 'model', 'weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
      const json = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      await writeFile(join(dir, 'model', 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  net.dispose();
  const pixels = [picture(0), picture(1)] as const;
  const images = [join(dir, 'images', 'a-disc.png'), join(dir, 'images', 'b-square.png')] as const;
  for (const [i, p] of pixels.entries())
    await writeFile(images[i], encodePng(imageFromBytes(p, SIZE, SIZE, 3)));
  const t = toTensor(pixels);
  const f = (name: string) => join(dir, name);
  await writeFile(f('nhwc.npy'), serializeNpy(t));
  await writeFile(f('nchw.npy'), serializeNpy(toChannelsFirst(t)));
  await writeFile(f('c8.npy'), complexNpy([2, SIZE, SIZE, 3]));
  await writeFile(
    f('shape.npy'),
    serializeNpy({ data: new Float32Array(2 * 16 * 16 * 3), shape: [2, 16, 16, 3] }),
  );
  await writeFile(f('not-an-image.png'), 'this is text, not a PNG');
  await writeFile(f('labels.txt'), `${CLASSES.join('\n')}\n`);
  return {
    dir,
    model: join(dir, 'model', 'model.json'),
    labels: f('labels.txt'),
    images,
    imageDir: join(dir, 'images'),
    pixels,
    nhwc: f('nhwc.npy'),
    nchw: f('nchw.npy'),
    complexNpy: f('c8.npy'),
    wrongShapeNpy: f('shape.npy'),
    notAnImage: f('not-an-image.png'),
  };
}

/** Result of one CLI run. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `node dist/bin.js ...args` in `cwd` and collect its output. The ONNX session cache is off
 * unless `env` turns it on (tests stay hermetic).
 */
export function runCli(
  args: readonly string[],
  cwd: string,
  env: Readonly<Record<string, string>> = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, XLENS_DEBUG: '', XLENS_NO_CACHE: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Input pixels as the model sees them with `--mean`/`--std`, NHWC. */
export function preprocessed(f: Fixtures, mean = 0, std = 1): Tensor {
  const t = toTensor(f.pixels);
  return { data: t.data.map((v) => (v - mean) / std), shape: t.shape };
}

export { launchChromium } from '../scripts/chromium.mjs';
