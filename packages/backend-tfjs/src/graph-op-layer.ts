import * as tf from '@tensorflow/tfjs';

/**
 * A Keras layer running one GraphDef op that has no Keras layer of its own: a binary op with a
 * constant operand, a broadcasting sum or product, a mean that keeps its axes, or, for ops the
 * translation does not interpret, the node itself run by the GraphModel's executor. It holds no
 * trainable weights (its constants are not parameters for `derive`), owns clones of its constants
 * and releases them with the model. Never serialised: translated models are rebuilt, not cloned.
 * @internal
 */
export class GraphOpLayer extends tf.layers.Layer {
  static className = 'XlensGraphOp';
  private readonly owned: tf.Tensor[];

  /**
   * @param name Keras layer name.
   * @param itemShape Output shape of one item (the probe's).
   * @param fn Computes the output from the layer's inputs and its constants.
   * @param constants Tensors `fn` reads; the layer keeps clones of them.
   */
  constructor(
    name: string,
    private readonly itemShape: readonly number[],
    private readonly fn: (inputs: tf.Tensor[], constants: readonly tf.Tensor[]) => tf.Tensor,
    constants: readonly tf.Tensor[] = [],
  ) {
    super({ name, trainable: false });
    this.owned = constants.map((c) => tf.keep(c.clone()));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const first = Array.isArray(inputShape[0]) ? (inputShape as tf.Shape[])[0] : (inputShape as tf.Shape);
    return [first[0] ?? null, ...this.itemShape];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return this.fn(Array.isArray(inputs) ? inputs : [inputs], this.owned);
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) for (const t of this.owned) if (!t.isDisposed) t.dispose();
    return result;
  }
}
