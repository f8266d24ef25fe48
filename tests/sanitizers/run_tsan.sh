#!/usr/bin/env bash
# make tsan: ThreadSanitizer over mlpserve's scheduler concurrency tests
# (see step 3 for the scope).
#
# Debian's abseil is not built with TSan, and absl::Mutex / CondVar /
# Notification (ours, and gRPC's gpr_mu, which is absl::Mutex on Linux) only
# tell TSan about lock and unlock from inside libabsl_synchronization. So this
# script first rebuilds that library and the abseil libraries it pulls in,
# from Debian's own source package of the installed version (same patches,
# same SONAMEs, same ABI), with -fsanitize=thread, and runs the tests with
# LD_LIBRARY_PATH pointing at them. The rest of gRPC, protobuf, oneDNN and
# libgomp stay uninstrumented: their own memory accesses are invisible to TSan,
# and tests/sanitizers/tsan.supp holds the (documented) third-party entries.
#
#   tests/sanitizers/run_tsan.sh [BUILD_DIR=build-tsan] [JOBS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-tsan}
jobs=${2:-2}
root=$PWD
build=$(realpath -m "$build")
absl="$build/abseil"
absl_lib="$absl/lib"

# 1. TSan-instrumented abseil synchronization (cached in BUILD_DIR/abseil).
if [[ ! -e "$absl_lib/libabsl_synchronization.so.20220623" ]]; then
  version=$(dpkg-query -W -f='${Version}' libabsl20220623)
  mkdir -p "$absl/apt/lists/partial" "$absl/apt/cache/archives/partial" "$absl/src"
  echo "deb-src http://deb.debian.org/debian bookworm main" >"$absl/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$absl/apt/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
            -o "Dir::State::Lists=$absl/apt/lists" -o "Dir::Cache=$absl/apt/cache")
  apt-get "${apt_opts[@]}" update -q >/dev/null
  (cd "$absl/src" && apt-get "${apt_opts[@]}" source -q "abseil=$version" >/dev/null 2>&1)
  srcdir=$(find "$absl/src" -maxdepth 1 -mindepth 1 -type d -name 'abseil-*' | head -1)
  cmake -S "$srcdir" -B "$absl/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DCMAKE_CXX_FLAGS=-fsanitize=thread \
    -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
  cmake --build "$absl/build" -j "$jobs" --target synchronization
  mkdir -p "$absl_lib"
  find "$absl/build/absl" -name 'libabsl_*.so.20220623*' -exec cp -a {} "$absl_lib/" \;
fi

# 2. Canary: a race-free absl::Mutex program must pass, a racy one must be
#    reported. Otherwise TSan cannot see absl::Mutex and the run means nothing.
canary="$build/tsan_canary"
g++ -std=c++17 -O1 -g -fsanitize=thread tests/sanitizers/tsan_canary.cc -o "$canary" \
  -labsl_synchronization  # links Debian's; LD_LIBRARY_PATH swaps in the same SONAME
if ! LD_LIBRARY_PATH="$absl_lib" TSAN_OPTIONS=report_bugs=1 "$canary" >"$canary.log" 2>&1; then
  echo "tsan: canary reported a race under absl::Mutex; abseil is not instrumented" >&2
  cat "$canary.log" >&2
  exit 1
fi
if LD_LIBRARY_PATH="$absl_lib" "$canary" racy >"$canary.log" 2>&1; then
  echo "tsan: canary's unguarded race went unreported; TSan is not working" >&2
  exit 1
fi
echo "tsan: canary ok (absl::Mutex visible, a real race reported)"

# 3. The tests, with TSan. Scope: the scheduler suites (batcher, executor
#    threads, absl::Mutex/CondVar, shutdown), where the canary above makes the
#    result meaningful. The gRPC-level suites (inference_service_test with
#    concurrent clients, zero_downtime_test, e2e) are not included yet: gRPC
#    itself hands work between its threads partly through uninstrumented
#    lock-free code, and whether that yields false reports was not verified.
tests=(batch_queue_test model_scheduler_test)
CXX=g++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLPSERVE_BUILD_BENCH=OFF "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
  >/dev/null
cmake --build "$build" -j "$jobs" --target "${tests[@]}"

# 4. Run them; any report makes the process exit 66 and its test fail.
export LD_LIBRARY_PATH="$absl_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TSAN_OPTIONS="suppressions=$root/tests/sanitizers/tsan.supp second_deadlock_stack=1"
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 300 -L scheduler
