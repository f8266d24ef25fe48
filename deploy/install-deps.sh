#!/usr/bin/env bash
# Installs the Debian packages mlpserve needs, and only those that are missing.
#
#   deploy/install-deps.sh build     # compilers, libraries and tools to build mlpserve
#   deploy/install-deps.sh test      # build + what the test suite drives (torch, onnx,
#                                    # grpcio, prometheus, chromium)
#   deploy/install-deps.sh runtime   # shared libraries the mlpserve binaries load
#   deploy/install-deps.sh fuzz      # build + clang and its libFuzzer/sanitizer runtimes
#   deploy/install-deps.sh container # podman (with runc) and debootstrap: make docker-test
#                                    # where no docker daemon runs
#
# Runs as root, or through sudo otherwise. Used by the Makefile and the Dockerfile.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libdnnl-dev ocl-icd-opencl-dev prometheus-cpp-dev libonnx-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev nlohmann-json3-dev
)
test_pkgs=(
  python3 python3-torch python3-onnx python3-numpy python3-grpcio python3-grpc-tools
  prometheus chromium curl openssl procps python3-yaml
)
# make fuzz: libFuzzer and the sanitizer runtimes come with clang's compiler-rt.
fuzz_pkgs=(clang-14 libclang-rt-14-dev)
# make docker-test without a docker daemon: podman as root runs containers
# with runc and catatonit (the init process of `run --init`; only a Recommends
# of podman, so --no-install-recommends leaves it out); debootstrap makes the
# local base image where no registry answers (../shared/tools/container-base.sh).
container_pkgs=(podman runc catatonit debootstrap)
# What the mlpserve and mlpserve-client binaries load (ldd), by Debian 12 name;
# their own dependencies (c-ares, re2, ssl, civetweb, OpenCL ICD loader) follow.
runtime_pkgs=(
  libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 libdnnl2 libonnx1
  libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0
  ca-certificates
)

case "${1:-build}" in
  build) wanted=("${build_pkgs[@]}") ;;
  test) wanted=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  runtime) wanted=("${runtime_pkgs[@]}") ;;
  fuzz) wanted=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  container) wanted=("${container_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|runtime|fuzz|container" >&2; exit 2 ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]})) || exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# The tests run Debian's prometheus binary themselves; its package also
# enables and starts a system-wide daemon on *:9090 (no authentication, and
# in the way of the compose stack's Prometheus). Stop and disable the daemon
# this script's install started; one installed before is left alone.
if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
  "${sudo[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  echo "install-deps: disabled the prometheus.service the package started (the tests run their own)" >&2
fi
