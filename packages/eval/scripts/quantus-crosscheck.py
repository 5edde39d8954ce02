"""Cross-check numbers for @xlens/eval, computed by Quantus on fixed arrays.

Writes test/fixtures/quantus.json: the arrays (inputs, maps, masks, the weights of a linear
model) and what Quantus computes on them for the metrics xlens shares with it under the same
definition. test/quantus.test.ts recomputes them with xlens; no Python runs in the tests.

Run (Quantus is not vendored; point QUANTUS_SRC at a checkout of
github.com/understandable-machine-intelligence-lab/Quantus):

    QUANTUS_SRC=/path/to/Quantus python3 packages/eval/scripts/quantus-crosscheck.py

Needs numpy, torch (1.13 works), scipy, scikit-learn, scikit-image, pandas, matplotlib, tqdm and
cachetools. opencv (cv2) is only imported by Quantus's translation/rotation perturbations, which
this script never calls, so a stand-in module is used when cv2 is missing.
"""

import json
import os
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, os.environ["QUANTUS_SRC"])
try:
    import cv2  # noqa: F401
except ImportError:
    sys.modules["cv2"] = types.ModuleType("cv2")
warnings.filterwarnings("ignore")
import quantus  # noqa: E402

N, C, H, W, K = 3, 1, 6, 6, 3
rng = np.random.default_rng(20240501)
x = rng.uniform(0, 1, size=(N, C, H, W)).astype(np.float32)
a = rng.normal(0, 1, size=(N, 1, H, W)).astype(np.float32)
s = (rng.uniform(0, 1, size=(N, 1, H, W)) > 0.6).astype(np.float32)
weights = rng.normal(0, 1, size=(K, C * H * W)).astype(np.float32)
y = np.array([0, 2, 1])

model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(C * H * W, K, bias=False))
with torch.no_grad():
    model[1].weight.copy_(torch.from_numpy(weights))
model.eval()


def run(metric, **kwargs):
    common = dict(model=model, x_batch=x.copy(), y_batch=y, a_batch=a.copy(), s_batch=s.copy(), channel_first=True, device="cpu")
    common.update(kwargs)
    return np.asarray(metric(**common), dtype=np.float64).tolist()


results = {
    "sparseness": run(quantus.Sparseness(disable_warnings=True)),
    "complexity": run(quantus.Complexity(disable_warnings=True)),
    "pointingGame": run(quantus.PointingGame(disable_warnings=True)),
    "relevanceMass": run(quantus.RelevanceMassAccuracy(disable_warnings=True)),
    "relevanceRank": run(quantus.RelevanceRankAccuracy(disable_warnings=True)),
    # One pixel per step into a zero baseline, logits: the curve after each flip.
    "pixelFlipping": run(
        quantus.PixelFlipping(features_in_step=1, perturb_baseline=0.0, disable_warnings=True), softmax=False
    ),
    # 3×3 regions into zeros, most relevant first: the drop f(x) − f(x_k) after each of 4 regions.
    "regionPerturbation": run(
        quantus.RegionPerturbation(patch_size=3, regions_evaluation=4, perturb_baseline=0.0, disable_warnings=True),
        softmax=False,
    ),
    # 3×3 patches into zeros until none is left: the score after each patch.
    "selectivity": run(quantus.Selectivity(patch_size=3, perturb_baseline=0.0, disable_warnings=True), softmax=False),
}

out = {
    "generator": "packages/eval/scripts/quantus-crosscheck.py",
    "quantus": quantus.__version__ if hasattr(quantus, "__version__") else "unknown",
    "torch": torch.__version__,
    "shape": [N, C, H, W],
    "numClasses": K,
    "targets": y.tolist(),
    "input": x.ravel().tolist(),
    "maps": a.ravel().tolist(),
    "masks": s.ravel().tolist(),
    "weights": weights.ravel().tolist(),
    "results": results,
}
path = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "quantus.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
