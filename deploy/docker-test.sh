#!/usr/bin/env bash
# Builds the mlpserve image and checks it end to end (what `make docker-test` runs):
#   1. build the top-level Dockerfile with docker if a daemon answers, else podman
#      (after ../shared/tools/container-base.sh has made the local base image);
#   2. check the image metadata (non-root user, ports, healthcheck) and size;
#   3. run it on host networking on two free loopback ports, wait for
#      grpc.health.v1 SERVING, run one inference per bundled model, scrape /metrics;
#   4. stop it with SIGTERM and require exit code 0; remove the container.
#
# Environment (all optional):
#   IMAGE=mlpserve:docker-test   tag to build and run
#   SKIP_BUILD=1                 reuse an existing IMAGE
#   REMOVE_IMAGE=1               also remove IMAGE at the end (default: keep it as cache)
#   CONTAINER_ENGINE=docker|podman   force an engine
#   MLPSERVE_CLIENT=path         host mlpserve-client (default build/bin/mlpserve-client if it
#                                runs, else the one inside the container via exec)
#   BUILD_JOBS=N                 compile jobs inside the build (default 2)
#   BUILD_TIMEOUT=3600 HEALTH_TIMEOUT=90 STOP_TIMEOUT=30   seconds
#   MAX_IMAGE_MB=400
#   MLPSERVE_SHARED=dir          the shared/ folder beside the repository
set -euo pipefail

log() { echo "docker-test: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

if ! repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null); then
  repo=$(cd "$(dirname "$0")/.." && pwd)
fi
cd "$repo"
shared=${MLPSERVE_SHARED:-$repo/../shared}

IMAGE=${IMAGE:-mlpserve:docker-test}
BUILD_JOBS=${BUILD_JOBS:-2}
BUILD_TIMEOUT=${BUILD_TIMEOUT:-3600}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-90}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
MAX_IMAGE_MB=${MAX_IMAGE_MB:-400}
name=mlpserve-docker-test-$$
python=/usr/bin/python3
[ -x "$python" ] || python=python3

# ------------------------------------------------------------------ engine
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v docker >/dev/null && timeout 15 docker info >/dev/null 2>&1; then
    engine=docker
  else
    engine=podman
  fi
fi
if [ "$engine" = podman ]; then
  deploy/install-deps.sh container || die "cannot install podman (deploy/install-deps.sh container)"
fi
build_flags=(--network=host)
# The image HEALTHCHECK probes the default port 8001; this run uses free ports
# and checks health itself.
run_flags=(--network=host --init --no-healthcheck --read-only)
if [ "$engine" = podman ]; then
  if [ -x "$shared/tools/container-base.sh" ]; then
    log "preparing the local base image: $shared/tools/container-base.sh"
    timeout 900 "$shared/tools/container-base.sh" >&2
  else
    log "no $shared/tools/container-base.sh; assuming podman can pull debian:bookworm"
  fi
  [ -f /etc/containers/mlpserve-local.conf ] &&
    export CONTAINERS_CONF=${CONTAINERS_CONF:-/etc/containers/mlpserve-local.conf}
  build_flags+=(--format docker)
fi
log "engine: $engine"

# ------------------------------------------------------------------ cleanup
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ] && timeout 20 "$engine" inspect "$name" >/dev/null 2>&1; then
    log "container log (last 40 lines):"
    timeout 20 "$engine" logs --tail 40 "$name" >&2 2>&1 || true
  fi
  timeout 60 "$engine" rm -f "$name" >/dev/null 2>&1 || true
  if [ "${REMOVE_IMAGE:-0}" = 1 ]; then
    timeout 120 "$engine" rmi -f "$IMAGE" >/dev/null 2>&1 || true
  fi
  # Each build leaves the previous image and its build stage untagged (about
  # 1.1 GB a run with podman): drop the untagged images of this Dockerfile
  # (both stages carry the io.mlpserve.stage label), not anyone else's.
  timeout 300 "$engine" image prune -f --filter label=io.mlpserve.stage >/dev/null 2>&1 || true
  if [ $rc -eq 0 ]; then log "PASS"; else log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT

# ------------------------------------------------------------------ build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building $IMAGE (nice, $BUILD_JOBS jobs, at most ${BUILD_TIMEOUT}s)"
  start=$SECONDS
  nice -n 10 timeout "$BUILD_TIMEOUT" "$engine" build "${build_flags[@]}" \
    --build-arg JOBS="$BUILD_JOBS" -t "$IMAGE" -f Dockerfile . ||
    die "image build failed"
  log "built in $((SECONDS - start))s"
fi

# ------------------------------------------------------------------ metadata and size
inspect_json=$(timeout 30 "$engine" image inspect "$IMAGE") || die "no image $IMAGE"
INSPECT_JSON=$inspect_json "$python" - "$MAX_IMAGE_MB" <<'PY' || die "image metadata check failed"
import json, os, sys
max_mb = float(sys.argv[1])
image = json.loads(os.environ["INSPECT_JSON"])[0]
config = image.get("Config") or {}
# docker keeps the healthcheck in Config.Healthcheck, podman at top level.
health = config.get("Healthcheck") or image.get("Healthcheck") or image.get("HealthCheck") or {}
user = config.get("User", "")
ports = sorted((config.get("ExposedPorts") or {}).keys())
entry, cmd = config.get("Entrypoint"), config.get("Cmd")
size_mb = image.get("Size", 0) / 1e6
print(f"docker-test: image size {size_mb:.1f} MB; user {user!r}; ports {ports}", file=sys.stderr)
print(f"docker-test: entrypoint {entry} cmd {cmd}; healthcheck {health.get('Test')}",
      file=sys.stderr)
problems = []
if not user or user.split(":")[0] in ("root", "0"):
    problems.append(f"runs as root (User={user!r})")
for p in ("8001/tcp", "8002/tcp"):
    if p not in ports:
        problems.append(f"{p} not exposed")
test = " ".join(health.get("Test") or [])
if "mlpserve-client" not in test or "health" not in test:
    problems.append(f"healthcheck is not mlpserve-client health: {test!r}")
if entry != ["mlpserve"] or cmd != ["--model-repository=/models"]:
    problems.append(f"entrypoint/cmd: {entry} {cmd}")
if size_mb > max_mb:
    problems.append(f"image is {size_mb:.1f} MB > {max_mb:.0f} MB")
for p in problems:
    print("docker-test: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# ------------------------------------------------------------------ run
read -r grpc_port metrics_port < <("$python" - <<'PY'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
PY
)
log "starting $name: gRPC 127.0.0.1:$grpc_port, metrics 127.0.0.1:$metrics_port"
timeout 60 "$engine" run -d "${run_flags[@]}" --name "$name" "$IMAGE" \
  --model-repository=/models --grpc-address="127.0.0.1:$grpc_port" \
  --metrics-address="127.0.0.1:$metrics_port" >/dev/null || die "container did not start"

client=(timeout 30 "$engine" exec "$name" mlpserve-client)
host_client=${MLPSERVE_CLIENT:-$repo/build/bin/mlpserve-client}
if [ -x "$host_client" ] && "$host_client" --help >/dev/null 2>&1; then
  client=(timeout 30 "$host_client")
fi
log "client: ${client[*]:2}"
url=127.0.0.1:$grpc_port

deadline=$((SECONDS + HEALTH_TIMEOUT))
until "${client[@]}" --url "$url" --timeout 2 health >/dev/null 2>&1; do
  running=$(timeout 20 "$engine" inspect --format '{{.State.Running}}' "$name" 2>/dev/null || true)
  [ "$running" = true ] || die "container exited before turning healthy"
  [ $SECONDS -lt $deadline ] || die "not SERVING after ${HEALTH_TIMEOUT}s"
  sleep 1
done
log "SERVING after $((SECONDS - deadline + HEALTH_TIMEOUT))s"
# The image's own client, as the HEALTHCHECK runs it (but on this run's port).
timeout 30 "$engine" exec "$name" mlpserve-client --url "$url" --timeout 5 health \
  --service liveness >/dev/null ||
  die "mlpserve-client inside the image does not report liveness SERVING"
timeout 30 "$engine" exec "$name" mlpserve-client --url "$url" --timeout 5 health >/dev/null ||
  die "mlpserve-client inside the image does not report readiness SERVING"

models=()
for dir in models/*/; do
  model=$(basename "$dir")
  if compgen -G "${dir}[0-9]*/model.onnx" >/dev/null; then models+=("$model"); fi
done
((${#models[@]})) || die "no bundled models under models/"
for model in "${models[@]}"; do
  out=$("${client[@]}" --url "$url" --timeout 10 infer "$model" --random --batch 4) ||
    die "inference on $model failed"
  [ -n "$out" ] || die "inference on $model printed nothing"
  log "infer $model --batch 4: ok (${#out} bytes of JSON)"
done

metrics=$(curl -fsS --max-time 10 "http://127.0.0.1:$metrics_port/metrics") ||
  die "GET /metrics failed"
grep -q '^mlpserve_' <<<"$metrics" || die "/metrics has no mlpserve_ series"
for model in "${models[@]}"; do
  grep -q "model=\"$model\"" <<<"$metrics" || die "/metrics has no series for $model"
done
log "/metrics: $(grep -c '^mlpserve_' <<<"$metrics") mlpserve_ samples"

# ------------------------------------------------------------------ graceful stop
log "stopping with SIGTERM (at most ${STOP_TIMEOUT}s before SIGKILL)"
start=$SECONDS
timeout $((STOP_TIMEOUT + 30)) "$engine" stop -t "$STOP_TIMEOUT" "$name" >/dev/null ||
  die "stop failed"
code=$(timeout 20 "$engine" inspect --format '{{.State.ExitCode}}' "$name")
log "exited with code $code after $((SECONDS - start))s"
[ "$code" = 0 ] || die "exit code $code after SIGTERM, want 0"
size=$(timeout 20 "$engine" image inspect --format '{{.Size}}' "$IMAGE")
log "image $IMAGE: $((size / 1000000)) MB"
