#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test: installs what is missing, builds with warnings as errors,
# starts Kafka and PostgreSQL (if not already up), runs the unit and
# integration tests (CTest), then the unit tests again under ASan + UBSan, and a
# short libFuzzer smoke of the event decoder and the JWT checks (clang).
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

summary=$(mktemp)
log "unit and integration tests"
(cd "$SHOPSTREAM_BUILD_DIR" && ctest --output-on-failure --timeout 900) | tee -a "$summary"

log "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
SHOPSTREAM_BUILD_DIR=$SHOPSTREAM_BUILD_DIR-asan "$here/build.sh" -DSHOPSTREAM_SANITIZE=address,undefined
(cd "$SHOPSTREAM_BUILD_DIR-asan" && ctest -L unit --output-on-failure --timeout 900) | tee -a "$summary"

log "fuzz smoke: ${SHOPSTREAM_FUZZ_SECONDS:=30} s each for the event decoder, the JWT checks, the JWKS parser, the configuration parsers, the batch prescan, X-Forwarded-For, the read query string, the ML reorder buffer's record, the ML core's checkpoint state, the read-your-writes position token and the record-to-JSON decoder of shopstream-admin tail"
fuzz=$SHOPSTREAM_BUILD_DIR-fuzz
CC=clang cmake -S "$SHOPSTREAM_REPO" -B "$fuzz" -G Ninja -DSHOPSTREAM_WERROR=ON -DSHOPSTREAM_FUZZ=ON >/dev/null
cmake --build "$fuzz" --target fuzz_event fuzz_jwt fuzz_jwks fuzz_config fuzz_prescan fuzz_xff fuzz_query fuzz_mlw_order fuzz_mlw_ckpt fuzz_position fuzz_event_json
for t in fuzz_event fuzz_jwt fuzz_jwks fuzz_config fuzz_prescan fuzz_xff fuzz_query fuzz_mlw_order fuzz_mlw_ckpt fuzz_position fuzz_event_json; do
    corpus=$(mktemp -d)
    cp "$SHOPSTREAM_REPO"/tests/fixtures/proto/* "$corpus"/
    "$fuzz/tests/fuzz/$t" -max_total_time="$SHOPSTREAM_FUZZ_SECONDS" -print_final_stats=1 -artifact_prefix="$fuzz/" "$corpus" 2>"$fuzz/$t.log" \
        || { tail -n 40 "$fuzz/$t.log"; die "$t found a crash (reproducer in $fuzz)"; }
    grep -E '^stat::number_of_executed_units' "$fuzz/$t.log" | sed "s/^/$t: /"
    rm -rf "$corpus"
done
# One closing line over both CTest runs and the fuzz smoke (pipefail already stopped us on a failure).
total=0
for n in $(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$summary"); do total=$((total + n)); done
rm -f "$summary"
trap - EXIT
cleanup                     # stop what we started first, so the closing line is the last one
echo "tests: $((total + 2)) passed, 0 failed"
