"""Section i of bench/RESULTS.md: the server at 4x its sustainable load.

bench/report.py imports this. bench/run_benchmarks.sh writes, per
repetition N, into WORK_DIR:

  i_1x_N.json      perf, closed loop: the overload model's sustainable rate
  i_4x_N.json      perf, open loop at 4x that rate, same duration
  i_stats_before_N.json, i_stats_after_N.json
                   ModelStatistics of the overload model around i_4x_N
  overload.env     server VmRSS (kB) after loading (rss_loaded_kb) and
                   before / after each flood (rss_before_kb_N, rss_end_kb_N),
                   VmHWM after it (hwm_kb_N; reset right before it when
                   hwm_reset_N=1), the wall-clock start of i_4x_N (ns)
  health.tsv       one line per health probe: name, start ns, wall time µs,
                   exit code, server VmRSS kB right after it; its answer is
                   <name>.json (i_health_idle before the first repetition,
                   i_health_N_K during flood N)

and the model's config in repo/overload/config.pbtxt (the queue bound).
Every figure is computed from these; the only constants are the criteria.
"""

import glob
import json
import os
import re
import statistics

# Pass criteria of section i.
CRITERIA = {
    # Median over repetitions of p99 of admitted requests at 4x, as a
    # multiple of the queue's bound (Q + 1) x mean service time: single
    # service times vary on shared cores.
    "p99_of_bound": 1.5,
    # Server VmRSS after the last flood over right before the first, percent
    # (the soak's limit).
    "rss_growth_pct": 5.0,
    # Requests the client sent, as a fraction of the 4x target, in every
    # repetition; below it the client (on the same cores) did not offer 4x.
    "sent_of_target": 0.95,
}
ALLOWED_CODES = {"OK", "RESOURCE_EXHAUSTED"}


def _read_env(path):
    with open(path) as f:
        return dict(line.rstrip("\n").partition("=")[::2] for line in f if "=" in line)


def _json(work, name):
    with open(os.path.join(work, name + ".json")) as f:
        return json.load(f)


def _seconds(duration):
    """'5s', '500ms', '2m' (perf's --duration spelling) in seconds."""
    m = re.fullmatch(r"([\d.]+)(ms|s|m)", duration.strip())
    if not m:
        raise ValueError(f"cannot read duration {duration!r}")
    return float(m.group(1)) * {"ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def _config_int(text, field):
    m = re.search(rf"\b{field}:\s*(\d+)", text)
    if not m:
        raise ValueError(f"overload config.pbtxt has no {field}")
    return int(m.group(1))


def _mean_ms(after, before, key):
    """Mean ms per request of a ModelStatistics duration between snapshots."""
    count = after[key]["count"] - (before[key]["count"] if before else 0)
    ns = after[key]["ns"] - (before[key]["ns"] if before else 0)
    return ns / count / 1e6 if count else float("nan")


def _probes(work):
    probes = []
    with open(os.path.join(work, "health.tsv")) as f:
        for line in f:
            name, start_ns, took_us, rc, rss = line.rstrip("\n").split("\t")
            with open(os.path.join(work, name + ".json")) as j:
                text = j.read().strip()
            answer = json.loads(text) if text else {}
            probes.append({"name": name, "start_ns": int(start_ns), "took_ms": int(took_us) / 1000,
                           "rc": int(rc), "health": answer.get("health", "no answer"),
                           "live": answer.get("live"), "ready": answer.get("ready"),
                           "rss_kb": int(rss) if rss else None})
    return probes


def _codes_of(level):
    """{code: n} of every request of a perf level: inside the window and in
    the drain after it (perf's req/s and latency count only the window)."""
    codes = {"OK": level["successes"] + level["drain"]["successes"]}
    for by_code in (level["errors_by_code"], level["drain"]["errors_by_code"]):
        for code, n in by_code.items():
            codes[code] = codes.get(code, 0) + n
    return codes


def _rep(work, n, env, queue, duration, probes, prev_stats):
    """Figures of repetition n; prev_stats: ModelStatistics after n-1."""
    one = _json(work, f"i_1x_{n}")["levels"][0]
    four = _json(work, f"i_4x_{n}")["levels"][0]
    before = _json(work, f"i_stats_before_{n}")["model_stats"][0]
    after = _json(work, f"i_stats_after_{n}")["model_stats"][0]
    t0 = int(env[f"t_4x_start_ns_{n}"])
    r = {"n": n, "one": one, "four": four, "rate_1x": one["requests_per_s"],
         "target": four["request_rate"], "admitted": four["requests_per_s"],
         "sent": four["sent"], "codes": _codes_of(four), "codes_1x": _codes_of(one),
         "p99_1x": one["latency_ms"]["p99"], "p99_4x": four["latency_ms"]["p99"]}
    r["send_rate"] = r["sent"] / duration
    r["sent_of_target"] = r["send_rate"] / r["target"]
    r["shed"] = r["codes"].get("RESOURCE_EXHAUSTED", 0)
    r["shed_pct"] = 100.0 * r["shed"] / r["sent"]
    # The executor never idles in either run, so the time between
    # completions is one request's service time.
    r["s_1x_ms"], r["s_4x_ms"] = 1000.0 / r["rate_1x"], 1000.0 / r["admitted"]
    r["bound_ms"] = (queue + 1) * r["s_4x_ms"]
    r["p99_of_bound"] = r["p99_4x"] / r["bound_ms"]
    r["p99_ratio"] = r["p99_4x"] / r["p99_1x"]
    # Server side: before_n - after_(n-1) is the 1x run, after_n - before_n
    # the flood (warm-ups included in both).
    for key, name in (("success", "server"), ("queue", "queue"), ("compute_infer", "compute")):
        r[f"{name}_1x_ms"] = _mean_ms(before, prev_stats, key)
        r[f"{name}_4x_ms"] = _mean_ms(after, before, key)
    r["fail_4x_us"] = 1000 * _mean_ms(after, before, "fail")
    # An unbounded FIFO: the backlog grows by (sent - admitted) a second, and
    # the last request of the measured run waits for all of it.
    r["unbounded_wait_s"] = (r["send_rate"] - r["admitted"]) * duration / r["admitted"]
    r["rss_before_kb"], r["rss_end_kb"] = int(env[f"rss_before_kb_{n}"]), int(env[f"rss_end_kb_{n}"])
    r["hwm_kb"] = int(env[f"hwm_kb_{n}"])
    r["hwm_reset"] = env.get(f"hwm_reset_{n}") == "1"
    r["probes"] = [dict(p, at_s=(p["start_ns"] - t0) / 1e9) for p in probes
                   if p["name"].startswith(f"i_health_{n}_")]
    return r, after


def figures(work, machine):
    """Everything section i reports, as a dict; f["reps"] per repetition."""
    env = _read_env(os.path.join(work, "overload.env"))
    with open(os.path.join(work, "repo", "overload", "config.pbtxt")) as fh:
        config = fh.read()
    queue = _config_int(config, "max_queue_size")
    duration = _seconds(machine["duration"])
    probes = _probes(work)
    numbers = sorted(int(re.search(r"_(\d+)\.json$", p).group(1))
                     for p in glob.glob(os.path.join(work, "i_4x_*.json")))
    reps, prev = [], None
    for n in numbers:
        r, prev = _rep(work, n, env, queue, duration, probes, prev)
        reps.append(r)
    first = _json(work, f"i_4x_{numbers[0]}")
    f = {"reps": reps, "queue": queue, "duration_s": duration, "batch": first.get("batch", 1),
         "max_batch_size": _config_int(config, "max_batch_size"),
         "concurrency_1x": reps[0]["one"]["concurrency"],
         "idle_probe": next((p for p in probes if p["name"] == "i_health_idle"), None),
         "rss_loaded_kb": int(env["rss_loaded_kb"])}

    def med(key):
        return statistics.median(r[key] for r in reps)

    for key in ("rate_1x", "target", "admitted", "send_rate", "shed_pct", "p99_1x", "p99_4x",
                "bound_ms", "p99_of_bound", "p99_ratio", "s_1x_ms", "s_4x_ms", "server_1x_ms",
                "server_4x_ms", "queue_1x_ms", "queue_4x_ms", "compute_1x_ms", "compute_4x_ms",
                "fail_4x_us", "unbounded_wait_s"):
        f[key] = med(key)
    for key in ("mean", "p50", "max"):
        f[f"{key}_1x"] = statistics.median(r["one"]["latency_ms"][key] for r in reps)
        f[f"{key}_4x"] = statistics.median(r["four"]["latency_ms"][key] for r in reps)
    f["factor"] = statistics.median(r["target"] / r["rate_1x"] for r in reps)
    f["admitted_of_1x"] = statistics.median(r["admitted"] / r["rate_1x"] for r in reps)
    f["tail_1x"] = statistics.median(r["p99_1x"] / r["one"]["latency_ms"]["mean"] for r in reps)
    f["min_sent_of_target"] = min(r["sent_of_target"] for r in reps)
    f["not_sent"] = sum(r["four"]["not_sent"] for r in reps)
    codes = {}
    for r in reps:
        for c, n in list(r["codes"].items()) + list(r["codes_1x"].items()):
            codes[c] = codes.get(c, 0) + n
    f["unexpected"] = {c: n for c, n in codes.items() if c not in ALLOWED_CODES and n}
    during = [p for r in reps for p in r["probes"]]
    f["probes_n"] = len(during)
    f["serving"] = sum(1 for p in during if p["health"] == "SERVING" and p["rc"] == 0)
    f["took_min"] = min((p["took_ms"] for p in during), default=float("nan"))
    f["took_max"] = max((p["took_ms"] for p in during), default=float("nan"))
    f["rss_first_kb"], f["rss_last_kb"] = reps[0]["rss_before_kb"], reps[-1]["rss_end_kb"]
    f["rss_growth_pct"] = 100.0 * (f["rss_last_kb"] - f["rss_first_kb"]) / f["rss_first_kb"]
    f["hwm_max_kb"] = max(r["hwm_kb"] for r in reps)
    f["hwm_reset"] = all(r["hwm_reset"] for r in reps)
    f["ok_reach"] = f["min_sent_of_target"] >= CRITERIA["sent_of_target"]
    f["ok_p99"] = f["p99_of_bound"] <= CRITERIA["p99_of_bound"]
    f["ok_health"] = f["probes_n"] > 0 and f["serving"] == f["probes_n"]
    f["ok_rss"] = f["rss_growth_pct"] <= CRITERIA["rss_growth_pct"]
    f["ok_codes"] = not f["unexpected"]
    f["ok"] = all(f[k] for k in ("ok_reach", "ok_p99", "ok_health", "ok_rss", "ok_codes"))
    return f


def _mib(kb):
    return f"{kb / 1024:.1f} MiB"


def _codes(codes):
    return " ".join(f"{c}={n:,}" for c, n in codes.items())


def headline_row(f, load):
    return (
        f"| i | overload: admitted requests at {f['factor']:.1f}× the sustainable rate, open loop "
        f"(overload model, queue of {f['queue']}; medians of {len(f['reps'])}) | "
        f"p99 {f['p99_4x']:.0f} ms at 4× vs {f['p99_1x']:.1f} ms at 1×; bound (Q+1)·s "
        f"{f['bound_ms']:.0f} ms; {f['shed_pct']:.0f}% shed; health SERVING "
        f"{f['serving']}/{f['probes_n']}; RSS {f['rss_first_kb'] / 1024:.1f} → "
        f"{f['rss_last_kb'] / 1024:.1f} MiB | {f['p99_ratio']:.1f}× 1×; "
        f"{f['p99_of_bound']:.2f} of bound | p99 ≤ {CRITERIA['p99_of_bound']} × bound, only OK / "
        f"RESOURCE_EXHAUSTED, all SERVING, RSS ≤ +{CRITERIA['rss_growth_pct']:.0f}% | "
        f"{'met' if f['ok'] else '**missed**'} | {load} |")


def analysis(f):
    """The Analysis bullet for i."""
    n = len(f["reps"])
    parts = []
    if f["ok_reach"]:
        parts.append(
            f"the client offered {f['send_rate']:,.0f} req/s (median; in every repetition at least "
            f"{100 * f['min_sent_of_target']:.0f}% of the 4× target), on the same 2 cores as the "
            f"server.")
    else:
        parts.append(
            f"**the client did not offer 4× in every repetition**: at worst it sent "
            f"{100 * f['min_sent_of_target']:.0f}% of the target ({f['not_sent']:,} not sent for "
            f"the max in-flight cap); such a repetition measured less than 4×.")
    parts.append(
        ("Only OK and RESOURCE_EXHAUSTED came back" if f["ok_codes"] else
         f"**Unexpected status codes: {_codes(f['unexpected'])}**") +
        f"; {f['shed_pct']:.0f}% of the requests were shed, each in a mean "
        f"{f['fail_4x_us']:.0f} µs of server time (ModelStatistics `fail`).")
    parts.append(
        (f"p99 stayed bounded: {f['p99_4x']:.0f} ms" if f["ok_p99"] else
         f"**p99 exceeded {CRITERIA['p99_of_bound']} × the bound**: {f['p99_4x']:.0f} ms") +
        f" is {f['p99_of_bound']:.2f} of the queue's bound (Q+1)·s = {f['queue'] + 1} × "
        f"{f['s_4x_ms']:.2f} ms = {f['bound_ms']:.0f} ms (medians of {n}). An admitted request "
        f"waits for at most {f['queue'] - 1} queued requests and the one computing, then its "
        f"own; s is the mean service time during the flood, so a stretch of slower service "
        f"(another process on the cores) pushes single requests past it: at 1×, with only "
        f"{f['concurrency_1x']} in flight, p99 was already {f['tail_1x']:.2f}× the mean latency. "
        f"Server side, the mean "
        f"queue wait was {f['queue_4x_ms']:.0f} ms = {f['queue_4x_ms'] / f['s_4x_ms']:.1f} "
        f"service times, against at most {f['queue']} that a full queue allows. An unbounded "
        f"queue would have grown by {f['send_rate'] - f['admitted']:,.0f} requests a second: "
        f"after {f['duration_s']:g} s its last request would wait {f['unbounded_wait_s']:.1f} s.")
    parts.append(
        f"p99 at 4× is {f['p99_ratio']:.1f}× the 1× p99 ({f['p99_1x']:.1f} ms with "
        f"{f['concurrency_1x']} in flight): the mean admitted request took "
        f"{f['mean_1x'] / f['s_1x_ms']:.1f} service times at 1× and "
        f"{f['mean_4x'] / f['s_4x_ms']:.1f} at 4×, where a full queue of {f['queue']} allows "
        f"about {f['queue'] + 1}; the queue size sets the ratio. Admitted throughput at 4× was "
        f"{100 * f['admitted_of_1x']:.0f}% of the sustainable rate (median of the per-repetition "
        f"ratios; service time {f['s_1x_ms']:.2f} → {f['s_4x_ms']:.2f} ms, compute alone "
        f"{f['compute_1x_ms']:.2f} → {f['compute_4x_ms']:.2f} ms)" +
        (": refusing requests and the client's own work take CPU from the executor on the 2 "
         "shared cores." if f["admitted_of_1x"] < 0.95 else "."))
    idle = f["idle_probe"]
    parts.append(
        (f"Health stayed SERVING: {f['serving']}/{f['probes_n']} probes" if f["ok_health"] else
         f"**Health did not stay SERVING: {f['serving']}/{f['probes_n']} probes**") +
        (f", each answered in {f['took_min']:.0f}–{f['took_max']:.0f} ms" if f["probes_n"] else "") +
        (f" (the whole CLI run: process start, connect, 3 RPCs; {idle['took_ms']:.0f} ms on the "
         f"idle server)" if idle else "") + ".")
    parts.append(
        ("RSS stayed bounded: " if f["ok_rss"] else
         f"**RSS grew more than {CRITERIA['rss_growth_pct']:.0f}%**: ") +
        f"{_mib(f['rss_first_kb'])} before the first flood, {_mib(f['rss_last_kb'])} after the "
        f"last ({f['rss_growth_pct']:+.1f}% over {n} floods), peak {_mib(f['hwm_max_kb'])} (VmHWM"
        f"{' during the floods' if f['hwm_reset'] else ' since start'}).")
    return "- i: " + " ".join(parts)


def write_section(w, f):
    reps = f["reps"]
    w(f"## i. Overload: {f['factor']:.1f}× the sustainable rate (overload 16→1024→1024→1024→10, "
      f"queue of {f['queue']})")
    w("")
    w(f"One executor, `dynamic_batching {{ max_queue_delay_microseconds: 0 max_queue_size: "
      f"{f['queue']} }}`, {f['batch']}-row requests (max_batch_size {f['max_batch_size']}: each "
      f"request is a batch of its own). Each repetition: 1×, closed loop with "
      f"{f['concurrency_1x']} requests in flight, which keeps the executor busy without "
      f"shedding (its rate is the sustainable rate); then 4×, open loop (a request every 1/R s, "
      f"whatever the server does) at 4× that rate for the same {f['duration_s']:g} s after a "
      f"1 s warm-up. Latencies are of admitted (OK) requests, as the client saw them; the bound "
      f"is (Q+1)·s with Q = {f['queue']} and s = 1 / admitted rate at 4×.")
    w("")
    w("| rep | 1× req/s | 1× p99 ms | 4× target req/s | sent | admitted req/s | status codes at 4× "
      "| 4× p50 / p99 / max ms | bound ms | p99 / bound | p99 4× / 1× |")
    w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in reps:
        lat = r["four"]["latency_ms"]
        w(f"| {r['n']} | {r['rate_1x']:,.1f} | {r['p99_1x']:.1f} | {r['target']:,.1f} | "
          f"{100 * r['sent_of_target']:.0f}% | {r['admitted']:,.1f} | {_codes(r['codes'])} "
          f"({r['shed_pct']:.0f}% shed) | {lat['p50']:.0f} / {lat['p99']:.0f} / {lat['max']:.0f} | "
          f"{r['bound_ms']:.0f} | {r['p99_of_bound']:.2f} | {r['p99_ratio']:.1f}× |")
    w(f"| median | {f['rate_1x']:,.1f} | {f['p99_1x']:.1f} | {f['target']:,.1f} | | "
      f"{f['admitted']:,.1f} | {f['shed_pct']:.0f}% shed | {f['p50_4x']:.0f} / {f['p99_4x']:.0f} "
      f"/ {f['max_4x']:.0f} | {f['bound_ms']:.0f} | {f['p99_of_bound']:.2f} | "
      f"{f['p99_ratio']:.1f}× |")
    w("")
    w("Per admitted request, medians over the repetitions (server figures from ModelStatistics, "
      "warm-ups included):")
    w("")
    w("| | 1× | 4× |")
    w("| --- | --- | --- |")
    w(f"| service time s = 1 / admitted rate | {f['s_1x_ms']:.2f} ms | {f['s_4x_ms']:.2f} ms |")
    w(f"| latency seen by the client, mean | {f['mean_1x']:.1f} ms | {f['mean_4x']:.1f} ms |")
    w(f"| time in the server, mean | {f['server_1x_ms']:.1f} ms | {f['server_4x_ms']:.1f} ms |")
    w(f"| queue wait, mean | {f['queue_1x_ms']:.1f} ms | {f['queue_4x_ms']:.1f} ms "
      f"(Q·s = {f['queue'] * f['s_4x_ms']:.0f} ms) |")
    w(f"| compute, mean | {f['compute_1x_ms']:.2f} ms | {f['compute_4x_ms']:.2f} ms |")
    w(f"| time to refuse a request, mean | | {f['fail_4x_us']:.0f} µs |")
    w("")
    w(f"Server memory (VmRSS; {_mib(f['rss_loaded_kb'])} with the model loaded, before any "
      f"request):")
    w("")
    w("| rep | before 4× | max at the health probes | after 4× | peak during 4× (VmHWM) |")
    w("| --- | --- | --- | --- | --- |")
    for r in reps:
        samples = [p["rss_kb"] for p in r["probes"] if p["rss_kb"]]
        peak = _mib(r["hwm_kb"]) + ("" if r["hwm_reset"] else " (since start)")
        w(f"| {r['n']} | {_mib(r['rss_before_kb'])} | {_mib(max(samples)) if samples else '—'} | "
          f"{_mib(r['rss_end_kb'])} ({100 * (r['rss_end_kb'] / r['rss_before_kb'] - 1):+.1f}%) | "
          f"{peak} |")
    w("")
    idle = f["idle_probe"]
    w("Health during each flood (`mlpserve-client health`: ServerLive, ServerReady and "
      "grpc.health.v1 Check on a new connection; time is the whole CLI run, process start "
      "included" + (f"; {idle['took_ms']:.0f} ms and {idle['health']} on the idle server "
                    f"before the first repetition" if idle else "") + "):")
    w("")
    w("| rep | probes | answers (health, live, ready) | started, s after the flood began (1 s "
      "warm-up included) | took, ms |")
    w("| --- | --- | --- | --- | --- |")
    for r in reps:
        answers = {}
        for p in r["probes"]:
            key = f"{p['health']} {json.dumps(p['live'])} {json.dumps(p['ready'])}"
            answers[key] = answers.get(key, 0) + 1
        started = ", ".join(f"{p['at_s']:.1f}" for p in r["probes"])
        took = ", ".join(f"{p['took_ms']:.0f}" for p in r["probes"])
        counts = ", ".join(f"{k} ×{v}" for k, v in answers.items())
        w(f"| {r['n']} | {len(r['probes'])} | {counts} | {started} | {took} |")
    w("")
