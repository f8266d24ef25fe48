#!/usr/bin/env bash
# Runs mlpserve's benchmarks and writes bench/RESULTS.md.
#
#   bench/run_benchmarks.sh [BUILD_DIR] [RESULTS_MD]      (what `make bench` runs)
#
# BUILD_DIR (default build) must hold bin/mlpserve, bin/mlpserve-client and
# bin/engine_bench. Needs /usr/bin/python3 with Debian's python3-torch.
# Environment: BENCH_DURATION (default 5s) per serving measurement,
# BENCH_REPS (default 3) alternating repetitions of each A/B pair (and
# repetitions of i's 1x/4x pair), BENCH_AD_DURATION (default 2s) and
# BENCH_AD_REPS (default 9) the same for a and d, whose sides differ by less
# than the machine's background swings,
# BENCH_KEEP=1 keeps the temporary work directory.
#
# What it measures (each comparison side by side in this one run):
#   a. overhead floor   ModelInfer(tiny, batch 1) vs ServerLive, concurrency 16
#                       (with server and client CPU per request beside it)
#   b. engine eff.      served rows/s (medium, --batch 512) vs engine_bench rows/s
#   c. batching gain    large_batched vs large_unbatched, 64 batch-1 clients
#   d. latency c=1      p50 ModelInfer(tiny) vs ServerLive, with the server's own
#                       time per request from /metrics and the engine's time for
#                       the same run hot and after a cache flush (BM_ColdRun)
#   e. vs PyTorch       engine_bench vs bench/torch_bench.py, same ONNX weights, 1 thread
#   f. memory           server VmRSS with models/ loaded, after 100k and 200k requests
#   g. memory           RSS across 100 model unload/load cycles (lifecycle_rss)
#   i. overload         the `overload` model (one executor, queue of 32) closed-loop
#                       at its sustainable rate, then open-loop at 4x that rate,
#                       BENCH_REPS times: admitted p99 vs the queue's bound,
#                       status codes, server RSS, grpc.health.v1 probed during
#                       each flood
#   (h, the soak, is bench/soak.txt from `make soak`, quoted by report.py.)
# The server and the load generator run on the same machine and share its
# cores; every server listens on 127.0.0.1 with ports it picks itself.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
OUT=${2:-$ROOT/bench/RESULTS.md}
DUR=${BENCH_DURATION:-5s}
REPS=${BENCH_REPS:-3}
AD_DUR=${BENCH_AD_DURATION:-2s}
AD_REPS=${BENCH_AD_REPS:-9}
PY=/usr/bin/python3
SERVER_BIN=$BUILD/bin/mlpserve
CLIENT=$BUILD/bin/mlpserve-client
ENGINE_BENCH=$BUILD/bin/engine_bench

for bin in "$SERVER_BIN" "$CLIENT" "$ENGINE_BENCH"; do
  [[ -x $bin ]] || { echo "run_benchmarks: $bin is missing; build it first (make bench)" >&2; exit 2; }
done
$PY -c 'import torch' 2>/dev/null ||
  { echo "run_benchmarks: /usr/bin/python3 cannot import torch (apt install python3-torch)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlpserve-bench.XXXXXX")
SERVER_PID=""
SERVER_LOG=/dev/null
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { echo "[bench $(date +%T)] $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Every figure's exact command goes to commands.tsv: label, load average
# (1, 5, 15 min) when it started, command line.
record() {
  local label=$1
  shift
  printf '%s\t%s\t%s\n' "$label" "$(loadavg)" "$*" >>"$WORK/commands.tsv"
}

# start_server REPO [ARGS...]: starts mlpserve on 127.0.0.1 with free ports
# (and ARGS) and waits until it is ready; sets SERVER_PID, PORT and
# METRICS_PORT.
start_server() {
  local repo=$1 log_file
  shift
  log_file=$WORK/server.$(date +%s%N).log
  SERVER_LOG=$log_file
  "$SERVER_BIN" --model-repository "$repo" --grpc-address 127.0.0.1:0 \
    --metrics-address 127.0.0.1:0 --log-level info "$@" >"$log_file" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if grep -q "ready: serving" "$log_file"; then
      PORT=$(grep -o 'gRPC on port [0-9]*' "$log_file" | awk '{print $4}')
      METRICS_PORT=$(grep -o 'metrics on port [0-9]*' "$log_file" | awk '{print $4}')
      log "server $SERVER_PID on 127.0.0.1:$PORT serving $repo"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "run_benchmarks: the server did not become ready:" >&2
  cat "$log_file" >&2
  exit 1
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

server_alive() {
  if ! kill -0 "$SERVER_PID" 2>/dev/null || grep -q "received" "$SERVER_LOG"; then
    echo "run_benchmarks: server $SERVER_PID stopped mid-run (killed from outside?):" >&2
    tail -5 "$SERVER_LOG" >&2
    exit 1
  fi
}

# perf LABEL ARGS...: one mlpserve-client perf run, JSON to $WORK/LABEL.json.
# perf exits 1 when requests failed; PERF_ERRORS_OK=1 accepts that (the
# overload run expects the server to shed load).
perf() {
  local label=$1
  shift
  local cmd=("$CLIENT" --url "127.0.0.1:$PORT" perf "$@" --json "$WORK/$label.json")
  record "$label" "mlpserve-client --url 127.0.0.1:PORT perf $* --json $label.json"
  log "$label: perf $*"
  local ticks_before
  ticks_before=$(server_cpu_ticks)
  local rc=0
  "${cmd[@]}" >"$WORK/$label.txt" 2>"$WORK/$label.err" || rc=$?
  if ((rc == 1)) && [[ ${PERF_ERRORS_OK:-0} == 1 && -s $WORK/$label.json ]]; then
    rc=0
  fi
  ((rc == 0)) || {
    server_alive
    cat "$WORK/$label.txt" >&2
    tail -5 "$WORK/$label.err" >&2
    echo "run_benchmarks: perf $label failed" >&2
    exit 1
  }
  server_alive
  # The server's CPU seconds over the whole run, warm-up included.
  echo "server_cpu_s=$(((($(server_cpu_ticks) - ticks_before) * 1000) / CLK_TCK))e-3" \
    >"$WORK/$label.cpu"
}

# User + system CPU ticks the server has used (fields 14, 15 of stat; its
# command name has no spaces).
server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# scrape NAME: the server's /metrics to $WORK/NAME.prom.
scrape() {
  curl -fsS --max-time 10 "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/$1.prom"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }

# health_probe NAME: one `mlpserve-client health` (ServerLive, ServerReady and
# grpc.health.v1 Check on a fresh connection, as a probe would), its JSON
# answer to $WORK/NAME.json. Appends to $WORK/health.tsv: NAME, start (ns
# since the epoch), wall time of the whole CLI run (µs), exit code (0 iff
# SERVING) and the server's VmRSS (kB) right after it.
health_probe() {
  local name=$1 t0 t1 rc=0
  t0=$(date +%s%N)
  "$CLIENT" --url "127.0.0.1:$PORT" --timeout 2 health >"$WORK/$name.json" 2>"$WORK/$name.err" || rc=$?
  t1=$(date +%s%N)
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$t0" "$(((t1 - t0) / 1000))" "$rc" "$(rss_kb)" >>"$WORK/health.tsv"
}

# model_stats NAME: ModelStatistics of the overload model to $WORK/NAME.json.
model_stats() {
  "$CLIENT" --url "127.0.0.1:$PORT" models stats overload >"$WORK/$1.json" 2>"$WORK/$1.err" || {
    cat "$WORK/$1.err" >&2
    echo "run_benchmarks: models stats overload failed" >&2
    exit 1
  }
}

# --- machine --------------------------------------------------------------
log "work directory $WORK; load average $(loadavg)"
{
  echo "nproc=$(nproc)"
  echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "kernel=$(uname -sr)"
  echo "load_start=$(loadavg)"
  echo "date=$(date -u +'%Y-%m-%d %H:%M:%S UTC')"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -c . || true)"
  echo "torch=$($PY -c 'import torch; print(torch.__version__)' 2>/dev/null)"
  echo "duration=$DUR"
  echo "reps=$REPS"
  echo "ad_duration=$AD_DUR"
  echo "ad_reps=$AD_REPS"
} >"$WORK/machine.env"

# --- models -----------------------------------------------------------------
log "exporting the bench models"
$PY "$ROOT/bench/make_bench_models.py" "$WORK/repo" --torch-dir "$WORK/torch" >/dev/null 2>&1
ONNX_ARGS=()
for m in tiny medium large_batched; do ONNX_ARGS+=("--onnx=$WORK/repo/$m/1/model.onnx"); done

# --- serving: a, b, c, d ----------------------------------------------------
start_server "$WORK/repo"
# a and d: many short A/B pairs, each pair's sides back to back in
# alternating order, so the other tenants' load (which swings by tens of
# percent over seconds on a shared VM) hits both sides of a pair alike.
for rep in $(seq 1 "$AD_REPS"); do
  if ((rep % 2)); then order="infer live"; else order="live infer"; fi
  for side in $order; do
    if [[ $side == infer ]]; then
      perf "a_infer_$rep" tiny --concurrency 16 --duration "$AD_DUR"
    else
      perf "a_live_$rep" --rpc live --concurrency 16 --duration "$AD_DUR"
    fi
  done
  for side in $order; do
    if [[ $side == infer ]]; then
      # The server's own time per request (receipt to answer, and compute),
      # from its histograms around the run: see d in report.py.
      scrape "d_infer_$rep.before"
      perf "d_infer_$rep" tiny --concurrency 1 --duration "$AD_DUR"
      scrape "d_infer_$rep.after"
    else
      perf "d_live_$rep" --rpc live --concurrency 1 --duration "$AD_DUR"
    fi
  done
done
for rep in $(seq 1 "$REPS"); do
  perf "a_diag_$rep" tiny_batched --concurrency 16 --duration "$DUR"
  if ((rep % 2)); then order="large_batched large_unbatched"; else order="large_unbatched large_batched"; fi
  for model in $order; do
    perf "c_${model}_$rep" "$model" --concurrency 64 --duration "$DUR"
  done
  perf "b_served_$rep" medium --batch 512 --concurrency 2 --duration "$DUR"
done
stop_server

# --- engine in-process: b, e -------------------------------------------------
ENGINE_CMD=("$ENGINE_BENCH" "${ONNX_ARGS[@]}" --onnx_batches=1,8,64,512 --onnx_counts=0,1
  --benchmark_filter=BM_Onnx --benchmark_min_time=0.2 --benchmark_repetitions=7
  --benchmark_enable_random_interleaving=true
  --benchmark_report_aggregates_only=true --benchmark_format=json)
record engine "engine_bench --onnx=REPO/{tiny,medium,large_batched}/1/model.onnx ${ENGINE_CMD[*]:4}"
log "engine_bench on the exported ONNX files"
"${ENGINE_CMD[@]}" >"$WORK/engine.json" 2>"$WORK/engine.err"
COLD_CMD=("$ENGINE_BENCH" "--onnx=$WORK/repo/tiny/1/model.onnx" --onnx_batches=1
  --benchmark_filter=BM_ColdRun --benchmark_repetitions=5
  --benchmark_report_aggregates_only=true --benchmark_format=json)
record cold "engine_bench --onnx=REPO/tiny/1/model.onnx ${COLD_CMD[*]:2}"
log "engine_bench: tiny batch 1 after a cache flush"
"${COLD_CMD[@]}" >"$WORK/cold.json" 2>"$WORK/cold.err"
COUNTING_CMD=("$ENGINE_BENCH" "--onnx=$WORK/repo/medium/1/model.onnx" --onnx_batches=1,8,64,512
  --benchmark_filter=BM_CountingAB --benchmark_min_time=2 --benchmark_format=json)
record counting "engine_bench --onnx=REPO/medium/1/model.onnx ${COUNTING_CMD[*]:2}"
log "engine_bench: activation counting off/on, paired"
"${COUNTING_CMD[@]}" >"$WORK/counting.json" 2>"$WORK/counting.err"

# --- PyTorch: e --------------------------------------------------------------
for mode in eager mkldnn; do
  record "torch_$mode" "/usr/bin/python3 bench/torch_bench.py TORCH_DIR tiny medium large_batched --mode $mode --min-time 0.5 --json torch_$mode.json"
  log "torch_bench --mode $mode"
  $PY "$ROOT/bench/torch_bench.py" "$WORK/torch" tiny medium large_batched --mode "$mode" \
    --min-time 0.5 --json "$WORK/torch_$mode.json" >"$WORK/torch_$mode.txt" 2>"$WORK/torch_$mode.err"
done

# --- memory: f -----------------------------------------------------------------
start_server "$ROOT/models"
sleep 1
echo "rss_loaded_kb=$(rss_kb)" >"$WORK/memory.env"
record f_rss "grep VmRSS /proc/SERVER_PID/status   (server: mlpserve --model-repository models)"
for round in 1 2; do
  for model in leaky_mlp prelu_mlp; do
    perf "f_${model}_$round" "$model" --concurrency 16 --requests 50000 --warmup 0s
  done
  echo "rss_after_${round}00k_kb=$(rss_kb)" >>"$WORK/memory.env"
done
awk '/^VmHWM:/ {print "hwm_kb=" $2}' "/proc/$SERVER_PID/status" >>"$WORK/memory.env"
stop_server

# --- memory across model load/unload cycles: g ---------------------------------
for model in leaky_mlp prelu_mlp; do
  record "g_$model" "lifecycle_rss --cycles 100 --model models/$model"
  "$BUILD/bin/lifecycle_rss" --cycles 100 --model "$ROOT/models/$model" >>"$WORK/lifecycle.txt"
done

# --- overload: i ------------------------------------------------------------------
# The overload model alone (explicit mode loads nothing else): one executor,
# at most 32 queued requests, 128-row requests (max_batch_size 128) that never
# share a batch (see make_bench_models.py for why 128). Each
# repetition measures its sustainable rate closed-loop (4 in flight: the
# executor never idles, nothing is shed), then runs the same duration
# open-loop at 4x that rate, probing health and RSS about once a second while
# the flood runs.
overload_rep() {
  local rep=$1 rate probes_pid
  perf "i_1x_$rep" overload --batch 128 --concurrency 4 --duration "$DUR"
  rate=$($PY -c 'import json, sys
print(round(4 * json.load(open(sys.argv[1]))["levels"][0]["requests_per_s"], 1))' "$WORK/i_1x_$rep.json")
  model_stats "i_stats_before_$rep"
  echo "rss_before_kb_$rep=$(rss_kb)" >>"$WORK/overload.env"
  # From here VmHWM is the peak of this flood (writing 5 to clear_refs resets it).
  if echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null; then
    echo "hwm_reset_$rep=1" >>"$WORK/overload.env"
  fi
  rm -f "$WORK/i_4x.done"
  (
    sleep 1.5
    for n in $(seq 1 30); do
      [[ -e $WORK/i_4x.done ]] && break
      health_probe "i_health_${rep}_$n"
      sleep 0.8
    done
  ) &
  probes_pid=$!
  echo "t_4x_start_ns_$rep=$(date +%s%N)" >>"$WORK/overload.env"
  PERF_ERRORS_OK=1 perf "i_4x_$rep" overload --batch 128 --request-rate "$rate" --duration "$DUR" --warmup 1s
  touch "$WORK/i_4x.done"
  wait "$probes_pid"
  model_stats "i_stats_after_$rep"
  echo "rss_end_kb_$rep=$(rss_kb)" >>"$WORK/overload.env"
  awk -v rep="$rep" '/^VmHWM:/ {print "hwm_kb_" rep "=" $2}' "/proc/$SERVER_PID/status" >>"$WORK/overload.env"
}
OVERLOAD_ARGS=(--model-control-mode explicit --load-model overload)
record i_server "mlpserve --model-repository REPO ${OVERLOAD_ARGS[*]} --grpc-address 127.0.0.1:0 --metrics-address 127.0.0.1:0"
record i_health "mlpserve-client --url 127.0.0.1:PORT --timeout 2 health   (once before i_1x_1; then from 1.5 s into each i_4x_N, past its 1 s warm-up, every ~1 s until it ends; wall time of each CLI run)"
record i_stats "mlpserve-client --url 127.0.0.1:PORT models stats overload   (right before and after each i_4x_N)"
record i_rss "grep -e VmRSS -e VmHWM /proc/SERVER_PID/status   (after loading, right before and after each i_4x_N, after each health probe; echo 5 >/proc/SERVER_PID/clear_refs right before each i_4x_N resets VmHWM)"
start_server "$WORK/repo" "${OVERLOAD_ARGS[@]}"
echo "rss_loaded_kb=$(rss_kb)" >"$WORK/overload.env"
health_probe i_health_idle
for rep in $(seq 1 "$REPS"); do overload_rep "$rep"; done
stop_server

echo "load_end=$(loadavg)" >>"$WORK/machine.env"
log "writing $OUT"
$PY "$ROOT/bench/report.py" "$WORK" "$OUT"
log "done; load average $(loadavg)"
