# The two commands a newcomer types: `make run` and `make test`.
# Both install what is missing (deploy/install-deps.sh), then build with CMake.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
GRPC_ADDRESS ?= 0.0.0.0:8001
METRICS_ADDRESS ?= 0.0.0.0:8002
# Keep make test within 2 cores' worth of memory and time.
JOBS ?= $(shell nproc)

.PHONY: all deps test-deps configure build run test docker-test bench clean

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
