#!/usr/bin/python3
"""Times PyTorch's forward pass on the benchmark MLPs, one CPU thread.

    /usr/bin/python3 bench/torch_bench.py TORCH_DIR NAME [NAME ...]
        [--batches 1,8,64,512] [--min-time 0.5] [--mode eager|mkldnn] [--json FILE]

TORCH_DIR holds the <name>.pt files bench/make_bench_models.py writes beside
the ONNX export: the state_dict of the very module that was exported, so the
weights are those the engine runs. torch.set_num_threads(1) and
torch.inference_mode(); input is random normal rows, fixed seed.

Modes:
  eager   model(x): what `import torch` gives. Debian's python3-torch is
          built with BLAS_INFO=generic, so nn.Linear runs on whatever
          libblas.so.3 the system alternative points at (the reference
          netlib BLAS unless OpenBLAS/BLIS is installed).
  mkldnn  torch.utils.mkldnn.to_mkldnn(model): nn.Linear on torch's bundled
          oneDNN (same version as mlpserve's, 2.6.3); LeakyReLU has no
          oneDNN-layout kernel in torch 1.13, so each activation converts to
          dense and back; input and output conversions are timed too. For each
(model, batch) the loop runs for at least --min-time seconds after a short
warm-up, in repeated timed rounds; the reported time per call is the median
round (as Google Benchmark's median aggregate would be). Prints one line per
case and, with --json, writes
  [{"model", "batch", "seconds_per_call", "rows_per_s"}, ...].
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.utils.mkldnn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_bench_models import leaky_mlp  # noqa: E402


def load(torch_dir: str, name: str) -> torch.nn.Module:
    saved = torch.load(os.path.join(torch_dir, name + ".pt"))
    model = leaky_mlp(saved["widths"])
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model


def mkldnn_forward(model: torch.nn.Module):
    converted = torch.utils.mkldnn.to_mkldnn(model)

    def forward(x: torch.Tensor) -> torch.Tensor:
        y = x.to_mkldnn()
        for module in converted:
            if isinstance(module, torch.nn.LeakyReLU):
                y = torch.nn.functional.leaky_relu(y.to_dense(), module.negative_slope)
                y = y.to_mkldnn()
            else:
                y = module(y)
        return y.to_dense()

    return forward


def time_case(forward, x: torch.Tensor, min_time: float) -> float:
    with torch.inference_mode():
        # Warm-up and probe: a few calls, at most ~0.1 s of them.
        start = time.perf_counter()
        n = 0
        while n < 3 or (n < 20 and time.perf_counter() - start < 0.1):
            forward(x)
            n += 1
        per_call = (time.perf_counter() - start) / n
        # At least 3 rounds of ~min_time/5 each, for at least min_time.
        round_calls = max(1, int(min_time / 5 / per_call))
        rounds = []
        deadline = time.perf_counter() + min_time
        while len(rounds) < 3 or time.perf_counter() < deadline:
            t0 = time.perf_counter()
            for _ in range(round_calls):
                forward(x)
            rounds.append((time.perf_counter() - t0) / round_calls)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("torch_dir")
    parser.add_argument("names", nargs="+")
    parser.add_argument("--batches", default="1,8,64,512")
    parser.add_argument("--min-time", type=float, default=0.5)
    parser.add_argument("--mode", choices=["eager", "mkldnn"], default="eager")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(7)
    results = []
    for name in args.names:
        model = load(args.torch_dir, name)
        features = model[0].in_features
        forward = model if args.mode == "eager" else mkldnn_forward(model)
        for batch in [int(b) for b in args.batches.split(",")]:
            x = torch.randn(batch, features)
            seconds = time_case(forward, x, args.min_time)
            results.append(
                {
                    "model": name,
                    "mode": args.mode,
                    "batch": batch,
                    "seconds_per_call": seconds,
                    "rows_per_s": batch / seconds,
                }
            )
            print(
                f"torch {args.mode} {name:8s} batch {batch:4d}: {seconds * 1e6:10.1f} us/call "
                f"{batch / seconds:12.0f} rows/s",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "torch_version": torch.__version__,
                    "mode": args.mode,
                    "threads": torch.get_num_threads(),
                    "results": results,
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
