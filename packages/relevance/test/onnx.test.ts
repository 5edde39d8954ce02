// Integration: every relevance method on the ONNX Runtime backend (rules compiled into the ONNX
// backward graph) gives the same map as on core's float64 reference model of the same toy nets.
import { fromOnnx } from '@xlens/backend-onnx';
import { toyOnnx } from '@xlens/backend-onnx/testing';
import { avgPoolCnn, biasFreeCnn, cnnWithBatchNorm, tinyCnn } from '@xlens/core/testing';
import { describeSameMaps } from './same-maps.js';

describeSameMaps(
  {
    name: 'onnxruntime',
    layout: 'NCHW',
    open: (spec) => fromOnnx(toyOnnx(spec), { name: spec.name, intraOpThreads: 1, inputRange: [-1, 1] }),
  },
  [tinyCnn(), cnnWithBatchNorm(), biasFreeCnn(), avgPoolCnn()],
);
