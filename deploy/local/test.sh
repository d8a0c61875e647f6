#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test: installs what is missing, builds with warnings as errors,
# starts Kafka and PostgreSQL (if not already up), runs the unit and
# integration tests (CTest), then the unit tests again under ASan + UBSan.
# Services this script started are stopped at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

"$here/install.sh"
"$here/build.sh"

started=()
"$here/pg.sh" status >/dev/null 2>&1 || { "$here/pg.sh" start; started+=(pg); }
"$here/kafka.sh" status >/dev/null 2>&1 || { "$here/kafka.sh" start; started+=(kafka); }
cleanup() { for s in "${started[@]}"; do "$here/$s.sh" stop || true; done; }
trap cleanup EXIT

export SHOPSTREAM_IT_KAFKA_BROKERS=$SHOPSTREAM_KAFKA_BROKERS
export SHOPSTREAM_IT_PG_DSN=$SHOPSTREAM_PG_DSN
export SHOPSTREAM_IT_BUILD_DIR=$SHOPSTREAM_BUILD_DIR
export SHOPSTREAM_IT_REPO=$SHOPSTREAM_REPO
export SHOPSTREAM_DATA_DIR=${SHOPSTREAM_DATA_DIR:-$SHOPSTREAM_REPO/../shared/data}

log "unit and integration tests"
(cd "$SHOPSTREAM_BUILD_DIR" && ctest --output-on-failure --timeout 900)

log "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
SHOPSTREAM_BUILD_DIR=$SHOPSTREAM_BUILD_DIR-asan "$here/build.sh" -DSHOPSTREAM_SANITIZE=address,undefined
(cd "$SHOPSTREAM_BUILD_DIR-asan" && ctest -L unit --output-on-failure --timeout 900)
