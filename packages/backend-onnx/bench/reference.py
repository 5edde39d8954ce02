#!/usr/bin/env python3
"""Reference column for bench/methods.mjs: the same methods in PyTorch (Captum, pytorch-grad-cam).

Optional and never run in CI. Needs torch and torchvision (Debian: python3-torch,
python3-torchvision); Captum and pytorch-grad-cam are used when importable, otherwise their rows
are skipped. Builds torchvision's ResNet-18, MobileNetV2 and DenseNet-121 with random weights (the
architectures bench/torchvision.mjs writes as ONNX), eval mode, batch 1, 224x224, 2 threads, and
times each method as a multiple of one torch forward pass (median of timed runs after a warm-up).

    python3 bench/reference.py                         # reference ratios only
    node bench/methods.mjs --json --no-cold > xlens.json
    python3 bench/reference.py xlens.json              # adds xlens time / reference time per method
"""

import json
import statistics
import sys
import time


def main() -> int:
    try:
        import torch
        import torchvision
    except ImportError as error:
        print(f"skipped: {error} (install torch and torchvision to fill the reference column)")
        return 0
    try:
        import captum.attr as ca
    except ImportError:
        ca = None
    try:
        import pytorch_grad_cam as pgc
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        pgc = None

    torch.set_num_threads(2)
    torch.manual_seed(0)
    target = 3
    x = torch.rand(1, 3, 224, 224) * 4 - 2
    builders = {
        "resnet18": (torchvision.models.resnet18, lambda m: [m.layer4[-1]]),
        "mobilenet_v2": (torchvision.models.mobilenet_v2, lambda m: [m.features[-1]]),
        "densenet121": (torchvision.models.densenet121, lambda m: [m.features[-1]]),
    }

    def timed(fn, warmup=1, repeats=5):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    results = {}
    for name, (build, cam_layers) in builders.items():
        model = build(weights=None).eval()

        def forward():
            with torch.no_grad():
                model(x)

        fwd = timed(forward, warmup=2, repeats=9)
        rows = {}

        def add(method_id, fn, repeats=5):
            try:
                rows[method_id] = timed(fn, repeats=repeats) / fwd
            except Exception as error:  # a method the library cannot run on this architecture
                print(f"{name} {method_id}: skipped ({type(error).__name__}: {error})", file=sys.stderr)

        xi = x.clone().requires_grad_(True)
        if ca is not None:
            add("saliency", lambda: ca.Saliency(model).attribute(xi, target=target))
            add("gradient-x-input", lambda: ca.InputXGradient(model).attribute(xi, target=target))
            add(
                "integrated-gradients",
                lambda: ca.IntegratedGradients(model).attribute(xi, target=target, n_steps=50, internal_batch_size=16),
                repeats=1,
            )
            add(
                "smoothgrad",
                lambda: ca.NoiseTunnel(ca.Saliency(model)).attribute(
                    xi, target=target, nt_type="smoothgrad", nt_samples=25, nt_samples_batch_size=16, stdevs=0.15
                ),
                repeats=1,
            )
            add("guided-backprop", lambda: ca.GuidedBackprop(model).attribute(xi, target=target))
            add("lrp", lambda: ca.LRP(model).attribute(xi, target=target))
        if pgc is not None:
            targets = [ClassifierOutputTarget(target)]
            for method_id, cls in (("grad-cam", pgc.GradCAM), ("grad-cam-plus-plus", pgc.GradCAMPlusPlus)):
                cam = cls(model=model, target_layers=cam_layers(model))
                add(method_id, lambda cam=cam: cam(input_tensor=x, targets=targets))
        results[name] = {"forward_ms": fwd, "ratios": rows}
        print(f"{name}: forward {fwd:.1f} ms", file=sys.stderr)

    xlens = None
    if len(sys.argv) > 1:
        with open(sys.argv[1]) as f:
            xlens = {r["name"]: r for r in json.load(f)}
    ids = [
        "saliency",
        "gradient-x-input",
        "integrated-gradients",
        "smoothgrad",
        "guided-backprop",
        "grad-cam",
        "grad-cam-plus-plus",
        "lrp",
    ]
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, 2 threads, batch 1, 224x224\n")
    header = "| method | " + " | ".join(
        f"{n} torch (fwd {r['forward_ms']:.0f} ms)" + (f" | {n} xlens / torch" if xlens else "") for n, r in results.items()
    )
    print(header + " |")
    print("|---|" + "---:|" * (len(results) * (2 if xlens else 1)))
    for method_id in ids:
        cells = []
        for n, r in results.items():
            ratio = r["ratios"].get(method_id)
            cells.append(f"{ratio:.2f}x" if ratio is not None else "-")
            if xlens:
                row = next((x for x in xlens.get(n, {}).get("rows", []) if x["id"] == method_id), None)
                ref_ms = ratio * r["forward_ms"] if ratio is not None else None
                cells.append(f"{row['ms'] / ref_ms:.2f}" if row and ref_ms else "-")
        print(f"| {method_id} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
