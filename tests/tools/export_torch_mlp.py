#!/usr/bin/python3
"""Exports a torch MLP with Leaky ReLU and PReLU plus its reference outputs.

    /usr/bin/python3 tests/tools/export_torch_mlp.py OUT_DIR [--seed N] [--rows N]
                                                    [--view] [--opset N]

Writes
  OUT_DIR/<name>/1/model.onnx  the model (Linear, LeakyReLU(0.001), Linear,
                               PReLU with per-channel slopes, some 0 and some
                               negative, Linear), batch dimension dynamic;
                               with --view, forward() starts with
                               x.view(-1, in_features) (a Reshape node)
  OUT_DIR/input.bin            float32 rows [rows, in_features], row-major
  OUT_DIR/expected.bin         torch's float32 outputs [rows, out_features]
  OUT_DIR/meta.json            {"model", "rows", "in_features", "out_features", ...}

The import tests compare mlpserve's reading of the ONNX file with torch.
"""

import argparse
import json
import os

import torch
from torch import nn

MODEL_NAME = "torch_mlp"
IN_FEATURES = 24
HIDDEN1 = 48
HIDDEN2 = 32
OUT_FEATURES = 7


def build(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    prelu = nn.PReLU(num_parameters=HIDDEN2)
    model = nn.Sequential(
        nn.Linear(IN_FEATURES, HIDDEN1),
        nn.LeakyReLU(0.001),
        nn.Linear(HIDDEN1, HIDDEN2),
        prelu,
        nn.Linear(HIDDEN2, OUT_FEATURES),
    )
    with torch.no_grad():
        slopes = torch.empty(HIDDEN2).uniform_(-0.5, 0.5)
        slopes[0::5] = 0.0  # dead negative side
        slopes[1::7] = -0.25  # sign-flipping units
        prelu.weight.copy_(slopes)
    model.eval()
    return model


class ViewFirst(nn.Module):
    """x.view(-1, F) before the layers, as hand-written forward()s often do."""

    def __init__(self, layers: nn.Module):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        return self.layers(x.view(-1, IN_FEATURES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", type=int, default=33)
    parser.add_argument("--view", action="store_true")
    parser.add_argument("--opset", type=int, default=13)
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be positive")

    model = build(args.seed)
    if args.view:
        model = ViewFirst(model).eval()
    version_dir = os.path.join(args.out_dir, MODEL_NAME, "1")
    os.makedirs(version_dir, exist_ok=True)
    torch.onnx.export(
        model,
        torch.randn(2, IN_FEATURES),
        os.path.join(version_dir, "model.onnx"),
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=args.opset,
    )

    import onnx  # the test asserts on the exported graph's ops (--view: a Reshape)

    ops = [n.op_type for n in onnx.load(os.path.join(version_dir, "model.onnx")).graph.node]

    # Inputs wide enough that every activation sees both signs.
    inputs = torch.randn(args.rows, IN_FEATURES, dtype=torch.float32) * 2.0
    with torch.no_grad():
        expected = model(inputs).to(torch.float32)
    inputs.numpy().astype("<f4").tofile(os.path.join(args.out_dir, "input.bin"))
    expected.numpy().astype("<f4").tofile(os.path.join(args.out_dir, "expected.bin"))
    meta = {
        "model": MODEL_NAME,
        "rows": args.rows,
        "in_features": IN_FEATURES,
        "out_features": OUT_FEATURES,
        "seed": args.seed,
        "view": args.view,
        "opset": args.opset,
        "ops": ops,
        "torch_version": torch.__version__,
    }
    with open(os.path.join(args.out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
