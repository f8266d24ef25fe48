# The two commands a newcomer types: `make run` and `make test`.
# Both install what is missing (deploy/install-deps.sh), then build with CMake.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
GRPC_ADDRESS ?= 0.0.0.0:8001
METRICS_ADDRESS ?= 0.0.0.0:8002
# Keep make test within 2 cores' worth of memory and time.
JOBS ?= $(shell nproc)

.PHONY: all deps test-deps configure build run test docker-test bench sanitize clean

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

run: build
	$(BUILD_DIR)/bin/mlpserve --model-repository models \
	  --grpc-address $(GRPC_ADDRESS) --metrics-address $(METRICS_ADDRESS)

test: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

# AddressSanitizer + UndefinedBehaviorSanitizer over every unit and integration
# test (a separate build in build-asan). Leaks count; tests/sanitizers/lsan.supp
# lists the third-party ones.
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
sanitize: test-deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMLPSERVE_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$(SANITIZE_FLAGS)"
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 600 -LE deploy

# Builds the Docker image (docker, or podman where no Docker daemon runs),
# runs it on loopback, infers with every bundled model, stops it with SIGTERM.
docker-test: build
	deploy/docker-test.sh

# Benchmarks (bench/run_benchmarks.sh): builds the server, the client and
# engine_bench, runs every measurement (< 10 minutes; best on an idle
# machine) and writes bench/RESULTS.md.
bench: test-deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target mlpserve mlpserve-client engine_bench lifecycle_rss
	bench/run_benchmarks.sh $(BUILD_DIR) bench/RESULTS.md

clean:
	rm -rf $(BUILD_DIR)
