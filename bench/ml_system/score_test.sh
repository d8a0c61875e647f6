#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# CTest: the scoring of bench/ml_system checked against itself (score.py --stand-in
# --check at one cutoff). Usage: score_test.sh DEFAULT_DATA_DIR; SHOPSTREAM_DATA_DIR
# overrides it. Exits 77 (skipped) without the data file or scikit-learn.
set -u
here=$(cd "$(dirname "$0")" && pwd)
data=${SHOPSTREAM_DATA_DIR:-$1}
[ -r "$data/online-retail/online_retail.csv.gz" ] || { echo "skip: no Online Retail under $data"; exit 77; }
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" -c 'import sklearn, numpy' 2>/dev/null || { echo "skip: $PY has no scikit-learn (python3-sklearn)"; exit 77; }
exec "$PY" "$here/score.py" --data "$data" --cutoff 2011-10-01 --stand-in --check
