/**
 * @xlens/backend-onnx/testing — ONNX models for tests and benchmarks: `toyOnnx` / `toyOnnxModel`
 * write the ONNX graph of a backend-neutral toy network of `@xlens/core/testing` (the counterpart
 * of `buildToyModel` in `@xlens/backend-tfjs/testing`).
 */

export { toyOnnx, toyOnnxModel } from '../toy-onnx.js';
