#!/usr/bin/env bash
# make fuzz: builds mlpserve's libFuzzer targets with clang-14 and
# ASan + UBSan in BUILD_DIR, runs every kept regression input
# (tests/fuzz/regressions/<target>/*) through its target, then fuzzes each
# target for SECONDS on a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target>/). Exit status 1 when anything crashed, hung,
# leaked or tripped a sanitizer; the reproducer is left in
# BUILD_DIR/fuzz/<target>/artifacts/ and the log beside it.
#
#   tests/fuzz/run_fuzzers.sh [BUILD_DIR=build-fuzz] [SECONDS=60] [JOBS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
seconds=${2:-60}
jobs=${3:-2}
targets=(onnx_import_fuzz model_config_fuzz infer_decode_fuzz)
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
flags+=" -fno-omit-frame-pointer"

CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMLPSERVE_BUILD_FUZZERS=ON -DMLPSERVE_BUILD_BENCH=OFF "-DCMAKE_CXX_FLAGS=$flags" >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for t in "${targets[@]}"; do
  bin="$build/bin/$t"
  work="$build/fuzz/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"

  mapfile -t kept < <(find "tests/fuzz/regressions/$t" -type f 2>/dev/null | sort)
  if ((${#kept[@]})); then
    echo "fuzz: $t: ${#kept[@]} regression input(s)"
    if ! "$bin" -rss_limit_mb=2048 -timeout=10 "${kept[@]}" >"$work/regressions.log" 2>&1; then
      echo "fuzz: $t FAILED on a kept regression input; log: $work/regressions.log" >&2
      grep -E 'ERROR|SUMMARY|Running:|runtime error' "$work/regressions.log" | tail -20 >&2 || true
      failed+=("$t(regressions)")
      continue
    fi
  fi

  cp "tests/fuzz/corpus/$t/"* "$work/corpus/"
  dict=()
  [[ -f "tests/fuzz/${t%_fuzz}.dict" ]] && dict=("-dict=tests/fuzz/${t%_fuzz}.dict")
  echo "fuzz: $t: ${seconds}s"
  if "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts/" "${dict[@]}" "$work/corpus" >"$work/fuzz.log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done' "$work/fuzz.log" | sed "s/^/fuzz: $t: /" || true
  else
    echo "fuzz: $t FAILED; log: $work/fuzz.log; reproducer(s):" >&2
    ls "$work/artifacts/" >&2
    grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$work/fuzz.log" | head -30 >&2 || true
    failed+=("$t")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all targets passed (${seconds}s each)"
