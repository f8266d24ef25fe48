# syntax=docker/dockerfile:1
# mlpserve container image: a build stage compiles the two binaries, a slim
# runtime stage carries them with only the shared libraries they load.
#
#   docker build -t mlpserve .
#   docker run --rm --stop-timeout 35 -p 8001:8001 -p 8002:8002 mlpserve
#   docker run --rm -v $PWD/my-models:/models:ro -p 8001:8001 -p 8002:8002 mlpserve
#
# Arguments after the image name replace CMD (the default
# --model-repository=/models), so repeat it when adding flags:
#   docker run --rm mlpserve --model-repository=/models --log-level=debug
# Without a Docker daemon, see deploy/docker-test.sh for podman.

ARG DEBIAN_IMAGE=debian:bookworm

# ---------------------------------------------------------------- build stage
FROM ${DEBIAN_IMAGE} AS build
# Marks this Dockerfile's images, so deploy/docker-test.sh can remove the
# untagged ones each rebuild leaves behind (and no one else's).
LABEL io.mlpserve.stage="build"
# Parallel compile jobs; 0 means one per CPU the build sees.
ARG JOBS=0
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN set -eu; \
    jobs="${JOBS}"; [ "$jobs" -gt 0 ] || jobs="$(nproc)"; \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
          -DMLPSERVE_BUILD_TESTS=OFF -DMLPSERVE_BUILD_BENCH=OFF; \
    cmake --build /build -j "$jobs" --target mlpserve mlpserve-client; \
    strip /build/bin/mlpserve /build/bin/mlpserve-client

# -------------------------------------------------------------- runtime stage
FROM ${DEBIAN_IMAGE} AS runtime
LABEL io.mlpserve.stage="runtime"
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh runtime \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/log/apt /var/log/dpkg.log \
           /tmp/install-deps.sh \
 && groupadd --system --gid 10001 mlpserve \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin mlpserve

COPY --from=build /build/bin/mlpserve /build/bin/mlpserve-client /usr/local/bin/
# The bundled example repository; mount your own over /models.
COPY models/ /models/

LABEL org.opencontainers.image.title="mlpserve" \
      org.opencontainers.image.description="KServe v2 gRPC inference server for ONNX MLPs (oneDNN), Prometheus metrics" \
      org.opencontainers.image.source="https://example.invalid/mlpserve"

# Numeric so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /models
# 8001: KServe v2 gRPC (+ grpc.health.v1); 8002: HTTP /metrics and /activations.
EXPOSE 8001 8002
# Liveness (grpc.health.v1 service "liveness"), not readiness: an
# orchestrator that restarts unhealthy containers must not restart one whose
# models are still loading or cannot load (a restart mends neither).
# Readiness is `mlpserve-client health` without --service.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["mlpserve-client", "--url", "localhost:8001", "--timeout", "3", "health", "--service", "liveness"]
# SIGTERM drains for --shutdown-grace-secs (default 30): give docker stop -t 35.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mlpserve"]
CMD ["--model-repository=/models"]
