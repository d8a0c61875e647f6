#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CTest smoke test of ml-eval: `ml-eval --quick` (Online Retail only, MovieLens never
# read) must exit 0 - its exactness and sanity checks passed - and print the result
# lines of every section. Figures are not compared with targets here.
# Usage: smoke_test.sh ML_EVAL DEFAULT_DATA_DIR; SHOPSTREAM_DATA_DIR overrides the dir.
# Exits 77 (skipped) when the Online Retail file is absent.
set -u
bin=$1
data=${SHOPSTREAM_DATA_DIR:-$2}
retail=$data/online-retail/online_retail.csv.gz

if [ ! -r "$retail" ]; then
    echo "skip: $retail not found (set SHOPSTREAM_DATA_DIR)"
    exit 77
fi
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }

out=$("$bin" --data "$data" --quick 2>&1)
rc=$?
echo "$out"
[ "$rc" = 0 ] || { echo "FAIL: ml-eval --quick exited with $rc"; exit 1; }

expect() {
    grep -Eq "$1" <<<"$out" || { echo "FAIL: no line matching: $1"; exit 1; }
}
num='[0-9]+\.[0-9]{4}'
expect '^== segment: Online Retail RFM, [0-9]+ customers'
expect '^ +8 +[0-9.]+ +n/a +n/a +[0-9.]+$'
expect 'refit from another seed: [0-9.]+% of customers keep their segment id'
expect '^speed: one segmentation update .* [0-9]+ ns/op'
expect '^MovieLens 100K: skipped in --quick mode$'
expect "^  Online Retail +popularity +[0-9]+ +$num +$num +$num +$num$"
expect "^  Online Retail +item-to-item \(H=200,K=200\) +[0-9]+ +$num +$num +$num +$num$"
expect "^  Online Retail +ALS \(k=64\) +[0-9]+ +$num +$num +$num +$num$"
expect "^  Online Retail +stale \+ fold-in +[0-9]+ +$num"
expect '^  Online Retail +H=200 .* streamed == batch recount'
expect '^  Online Retail: ALS HR@10 \(sampled\) above popularity: ok$'
expect '^  co-occurrence: streamed == batch recount: ok$'
expect "^selected per product \(holdout 28d\) +$num"
expect "^all origins( +$num){6}$"
expect '^check: rolling-origin selection below seasonal-naive: ok$'
expect '^speed: model selection per product'
if grep -q 'FAILED\|MISMATCH' <<<"$out"; then
    echo "FAIL: a check failed"
    exit 1
fi
echo "ok: ml-eval --quick completed and printed every section"
