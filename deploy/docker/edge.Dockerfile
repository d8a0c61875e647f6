# syntax=docker/dockerfile:1
# The edge image: shopstream-edge (h2o, port 8080), with shopstream-token and
# shopstream-admin for operators who exec into a pod.
#   docker build -f deploy/docker/edge.Dockerfile -t shopstream-edge:0.1.0 .
# Base images are pinned by Debian release tag, not digest: a tag like 12.12 keeps the
# release fixed, while digests would need a registry lookup this repository cannot make
# in CI; pin a digest in your registry's mirror if you need bit-for-bit rebuilds.
FROM debian:12.12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake ninja-build pkg-config \
      libh2o-evloop-dev libh2o-dev libuv1-dev librdkafka-dev libpq-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libjwt-dev \
      libjansson-dev uuid-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libcriterion-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build /build --target shopstream-edge shopstream-token shopstream-admin \
 && install -D -m 0755 -t /out/bin /build/edge/shopstream-edge /build/tools/token/shopstream-token \
      /build/tools/admin/shopstream-admin \
 && install -D -m 0755 /src/deploy/docker/healthcheck.sh /out/bin/shopstream-healthcheck

# Runtime: the shared libraries the binaries link (readelf -d: NEEDED), no compiler.
FROM debian:12.12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libh2o-evloop0.13 librdkafka1 libpq5 \
      libprotobuf-c1 libjwt0 libjansson4 libuuid1 zlib1g libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin shopstream
COPY --from=build /out/bin/ /usr/local/bin/
ENV SHOPSTREAM_HTTP_PORT=8080
EXPOSE 8080
USER 10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["shopstream-healthcheck", "8080", "/healthz"]
ENTRYPOINT ["shopstream-edge"]
