# syntax=docker/dockerfile:1
# The worker image: shopstream-worker for every consumer role (--role projector |
# inventory | ml | notify), plus shopstream-admin and the schema migrations that the
# migration and replay Jobs run.
#   docker build -f deploy/docker/worker.Dockerfile -t shopstream-worker:0.1.0 .
# Base images are pinned by Debian release tag, not digest (see edge.Dockerfile).
FROM debian:12.12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake ninja-build pkg-config \
      libh2o-evloop-dev libh2o-dev libuv1-dev librdkafka-dev libpq-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libjwt-dev \
      libjansson-dev uuid-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libcriterion-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build /build --target shopstream-worker shopstream-admin \
 && install -D -m 0755 -t /out/bin /build/workers/shopstream-worker /build/tools/admin/shopstream-admin \
 && install -D -m 0755 /src/deploy/docker/healthcheck.sh /out/bin/shopstream-healthcheck \
 && mkdir -p /out/share/shopstream/schema && cp -r /src/schema/migrations /out/share/shopstream/schema/

# Runtime: the shared libraries the binaries link (readelf -d: NEEDED), no compiler;
# libcurl for the notify role's webhooks.
FROM debian:12.12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libh2o0.13 libuv1 librdkafka1 libpq5 libprotobuf-c1 \
      libjansson4 libuuid1 zlib1g libssl3 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin shopstream
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /out/share/ /usr/local/share/
# The worker HTTP endpoint (/healthz /readyz /metrics) is off unless this is set.
ENV SHOPSTREAM_WORKER_HTTP_PORT=9090 \
    SHOPSTREAM_SCHEMA_DIR=/usr/local/share/shopstream/schema/migrations
EXPOSE 9090
USER 10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["shopstream-healthcheck", "9090", "/healthz"]
ENTRYPOINT ["shopstream-worker"]
CMD ["--role", "projector"]
