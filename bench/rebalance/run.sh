#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How long each rebalance stalls consumption, eager (range,roundrobin, the workers' default)
# against cooperative-sticky, in one run; each pass names its assignor explicitly. For each assignor: fresh topics and a fresh database, a
# flat stream of views (rb-produce, --rate per second in 10 ms ticks) on the browse topic,
# and a projector group scaled 1 -> 2 -> 3 -> 2 -> 1 (a new process for a join, SIGTERM for
# a leave), --step-s seconds apart.
#
# The method: a trigger on consumer_offsets (bench database only) logs every commit of a
# browse partition with PostgreSQL's clock_timestamp(). With records arriving on every
# partition every 10 ms, a partition's commits are normally a batch linger apart (tens of
# ms); a rebalance shows as a gap. Per step and partition, the stall is the longest gap
# between two commits of that partition ending within the step; the step's figures are
# the longest stall of any partition (consumption stopped on some partition that long),
# the median over partitions, how many partitions stalled over --stall-ms, and "resumed":
# from the join or the SIGTERM until the last stalled partition committed again. The
# projector commits its offsets with its effects, so a commit is consumption resuming.
#
# Then, with --drain, the per-process rate at saturation: one projector in a fresh group
# drains everything the last pass produced (views, cart adds, product upserts: cheap
# events; the mixed workload's figures are docs/scale.md's).
#
#   bench/rebalance/run.sh [--rate 2000] [--step-s 8] [--partitions 4] [--stall-ms 250]
#                          [--assignors "eager cooperative"] [--drain]
# An assignor name may end in -hbMS (e.g. cooperative-hb1000): the workers then run with
# heartbeat.interval.ms=MS (the workers' default is 1000, librdkafka's 3000), which bounds
# how long the other members take to notice a rebalance.
# Environment: SHOPSTREAM_BUILD_DIR, SHOPSTREAM_PG_DSN (a role that may create databases),
# SHOPSTREAM_KAFKA_BROKERS (deploy/local/env.sh sets them). RB_KEEP=1 keeps databases and logs;
# RB_EXTRA_PROPS (a ';' list, e.g. debug=cgrp,fetch) goes to every worker's Kafka properties.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${SHOPSTREAM_BUILD_DIR:?}
admin_dsn=${SHOPSTREAM_PG_DSN:?}
brokers=${SHOPSTREAM_KAFKA_BROKERS:?}
rate=2000 step_s=8 partitions=4 stall_ms=250 assignors="eager cooperative" drain=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rate) rate=$2; shift 2 ;;
        --step-s) step_s=$2; shift 2 ;;
        --partitions) partitions=$2; shift 2 ;;
        --stall-ms) stall_ms=$2; shift 2 ;;
        --assignors) assignors=$2; shift 2 ;;
        --drain) drain=1; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
for b in workers/shopstream-worker tools/admin/shopstream-admin bench/rebalance/rb-produce; do
    [ -x "$bin/$b" ] || { echo "missing $bin/$b (build first)" >&2; exit 1; }
done
run=rb$$_$(date +%s)
tmp=$(mktemp -d)
pids=() dbs=()
cleanup() {
    local rc=$? p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${RB_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
        echo "kept: databases ${dbs[*]}, logs $tmp" >&2
    else
        for d in "${dbs[@]}"; do psql "$admin_dsn" -qXc "drop database if exists $d with (force)" >/dev/null 2>&1 || true; done
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
q() { psql "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }

new_db() {   # new_db NAME: a migrated database with the commit log; prints its DSN
    local db=bench_${run}_${1//-/_} dsn   # a database name takes no "-"
    psql "$admin_dsn" -qXc "create database $db" >/dev/null
    dbs+=("$db")
    dsn="$admin_dsn dbname=$db"
    "$bin/tools/admin/shopstream-admin" migrate --dsn "$dsn" --dir "$repo/schema/migrations" >/dev/null 2>&1
    psql "$dsn" -qX -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
create table rb_commits (topic text, partition int, next_offset bigint, at_ms bigint);
create table rb_steps (step int, name text, t_ms bigint);
create function rb_log() returns trigger language plpgsql as $$
begin
  if new.topic ~ '[.](browse|cart|catalog)[.]v1$' then
    insert into rb_commits values (new.topic, new.partition, new.next_offset,
                                   (extract(epoch from clock_timestamp()) * 1000)::bigint);
  end if;
  return new;
end $$;
create trigger rb_log after insert or update on consumer_offsets for each row execute function rb_log();
SQL
    echo "$dsn"
}

start_worker() {   # start_worker DSN GROUP PREFIX NAME [PROPS]: sets WPID
    SHOPSTREAM_PG_DSN="$1" SHOPSTREAM_KAFKA_GROUP_ID="$2" SHOPSTREAM_TOPIC_PREFIX="$3" \
    SHOPSTREAM_KAFKA_BROKERS="$brokers" SHOPSTREAM_KAFKA_PROPERTIES="${5:-}" \
        "$bin/workers/shopstream-worker" --role projector >>"$tmp/$4.log" 2>&1 &
    WPID=$!
    pids+=("$WPID")
}

stop_worker() { kill -TERM "$1"; wait "$1" || echo "warning: worker $1 exited $?" >&2; }

step() {   # step DSN N NAME
    q "$1" "insert into rb_steps values ($2, '$3', $(now_ms))"
}

# The figures of one pass, one line per step (SQL over rb_commits and rb_steps).
report() {
    local dsn=$1 label=$2
    q "$dsn" "
with s as (
  select step, name, t_ms, coalesce(lead(t_ms) over (order by step), (select max(at_ms) from rb_commits)) as end_ms
  from rb_steps),
-- every partition also gets a point at each step's end, so a partition that committed
-- nothing in a step counts its whole open gap (flagged: it had not resumed by then)
x as (
  select topic, partition, at_ms, false as open from rb_commits
  union all
  select p.topic, p.partition, s.end_ms, true from (select distinct topic, partition from rb_commits) p cross join s),
c as (
  select topic, partition, at_ms, open, at_ms - lag(at_ms) over (partition by topic, partition order by at_ms, open) as gap
  from x),
base as (
  select percentile_cont(0.5) within group (order by gap) as p50,
         percentile_cont(0.99) within group (order by gap) as p99
  from c join s on s.step = 0 and not c.open and c.at_ms > s.t_ms + 1000 and c.at_ms <= s.end_ms),
per as (   -- each partition's longest gap ending in the step, and when it ended
  select distinct on (s.step, c.topic, c.partition) s.step, c.topic, c.partition, c.gap, c.at_ms, c.open
  from s join c on c.at_ms > s.t_ms and c.at_ms <= s.end_ms
  order by s.step, c.topic, c.partition, c.gap desc nulls last)
select format('%-18s %-13s stall max %6s ms  median %5s ms  stalled >%s ms: %s of %s (%s not resumed in the step)  resumed %6s ms after  (steady gap p50 %s ms, p99 %s ms)',
              '$label', s.name, max(per.gap), percentile_cont(0.5) within group (order by per.gap)::bigint, $stall_ms,
              count(*) filter (where per.gap > $stall_ms), count(*), count(*) filter (where per.open and per.gap > $stall_ms),
              coalesce(max(per.at_ms) filter (where per.gap > $stall_ms) - s.t_ms, 0),
              (select p50::bigint from base), (select p99::bigint from base))
from s join per on per.step = s.step
where s.step > 0
group by s.step, s.name, s.t_ms order by s.step"
}

pass() {   # pass LABEL PROPS
    local label=$1 props=$2 prefix=bench.$run.$1. group=bench-$run-$1 dsn w1 w2 w3 prod
    dsn=$(new_db "$label")
    "$bin/tools/admin/shopstream-admin" create-topics --brokers "$brokers" --prefix "$prefix" \
        --partitions "$partitions" >/dev/null 2>&1
    "$bin/bench/rebalance/rb-produce" --brokers "$brokers" --prefix "$prefix" --rate "$rate" \
        --seconds $((step_s * 6 + 2)) >"$tmp/$label.produced" &
    prod=$!
    pids+=("$prod")
    start_worker "$dsn" "$group" "$prefix" "$label-w1" "$props"; w1=$WPID
    step "$dsn" 0 "one worker"
    sleep "$step_s"
    step "$dsn" 1 "join (1->2)"; start_worker "$dsn" "$group" "$prefix" "$label-w2" "$props"; w2=$WPID
    sleep "$step_s"
    step "$dsn" 2 "join (2->3)"; start_worker "$dsn" "$group" "$prefix" "$label-w3" "$props"; w3=$WPID
    sleep "$step_s"
    step "$dsn" 3 "leave (3->2)"; stop_worker "$w3"
    sleep "$step_s"
    step "$dsn" 4 "leave (2->1)"; stop_worker "$w2"
    sleep "$step_s"
    step "$dsn" 5 "end"
    wait "$prod"
    local total acked; acked=$(cat "$tmp/$label.produced")
    # What the topics hold (their end offsets, as shopstream-admin reads them): the figure
    # the group must reach. It differs from what the producer saw acknowledged only if the
    # broker lost or the producer miscounted records; said, never hidden.
    total=$("$bin/tools/admin/shopstream-admin" replay --group "$group" --to-earliest --dry-run --dsn "$dsn" \
                --brokers "$brokers" --prefix "$prefix" --role projector 2>/dev/null |
            awk '$1 ~ /[.](browse|cart|catalog)[.]v1$/ { n += $5 } END { print n + 0 }')
    [ "$total" = "$acked" ] ||
        echo "warning: $label: the producer saw $acked records acknowledged, the topics hold $total"
    local deadline=$(( $(date +%s) + 120 ))
    until [ "$(q "$dsn" "select coalesce(sum(next_offset), 0) from consumer_offsets where topic ~ '[.](browse|cart|catalog)[.]v1$'")" = "$total" ]; do
        [ "$(date +%s)" -ge "$deadline" ] && { echo "$label: the group did not catch up with $total records" >&2; exit 1; }
        sleep 0.5
    done
    stop_worker "$w1"
    grep -h -m1 -o 'protocol=[a-z]*' "$tmp/$label-w1.log" | sed "s/^/$label: /" >&2
    report "$dsn" "$label" | sed '$d'   # the last step ("end") only bounds the one before
    echo "$label: $total records at $rate/s on browse, cart and catalog: $((partitions * 3)) partitions measured of the group's $((partitions * 5))" >&2
    LAST_PREFIX=$prefix LAST_TOTAL=$total
}

echo "rebalance bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), $(date -u +%FT%TZ)"
for a in $assignors; do
    props=""
    case "$a" in *-hb[0-9]*) props="heartbeat.interval.ms=${a##*-hb}" ;; esac
    case "${a%%-hb*}" in
        eager) props="partition.assignment.strategy=range,roundrobin${props:+;$props}" ;;
        cooperative) props="partition.assignment.strategy=cooperative-sticky${props:+;$props}" ;;
        *) echo "unknown assignor $a (eager, cooperative, either with -hbMS for heartbeat.interval.ms)" >&2; exit 2 ;;
    esac
    pass "$a" "$props${RB_EXTRA_PROPS:+;$RB_EXTRA_PROPS}"
done

if [ "$drain" = 1 ]; then
    dsn=$(new_db drain)

    start_worker "$dsn" "bench-$run-drain" "$LAST_PREFIX" drain ""
    w=$WPID
    deadline=$(( $(date +%s) + 300 ))
    until [ "$(q "$dsn" "select coalesce(sum(next_offset), 0) from consumer_offsets where topic ~ '[.](browse|cart|catalog)[.]v1$'")" = "$LAST_TOTAL" ]; do
        [ "$(date +%s)" -ge "$deadline" ] && { echo "drain did not finish" >&2; exit 1; }
        sleep 0.2
    done
    stop_worker "$w"
    q "$dsn" "select format('drain: one projector, %s records in %s ms from its first commit to its last: %s records/s',
                            $LAST_TOTAL, max(at_ms) - min(at_ms), round($LAST_TOTAL * 1000.0 / greatest(max(at_ms) - min(at_ms), 1)))
              from rb_commits"
fi
