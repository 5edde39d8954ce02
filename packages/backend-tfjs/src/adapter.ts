import type * as tf from '@tensorflow/tfjs';
import {
  type BackwardRequest,
  type BackwardResult,
  type Capability,
  type CaptureResult,
  type ChannelScaling,
  concatBackwardResults,
  concatBatch,
  concatCaptureResults,
  type LayerInfo,
  type ModelInfo,
  type Tensor,
  XlensError,
} from '@xlens/core';
import { assertGradients, checkInput, toHost } from './convert.js';
import type { TfjsModel } from './options.js';
import { type CallKind, inSubBatches, rows, type SubBatchPlan, sliceRequest } from './sub-batch.js';

/** Copy a tfjs tensor to the host and dispose it, even when the copy fails. @internal */
export async function hostAndDispose(t: tf.Tensor): Promise<Tensor> {
  try {
    return await toHost(t);
  } finally {
    t.dispose();
  }
}

/**
 * What the LayersModel and GraphModel adapters share: the disposed check, validation before
 * compute, and splitting every call into sub-batches (`maxBatchBytes`) whose results are merged.
 * A subclass supplies the single-batch passes and its own checks. @internal
 */
export abstract class SubBatchingAdapter implements TfjsModel {
  abstract readonly info: ModelInfo;
  abstract readonly capabilities: ReadonlySet<Capability>;
  abstract readonly warnings: readonly string[];
  private disposed = false;

  abstract layers(): readonly LayerInfo[];
  /** How a call of `kind` over `input` splits into sub-batches (see `maxBatchBytes`). */
  protected abstract plan(kind: CallKind, input: Tensor): SubBatchPlan;
  /** Throw an unknown-layer error for a name that is not a layer of the model. */
  protected abstract checkLayers(names: readonly string[]): void;
  /** Validate a forwardScaled call before any compute. */
  protected abstract checkScaling(input: Tensor, scaling: ChannelScaling): unknown;
  /** Validate a backward request before any compute. */
  protected abstract checkBackward(req: BackwardRequest): unknown;
  protected abstract forwardOnce(input: Tensor): Promise<Tensor>;
  protected abstract forwardScaledOnce(input: Tensor, scaling: ChannelScaling): Promise<Tensor>;
  protected abstract captureOnce(input: Tensor, layers: readonly string[]): Promise<CaptureResult>;
  protected abstract backwardOnce(req: BackwardRequest): Promise<BackwardResult>;
  /** Release the tfjs model if this adapter owns it. */
  protected abstract release(): void;

  protected live(): void {
    if (this.disposed) throw new XlensError('disposed', `${this.info.name} was disposed`);
  }

  async forward(input: Tensor): Promise<Tensor> {
    this.live();
    checkInput(this.info.name, input, this.info.inputShape, this.info.layout);
    return inSubBatches(
      this.plan('forward', input),
      (s, e) => this.forwardOnce(rows(input, s, e)),
      concatBatch,
    );
  }

  async forwardScaled(input: Tensor, scaling: ChannelScaling): Promise<Tensor> {
    this.live();
    this.checkScaling(input, scaling);
    return inSubBatches(
      this.plan('forward', input),
      (s, e) =>
        this.forwardScaledOnce(rows(input, s, e), { layer: scaling.layer, scale: rows(scaling.scale, s, e) }),
      concatBatch,
    );
  }

  async capture(input: Tensor, layers: readonly string[]): Promise<CaptureResult> {
    this.live();
    checkInput(this.info.name, input, this.info.inputShape, this.info.layout);
    this.checkLayers(layers);
    return inSubBatches(
      this.plan('forward', input),
      (s, e) => this.captureOnce(rows(input, s, e), layers),
      (parts) => concatCaptureResults(parts, layers),
    );
  }

  async backward(req: BackwardRequest): Promise<BackwardResult> {
    this.live();
    assertGradients();
    this.checkBackward(req);
    return inSubBatches(
      this.plan('backward', req.input),
      (s, e) => this.backwardOnce(sliceRequest(req, s, e)),
      (parts) => concatBackwardResults(parts, req),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
  }
}
