#!/usr/bin/python3
"""Paired A/B throughput of several server builds (or models) in one run.

    bench/ab_servers.py --server main=build/bin/mlpserve \
        --server nodnnl=/tmp/mlpserve-nodnnl --repo /tmp/benchrepo \
        --rounds 10 main:tiny nodnnl:tiny main:live

Starts every --server on the --repo model repository (ports 18501, 18511, ...;
`NAME=VAR=VALUE@PATH` starts PATH with VAR=VALUE in its environment), then
runs `mlpserve-client perf` once per SIDE per round, sides in alternating
order, each for --duration at --concurrency. A SIDE is SERVER:MODEL, or
SERVER:live for ServerLive. Per round it prints each side's req/s and server
/ client CPU microseconds per request (server CPU from /proc, including the
client's 1 s warm-up, so only comparable between sides); at the end the
median req/s, the median of the per-round ratios to --base (default: the
last side; `--base :live` compares each side with its own server's ServerLive
side) and the median CPU figures. For diagnosing the overhead floor
(bench/FLOOR.md), not part of `make bench`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def start_servers(specs, repo):
    servers = {}
    for k, spec in enumerate(specs):
        name, rest = spec.split("=", 1)
        env = dict(os.environ)
        if "@" in rest:
            assignment, rest = rest.split("@", 1)
            var, value = assignment.split("=", 1)
            env[var] = value
        port = 18501 + 10 * k
        proc = subprocess.Popen(
            [rest, "--model-repository", repo, "--grpc-address", f"127.0.0.1:{port}",
             "--metrics-address", f"127.0.0.1:{port + 1}", "--log-level", "warn"], env=env)
        servers[name] = (proc, port)
    return servers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sides", nargs="+")
    parser.add_argument("--server", action="append", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--client", default="build/bin/mlpserve-client")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--duration", default="2s")
    parser.add_argument("--concurrency", default="16")
    parser.add_argument("--base")
    args = parser.parse_args()
    base = args.base or args.sides[-1]
    servers = start_servers(args.server, args.repo)
    results = {side: [] for side in args.sides}
    try:
        time.sleep(2)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "perf.json")
            for r in range(args.rounds):
                order = args.sides if r % 2 == 0 else args.sides[::-1]
                for side in order:
                    name, model = side.split(":", 1)
                    proc, port = servers[name]
                    target = ["--rpc", "live"] if model == "live" else [model]
                    before = cpu_seconds(proc.pid)
                    subprocess.run([args.client, "--url", f"127.0.0.1:{port}", "perf", *target,
                                    "--concurrency", args.concurrency, "--duration", args.duration,
                                    "--json", out], check=True, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                    server_cpu = cpu_seconds(proc.pid) - before
                    level = json.load(open(out))["levels"][0]
                    n = max(level["sent"], 1)  # CPU covers the drain too
                    results[side].append((level["requests_per_s"], server_cpu / n * 1e6,
                                          level["client_cpu_s"] / n * 1e6))
                print(r, "  ".join(f"{s}: {results[s][-1][0]:.0f} req/s "
                                   f"{results[s][-1][1]:.1f}/{results[s][-1][2]:.1f} us"
                                   for s in args.sides), flush=True)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait()
    for side in args.sides:
        side_base = side.split(":", 1)[0] + base if base.startswith(":") else base
        ratios = [a[0] / b[0] for a, b in zip(results[side], results[side_base])]
        print(f"{side:28} {statistics.median(x[0] for x in results[side]):8.0f} req/s  "
              f"ratio to {side_base} {statistics.median(ratios):.3f}  "
              f"server {statistics.median(x[1] for x in results[side]):.1f} us  "
              f"client {statistics.median(x[2] for x in results[side]):.1f} us")


if __name__ == "__main__":
    sys.exit(main())
