#!/usr/bin/env python3
"""Side-by-side speed of occlusion with a 32×32 window and stride 16 on a 224² ResNet-18 (169
windows, one image): Captum's `Occlusion` on PyTorch with `perturbations_per_eval=16`, and xlens's
`occlusion` on ONNX Runtime (`@xlens/backend-onnx`, batchSize 16) on the same network exported to
ONNX, timed in one run with the same thread count. Optional: never run by CI. Needs torch,
torchvision and Captum (see captum_occlusion.py) and a built @xlens/perturbation:

    npx -y pnpm@10.34.8 --filter @xlens/perturbation run build
    PYTHONPATH=/tmp/captum /usr/bin/python3 packages/perturbation/scripts/captum_speed.py [--repeats 3] [--threads N]

Both sides get a warm-up (one forward of a 16-image batch); then `repeats` timed runs of each,
alternating between the two, and the medians are reported, plus the largest difference between the
two maps (float32 rounding only).
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import captum
import numpy as np
import torch
import torchvision
from captum.attr import Occlusion

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        target = int(model(x).argmax())
        model(torch.rand(16, 3, 224, 224))  # warm-up, as the xlens side does
    tmp = tempfile.mkdtemp(prefix="xlens-captum-speed-")
    onnx_path = os.path.join(tmp, "resnet18.onnx")
    torch.onnx.export(model, x, onnx_path, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
    np.save(os.path.join(tmp, "input.npy"), x.numpy())

    occlusion = Occlusion(model)
    out_path = os.path.join(tmp, "xlens.npy")
    captum_ms, xlens_ms, forward_ms = [], [], []
    # Runs alternate (Captum, xlens, Captum, ...) so that a change of load on a shared machine hits
    # both sides alike; the node process loads the model and warms up before its timed run.
    for _ in range(args.repeats):
        start = time.perf_counter()
        with torch.no_grad():
            attr = occlusion.attribute(x, sliding_window_shapes=(3, 32, 32), strides=(3, 16, 16), target=target,
                                       baselines=0, perturbations_per_eval=16)
        captum_ms.append((time.perf_counter() - start) * 1000)
        run = subprocess.run(["node", os.path.join(HERE, "occlusion_speed.mjs"), onnx_path,
                              os.path.join(tmp, "input.npy"), str(target), str(args.threads), "1", out_path],
                             check=True, capture_output=True, text=True, cwd=HERE)
        xlens = json.loads(run.stdout.strip().splitlines()[-1])
        xlens_ms += xlens["milliseconds"]
        forward_ms.append(xlens["forwardMilliseconds"])
    xlens_map = np.load(out_path)[0]
    diff = float(np.abs(attr[0, 0].numpy() - xlens_map).max())
    scale = float(np.abs(attr[0, 0].numpy()).max())

    c, x_ms = statistics.median(captum_ms), statistics.median(xlens_ms)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, captum {captum.__version__}, "
          f"{args.threads} thread(s), {args.repeats} runs each, median\n")
    print("| occlusion 32/16, ResNet-18 224², 169 windows | time | ÷ Captum |")
    print("|---|---:|---:|")
    print(f"| Captum `Occlusion`, PyTorch, perturbations_per_eval=16 | {c / 1000:.2f} s | 1.00× |")
    print(f"| xlens `occlusion`, ONNX Runtime, batchSize 16 | {x_ms / 1000:.2f} s | {x_ms / c:.2f}× |")
    # Each xlens run against the Captum run just before it: robust to load that drifts over the run.
    paired = statistics.median(xv / cv for xv, cv in zip(xlens_ms, captum_ms))
    print(f"\nmedian of the paired ratios (each xlens run ÷ the Captum run before it): {paired:.2f}×")
    print(f"\nruns (ms, alternating): Captum {[round(v) for v in captum_ms]}, xlens {[round(v) for v in xlens_ms]}; "
          f"ONNX Runtime forward of the image: {statistics.median(forward_ms):.0f} ms")
    print(f"largest map difference {diff:.2e} (largest |value| {scale:.2e})")


if __name__ == "__main__":
    main()
