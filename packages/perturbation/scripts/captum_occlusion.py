#!/usr/bin/env python3
"""Writes the Captum cross-check fixture of @xlens/perturbation's `occlusion`:

    test/fixtures/captum-occlusion.onnx   a small seeded CNN (conv-relu-pool-conv-relu-gap-linear),
                                          exported by PyTorch (opset 13)
    test/fixtures/captum-occlusion.json   a seeded 2-image batch, targets, and for each case the
                                          window, stride and fill with Captum's `Occlusion` result

`test/captum.test.ts` runs xlens's occlusion on the ONNX export with the same settings and
requires Captum's maps to float32 precision. The tests never run Python; this script is only
needed to regenerate the fixture. Captum is not on PyPI here: check its source out and put it on
the path (nothing of Captum is committed):

    apt-get install python3-torch python3-onnx python3-tqdm   # Debian bookworm: torch 1.13
    git clone https://github.com/pytorch/captum /tmp/captum     # tested with 0.8.0
    PYTHONPATH=/tmp/captum /usr/bin/python3 packages/perturbation/scripts/captum_occlusion.py
"""
import json
import os

import captum
import torch
import torch.nn as nn
from captum.attr import Occlusion

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures")


class SmallCnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 12, 3, padding=1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        return self.fc(x.mean(dim=(2, 3)))


# (window (h, w), stride (h, w), fill): overlapping windows cut at the border, and tiling windows.
CASES = [
    ((5, 4), (4, 3), 0.0),
    ((4, 4), (4, 4), 0.25),
    ((6, 3), (2, 3), -0.5),
]


def main() -> None:
    torch.manual_seed(1234)
    model = SmallCnn().eval()
    with torch.no_grad():
        # Default init gives logits of ~0.1 and window drops of ~0.005; scaled up, the drops are
        # large against float32 rounding and the comparison means something.
        model.fc.weight.mul_(20)
    x = torch.rand(2, 3, 14, 16) * 2 - 1
    targets = [1, 3]
    torch.onnx.export(model, x[:1], os.path.join(OUT, "captum-occlusion.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
    occlusion = Occlusion(model)
    cases = []
    for window, stride, fill in CASES:
        with torch.no_grad():
            attr = occlusion.attribute(x, sliding_window_shapes=(3, *window), strides=(3, *stride),
                                       baselines=fill, target=targets, perturbations_per_eval=4)
        # The window covers every channel, so all channels carry the same map: keep one.
        assert torch.equal(attr, attr[:, :1].expand_as(attr))
        cases.append({"window": list(window), "stride": list(stride), "fill": fill,
                      "attribution": attr[:, 0].flatten().tolist()})
    fixture = {
        "captum": captum.__version__,
        "torch": torch.__version__,
        "shape": list(x.shape),
        "input": x.flatten().tolist(),
        "targets": targets,
        "logits": model(x).detach().flatten().tolist(),
        "cases": cases,
    }
    with open(os.path.join(OUT, "captum-occlusion.json"), "w") as f:
        json.dump(fixture, f)


if __name__ == "__main__":
    main()
