#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what a fresh Debian 12 machine lacks: build tools and libraries from
# Debian, PostgreSQL, and the Apache Kafka broker jars from Maven Central
# (cached, so a second run needs no network). Safe to run again. The contract
# test's PyPI tools go into a venv (python3-venv) it makes itself
# (tests/integration/contract/run.sh).
set -euo pipefail
. "$(dirname "$0")/env.sh"

PKGS=(build-essential cmake pkg-config git
      libh2o-evloop-dev libh2o-dev libuv1-dev librdkafka-dev libpq-dev
      libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libjwt-dev libjansson-dev uuid-dev zlib1g-dev libssl-dev
      libcriterion-dev libcurl4-openssl-dev postgresql kcat curl default-jre-headless maven
      python3 python3-sklearn python3-yaml python3-venv ninja-build jq clang openssl
      nodejs                # tests/integration/deploy: runs npm and Strimzi's published KafkaTopic validators
      libclang-rt-14-dev    # clang only recommends its runtime; libFuzzer and the sanitizers need it
      prometheus            # for promtool (check metrics, check rules); its server is not wanted here
      chromium fonts-dejavu-core)   # the console's browser test (headless); a font to render with
# tests/integration/deploy: go builds kustomize and kubeconform and fetches KEDA's module.
PKGS+=(golang-go)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
    # The package starts a Prometheus server (on 9090, the workers' port in containers)
    # where systemd runs; only promtool is used.
    if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
fi

if [ ! -f "$SHOPSTREAM_KAFKA_JARS/.complete" ]; then
    log "fetching Apache Kafka jars into $SHOPSTREAM_KAFKA_JARS"
    mkdir -p "$SHOPSTREAM_KAFKA_JARS"
    mvn -q -B -f "$SHOPSTREAM_REPO/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$SHOPSTREAM_KAFKA_JARS"
    touch "$SHOPSTREAM_KAFKA_JARS/.complete"
fi
log "install complete"
