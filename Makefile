# The two commands a newcomer types: `make run` and `make test`.
# Both install what is missing (deploy/install-deps.sh), then build with CMake.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
# make run serves this machine only: plaintext gRPC and /metrics have no
# authentication (README, "Security and limits"). To serve other machines:
#   make run GRPC_ADDRESS=0.0.0.0:8001 METRICS_ADDRESS=0.0.0.0:8002
GRPC_ADDRESS ?= 127.0.0.1:8001
METRICS_ADDRESS ?= 127.0.0.1:8002
# Keep make test within 2 cores' worth of memory and time.
JOBS ?= $(shell nproc)

.PHONY: all deps test-deps configure build run test docker-test bench clean fuzz sanitize tsan soak k8s-rules

all: build

deps:
	deploy/install-deps.sh build

test-deps:
	deploy/install-deps.sh test

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD_DIR)/build.ninja

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Builds the server and the client the README's next steps use (not the
# tests and benchmarks `build` makes), then serves the bundled models.
run: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target mlpserve mlpserve-client
	$(BUILD_DIR)/bin/mlpserve --model-repository models \
	  --grpc-address $(GRPC_ADDRESS) --metrics-address $(METRICS_ADDRESS)

test: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)
	rm -rf $(BUILD_DIR)/test-tmp && mkdir -p $(BUILD_DIR)/test-tmp
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

# Builds the Docker image (docker, or podman where no Docker daemon runs),
# runs it on loopback, infers with every bundled model, stops it with SIGTERM.
# Needs the host's mlpserve-client, and python3 and curl (test deps).
docker-test: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target mlpserve-client
	deploy/docker-test.sh

# Benchmarks (bench/run_benchmarks.sh): builds the server, the client and
# engine_bench, runs every measurement (about 7 minutes; best on an idle
# machine) and writes bench/RESULTS.md.
bench: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target mlpserve mlpserve-client engine_bench lifecycle_rss
	bench/run_benchmarks.sh $(BUILD_DIR) bench/RESULTS.md

# Soak (tests/soak): the real server under mixed valid and hostile traffic,
# a new model version every 5 s and overload bursts for SOAK_SECONDS; prints
# calls by kind and status code and the server's RSS; fails on an unexpected
# code, a wrong answer, a crash or RSS growth over 5%.
SOAK_SECONDS ?= 300
soak: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target mlpserve soak
	$(BUILD_DIR)/bin/soak --duration-secs $(SOAK_SECONDS) --report $(BUILD_DIR)/soak.txt \
	  --json $(BUILD_DIR)/soak.json

# Hardening (issue 6). Each uses its own build directory and SAN_JOBS cores.
SAN_JOBS ?= 2
FUZZ_SECONDS ?= 60
FUZZ_DIR ?= build-fuzz
ASAN_DIR ?= build-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# libFuzzer targets (tests/fuzz) built with clang-14 and ASan+UBSan: the kept
# regression inputs, then FUZZ_SECONDS of fuzzing per target; fails on a crash.
fuzz:
	deploy/install-deps.sh fuzz
	tests/fuzz/run_fuzzers.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(SAN_JOBS)

# The whole ctest suite built with gcc's AddressSanitizer + UBSan (leak
# checking on; third-party leak suppressions in tests/sanitizers/lsan.supp).
# -O1 -g1 (line tables): about half the compiler CPU of -O2 -g (38 s -> 21 s
# for inference_service_test.cc) and still file:line in every stack. ASan/LSan reports of every process, the servers and CLIs
# that e2e tests start included (a test that expects a failing exit code
# would not notice one), go to ASAN_REPORTS; any report there fails the run.
# UBSan (halt_on_error) reports on stderr: with ASan it ignores log_path.
ASAN_REPORTS = $(abspath $(ASAN_DIR))/sanitizer-reports
sanitize: test-deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=g++ -DMLPSERVE_BUILD_BENCH=OFF \
	  "-DCMAKE_CXX_FLAGS=$(ASAN_FLAGS)" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
	cmake --build $(ASAN_DIR) -j $(SAN_JOBS)
	rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS)
	cd $(ASAN_DIR) && \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:log_path=$(ASAN_REPORTS)/asan \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(SAN_JOBS) --timeout 300; \
	  status=$$?; \
	  if [ -n "$$(ls -A $(ASAN_REPORTS))" ]; then \
	    tail -n +1 $(ASAN_REPORTS)/*; echo "sanitize: reports in $(ASAN_REPORTS)" >&2; exit 1; \
	  fi; \
	  exit $$status

# ThreadSanitizer over the concurrency tests (scheduler, repository, the
# in-process server under concurrent clients, reload and shutdown), with
# abseil's synchronization libraries rebuilt with TSan from Debian's source
# package (fetched once into build-tsan/abseil) so that absl::Mutex is
# visible; two canaries check that TSan sees races first.
tsan: test-deps
	tests/sanitizers/run_tsan.sh build-tsan $(SAN_JOBS)

# deploy/k8s/prometheusrule.yaml from deploy/prometheus/alerts.yml (after
# editing the alerts; make test fails while the two differ).
k8s-rules:
	deploy/k8s/prometheusrule.sh > deploy/k8s/prometheusrule.yaml.tmp
	mv deploy/k8s/prometheusrule.yaml.tmp deploy/k8s/prometheusrule.yaml

clean:
	rm -rf $(BUILD_DIR)
