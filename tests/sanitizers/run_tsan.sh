#!/usr/bin/env bash
# make tsan: ThreadSanitizer over mlpserve's concurrency tests: the scheduler
# (batcher, executors, Drain, destructor), the repository (reload, retired
# versions), and the whole server in-process over loopback gRPC (concurrent
# clients sharing batches, reload under load, graceful shutdown with calls in
# flight, server shutdown in every fixture's TearDown). See step 4 for the
# list.
#
# Debian's abseil is not built with TSan, and absl::Mutex / CondVar /
# Notification (ours, and gRPC's gpr_mu, which is absl::Mutex on Linux) only
# tell TSan about lock and unlock from inside libabsl_synchronization. So this
# script first rebuilds that library and the abseil libraries it pulls in,
# from Debian's own source package of the installed version (same patches,
# same SONAMEs, same ABI), with -fsanitize=thread, and runs the tests with
# LD_LIBRARY_PATH pointing at them. The rest of gRPC, protobuf, oneDNN and
# libgomp stay uninstrumented: their own memory accesses are invisible to TSan
# (see step 5 for how the run treats them), and tests/sanitizers/tsan.supp
# holds the (documented) third-party entries.
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
#    Also random_internal_pool_urbg: Debian's copy of it (libgrpc needs it)
#    exports its own, uninstrumented instance of the inline call_once template
#    (CallOnceImpl), which the loader can bind abseil's LowLevelAlloc to; TSan
#    then misses the call_once and reports abseil's arena set-up as a race.
if [[ ! -e "$absl_lib/libabsl_random_internal_pool_urbg.so.20220623" ]]; then
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
  cmake --build "$absl/build" -j "$jobs" --target synchronization random_internal_pool_urbg
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

# 3. gRPC canary: a race in a handler that gRPC's own threads call (as they
#    call mlpserve's reactors) must still be reported under the options of
#    step 5, which make TSan ignore what uninstrumented libraries do.
export LD_LIBRARY_PATH="$absl_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
tsan_options="suppressions=$root/tests/sanitizers/tsan.supp second_deadlock_stack=1"
tsan_options+=" ignore_noninstrumented_modules=1"
grpc_canary="$build/tsan_grpc_canary"
# shellcheck disable=SC2046  # pkg-config prints several words on purpose
g++ -std=c++17 -O1 -g -fsanitize=thread tests/sanitizers/tsan_grpc_canary.cc -o "$grpc_canary" \
  -labsl_synchronization $(pkg-config --cflags --libs grpc++) -labsl_time
# Only the handler and that thread write `unguarded`, so a report on it is one
# between them.
if TSAN_OPTIONS="$tsan_options" timeout 120 "$grpc_canary" >"$grpc_canary.log" 2>&1 ||
   ! grep -q "Location is global '(anonymous namespace)::unguarded'" "$grpc_canary.log"; then
  echo "tsan: the race in the gRPC canary's handler went unreported" >&2
  cat "$grpc_canary.log" >&2
  exit 1
fi
echo "tsan: gRPC canary ok (a race in code gRPC threads call is reported)"

# 4. The tests, with TSan: the scheduler suites, the repository suites (the
#    model control thread's Stop while a load runs among them), and the
#    in-process server suites (inference_service_test: 64 concurrent clients
#    whose rows share dynamic batches, error answers, and
#    InferenceServiceShutdownTest: main.cc's SIGTERM sequence,
#    GracefulShutdown, with 16 calls queued and a client calling throughout;
#    zero_downtime_test: 8 clients on three models while versions are added,
#    rebuilt, broken, unloaded and polled away). Each server fixture shuts the
#    server down (GrpcServer::Shutdown, then the repository and its
#    schedulers) with the executors still running. QueuedCallTest (in
#    inference_service_test) cancels one queued gRPC call and lets another's
#    deadline pass, so an executor answers them while gRPC ends the calls.
#    Not included: the e2e suites (the SIGTERM test of the binary among
#    them), which run the server binary as a child process.
#    Every C++ file is built with tests/sanitizers/tsan_protobuf_abi.h
#    force-included: under -fsanitize=thread protobuf's map_field.h changes
#    the layout of map fields, which must match the uninstrumented
#    libprotobuf's (that header says why; without it ModelInfer's arena
#    crashed on the first call).
tests=(batch_queue_test model_scheduler_test model_repository_test repository_controller_test
       inference_service_test zero_downtime_test)
cxx_flags="-fsanitize=thread -fno-omit-frame-pointer"
cxx_flags+=" -include $root/tests/sanitizers/tsan_protobuf_abi.h"
CXX=g++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLPSERVE_BUILD_BENCH=OFF "-DCMAKE_CXX_FLAGS=$cxx_flags" >/dev/null
cmake --build "$build" -j "$jobs" --target "${tests[@]}"

# 5. Run them; any report makes the process exit 66 and its test fail.
#    ignore_noninstrumented_modules=1: interceptors (malloc/free, memcpy,
#    sendmsg, pthread calls) called from a library built without TSan are
#    ignored, as the library's own loads and stores already are. Without it
#    the gRPC suites gave 291 reports in one run, none with an access made by
#    mlpserve's or the tests' code (their frames appear only as callers of a
#    stub or of ~TestServer): libgrpc/libgpr allocating, copying into
#    (sendmsg) and freeing their call objects, slice buffers and the server,
#    and the <grpcpp/> templates compiled into the tests (instrumented)
#    touching that memory, with the hand-offs between threads made by
#    libgrpc's own lock-free code, which TSan cannot see; plus absl::Status
#    payloads freed inside Debian's libabsl_status. The cost: a race is missed
#    if its only access on one side is such an intercepted call made from
#    inside libstdc++, gRPC, protobuf, oneDNN or another uninstrumented
#    library. Loads and stores of mlpserve's and the tests' own code are
#    checked (step 3 checks that for code gRPC's threads call).
export TSAN_OPTIONS="$tsan_options"
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 300 \
  -R '(^|/)(BatchQueueTest|ModelSchedulerTest|ConcurrentSubmitTest|SelectVersionsTest|ModelRepositoryTest|RepositoryShutdownTest|RepositoryControllerTest|InferenceServiceTest|InferenceServiceShutdownTest|QueuedCallTest|ZeroDowntimeTest)\.'
