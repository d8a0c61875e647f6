#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ML worker's quality measured the way a shop meets it (docs/ml.md "Measured through
# the system"): a fresh stack of its own (deploy/local: Kafka, PostgreSQL, the edge, the
# projector, the inventory and the ML worker), Online Retail replayed through the HTTP
# API up to each cutoff (the catalog as admin, then every invoice as a service-role
# order.placed on behalf of its customer at the invoice time: shopstream-replay
# --orders-only --until), the workers waited for, then score.py asks the running system
# for every customer's recommendations and segment and the best sellers' forecasts, and
# scores them against the data file beside popularity, scikit-learn KMeans and seasonal
# naive. Cutoffs run in increasing order in one pass: after the first, the replay goes on
# from the previous cutoff (--from), so the system at a cutoff has seen exactly the
# history before it.
#
#   bench/ml_system/run.sh [--cutoff YYYY-MM-DD]... [--truth-until YYYY-MM-DD] [--no-build] [--keep] [--stand-in]
#
# --truth-until scores only what was bought before that date: a validation split (cutoff
# and truth both before the test cutoffs) for choosing the worker's configuration.
# Default cutoffs 2011-09-01 2011-10-01 2011-11-01. --keep leaves the stack up (stop it
# with SHOPSTREAM_STATE_DIR=build/ml_system/stack deploy/local/stack.sh down); --stand-in
# only checks the scoring (the baselines answer for the system; no stack). Ports and the
# worker's configuration come from the environment (SHOPSTREAM_*_PORT, SHOPSTREAM_ML_*),
# as for every deploy/local script. Needs python3 with scikit-learn (deploy/local/install.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cutoffs=() build=1 keep=0 stand_in=0 truth=()
while [ $# -gt 0 ]; do
    case $1 in
        --cutoff) cutoffs+=("$2"); shift 2 ;;
        --truth-until) truth=(--truth-until "$2"); shift 2 ;;
        --no-build) build=0; shift ;;
        --keep) keep=1; shift ;;
        --stand-in) stand_in=1; shift ;;
        *) echo "usage: $0 [--cutoff YYYY-MM-DD]... [--truth-until YYYY-MM-DD] [--no-build] [--keep] [--stand-in]" >&2; exit 2 ;;
    esac
done
[ ${#cutoffs[@]} -gt 0 ] || cutoffs=(2011-09-01 2011-10-01 2011-11-01)
mapfile -t cutoffs < <(printf '%s\n' "${cutoffs[@]}" | sort -u)
for c in "${cutoffs[@]}"; do
    [[ $c =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || { echo "bad cutoff $c (YYYY-MM-DD)" >&2; exit 2; }
done

: "${SHOPSTREAM_BUILD_DIR:=$repo/build}"
out=$SHOPSTREAM_BUILD_DIR/ml_system
export SHOPSTREAM_STATE_DIR=${ML_SYSTEM_STATE_DIR:-$out/stack}
. "$repo/deploy/local/env.sh"
: "${SHOPSTREAM_DATA_DIR:=$repo/../shared/data}"
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3   # Debian's, where python3-sklearn is
bin=$SHOPSTREAM_BUILD_DIR
mkdir -p "$out"
score() { "$PY" "$here/score.py" --data "$SHOPSTREAM_DATA_DIR" "${truth[@]}" "$@"; }

if [ "$stand_in" = 1 ]; then
    files=()
    for c in "${cutoffs[@]}"; do score --cutoff "$c" --stand-in --json "$out/stand-in-$c.json"; files+=("$out/stand-in-$c.json"); done
    exec "$PY" "$here/summary.py" "${files[@]}"
fi

[ "$build" = 1 ] && "$repo/deploy/local/build.sh"
for b in tools/replay/shopstream-replay tools/token/shopstream-token tools/admin/shopstream-admin; do
    [ -x "$bin/$b" ] || die "$bin/$b not built: run deploy/local/build.sh"
done

# A stack of our own, from nothing: a dedicated state dir, wiped (after stopping what a
# previous run left in it).
"$repo/deploy/local/stack.sh" down >/dev/null 2>&1 || true
[ -f "$SHOPSTREAM_STATE_DIR/run/ml.pid" ] && kill "$(cat "$SHOPSTREAM_STATE_DIR/run/ml.pid")" 2>/dev/null || true
rm -rf "$SHOPSTREAM_STATE_DIR" "$out"/cutoff-*.json "$out/tokens.json"
mkdir -p "$SHOPSTREAM_STATE_DIR/run"
stop() {
    [ "$keep" = 1 ] && { log "stack left up (state $SHOPSTREAM_STATE_DIR)"; return; }
    if [ -f "$SHOPSTREAM_STATE_DIR/run/ml.pid" ] && [ "${own_ml:-0}" = 1 ]; then
        kill -TERM "$(cat "$SHOPSTREAM_STATE_DIR/run/ml.pid")" 2>/dev/null || true
        sleep 1
    fi
    "$repo/deploy/local/stack.sh" down >/dev/null 2>&1 || true
}
trap stop EXIT
"$repo/deploy/local/stack.sh" up
# The ML worker: started by stack.sh where it does so, else here, beside the others.
ml_alive() { [ -f "$SHOPSTREAM_STATE_DIR/run/ml.pid" ] && kill -0 "$(cat "$SHOPSTREAM_STATE_DIR/run/ml.pid")" 2>/dev/null; }
own_ml=0
if ! ml_alive; then
    log "starting the ML worker"
    "$bin/workers/shopstream-worker" --role ml </dev/null >>"$SHOPSTREAM_STATE_DIR/ml.log" 2>&1 &
    echo $! > "$SHOPSTREAM_STATE_DIR/run/ml.pid"
    own_ml=1
    sleep 1
    ml_alive || { tail -n 20 "$SHOPSTREAM_STATE_DIR/ml.log"; die "the ML worker exited at start"; }
fi
env | grep '^SHOPSTREAM_ML_' | sort | sed 's/^/worker configuration: /' >&2 || log "worker configuration: defaults"

export SHOPSTREAM_JWT_SECRET_FILE=$SHOPSTREAM_STATE_DIR/jwt.secret
export SHOPSTREAM_JWT_SECRET; SHOPSTREAM_JWT_SECRET=$(cat "$SHOPSTREAM_JWT_SECRET_FILE")
url=http://127.0.0.1:$SHOPSTREAM_HTTP_PORT
replay() { "$bin/tools/replay/shopstream-replay" --url "$url" --data "$SHOPSTREAM_DATA_DIR" --customers 1000000 --orders-only "$@"; }
lag_of() { "$bin/tools/admin/shopstream-admin" lag --role "$1" --quiet 2>/dev/null || echo "?"; }
q() { "$PG_BIN/psql" "$SHOPSTREAM_PG_DSN" -XAt -c "$1" 2>/dev/null || echo "?"; }

# Settled: the inventory and the ML worker at lag 0, and what the ML worker keeps in
# PostgreSQL unchanged for ML_SYSTEM_STABLE_S seconds (its idle flush, a retrain that was
# out and the drain after it all change rows).
settle() {
    local stable=${ML_SYSTEM_STABLE_S:-12} t0=$SECONDS last="" now same=0
    while :; do
        now="$(lag_of inventory) $(lag_of ml) $(q "select (select count(*) || ':' || coalesce(sum(updated_at_ms + model_version), 0) from ml_user_recs)
              || '/' || (select count(*) || ':' || coalesce(sum(updated_at_ms + segment), 0) from ml_user_segments)
              || '/' || (select coalesce(string_agg(model || version || ':' || watermark_ms, ',' order by model), '') from ml_models)
              || '/' || (select count(*) || ':' || coalesce(sum(updated_at_ms), 0) from ml_forecasts)")"
        if [[ $now == "0 0 "* ]] && [ "$now" = "$last" ]; then same=$((same + 2)); else same=0; fi
        [ "$same" -ge "$stable" ] && break
        [ $((SECONDS - t0)) -gt "${ML_SYSTEM_SETTLE_TIMEOUT_S:-1800}" ] && die "workers not settled: $now (logs in $SHOPSTREAM_STATE_DIR)"
        last=$now
        sleep 2
    done
    log "settled in $((SECONDS - t0)) s: $now"
}

log "the catalog (every product, stock for every order) as admin"
replay --catalog-only
for _ in $(seq 1 600); do [ "$(lag_of inventory)" = 0 ] && break; sleep 0.5; done
prev=""
for c in "${cutoffs[@]}"; do
    log "replaying the invoices ${prev:+from $prev }until $c as service-role order.placed"
    replay --no-catalog ${prev:+--from "$prev"} --until "$c"
    settle
    echo "inventory outcomes so far: $(q "select string_agg(outcome || coalesce(' ' || reason, '') || ' ' || n, ', ') from (select outcome, reason, count(*) n from inventory_orders group by 1, 2 order by 1, 2) x")"
    echo "models at $c (model version trained_at watermark, event time):"
    q "select model, version, to_timestamp(trained_at_ms / 1000) at time zone 'UTC', to_timestamp(watermark_ms / 1000) at time zone 'UTC', metrics from ml_models order by model"
    grep -h 'comp=ml msg="stats"' "$SHOPSTREAM_STATE_DIR/ml.log" 2>/dev/null | tail -n 1 || true
    score --cutoff "$c" --url "$url" --token-bin "$bin/tools/token/shopstream-token" \
          --tokens-cache "$out/tokens.json" --json "$out/cutoff-$c.json"
    prev=$c
done
files=(); for c in "${cutoffs[@]}"; do files+=("$out/cutoff-$c.json"); done
"$PY" "$here/summary.py" "${files[@]}"
echo; "$PY" "$here/summary.py" --markdown "${files[@]}"
