#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Compares two runs' ML read models, dumped by ml_dump (tests/integration/ml/lib.sh) as
# JSON, independently of workers/: every user's recommendations (items in order, scores
# within a tiny relative tolerance, neighbours of equal score may swap), the popularity
# list, every product's similar list and forecast, every user's segment and features, the
# segments (size, centre, label, profile), the published models (version, training time,
# metrics) and the latest checkpoints (offsets covered, watermark, state version, model
# versions, and the state's and every snapshot's bytes, which the core writes
# canonically). Prints what it compared and every difference (the first few of each
# kind); exit 1 when any.
#   compare.py DIR_A DIR_B [--rel 1e-9] [--content] [--note FIELD]...
# --content also requires both runs to hold something worth comparing (users with model
# recommendations, several segments, similar lists, forecasts, every model trained), so
# an empty or stalled run can never pass as "equal".
# --note FIELD reports differences of FIELD (e.g. updated_at_ms) without failing on them.
import argparse
import json
import math
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("a")
ap.add_argument("b")
ap.add_argument("--rel", type=float, default=1e-9)
ap.add_argument("--abs", type=float, default=1e-12)
ap.add_argument("--content", action="store_true")
ap.add_argument("--note", action="append", default=[])
ap.add_argument("--no-checkpoint", action="store_true")
args = ap.parse_args()

diffs = {}     # kind -> [text]
notes = {}
said = []


def differ(kind, text):
    diffs.setdefault(kind, []).append(text)


def note(kind, text):
    notes.setdefault(kind, []).append(text)


def load(d, name):
    with open(os.path.join(d, name + ".json")) as f:
        return json.load(f)


def close(x, y):
    if x is None or y is None:
        return x is y
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return abs(x - y) <= max(args.abs, args.rel * max(abs(x), abs(y)))
    return x == y


def close_list(xs, ys):
    return xs is not None and ys is not None and len(xs) == len(ys) and all(close(x, y) for x, y in zip(xs, ys))


def close_obj(x, y):
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(close_obj(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(close_obj(p, q) for p, q in zip(x, y))
    return close(x, y)


def ranked(kind, key, ia, sa, ib, sb, cap):
    """Two best-first lists: equal scores position by position; the items equal except
    inside a run of equal scores, where only the set must match (a run cut by the list's
    cap, at its end, may hold different members of the tie)."""
    if len(ia) != len(ib) or len(sa) != len(sb):
        differ(kind, "%s: %d items vs %d" % (key, len(ia), len(ib)))
        return
    for i, (x, y) in enumerate(zip(sa, sb)):
        if not close(x, y):
            differ(kind, "%s: score #%d %r (%s) vs %r (%s)" % (key, i, x, ia[i], y, ib[i]))
            return
    i = 0
    while i < len(ia):
        j = i + 1
        while j < len(ia) and close(sa[j], sa[i]):
            j += 1
        if ia[i:j] != ib[i:j]:
            cut = j == len(ia) and len(ia) >= cap
            if set(ia[i:j]) != set(ib[i:j]) and not cut:
                differ(kind, "%s: items #%d..%d %s vs %s (scores %r)" % (key, i, j - 1, ia[i:j], ib[i:j], sa[i]))
                return
        i = j


def fields(kind, key, ra, rb, names):
    for n in names:
        if n not in ra and n not in rb:
            continue
        x, y = ra.get(n), rb.get(n)
        if close_obj(x, y):
            continue
        text = "%s: %s %s vs %s" % (key, n, json.dumps(x)[:200], json.dumps(y)[:200])
        (note if n in args.note else differ)(kind, text)


def keyed(kind, rows_a, rows_b, key):
    a = {r[key]: r for r in rows_a}
    b = {r[key]: r for r in rows_b}
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a:
        differ(kind, "only in A: %d (%s)" % (len(only_a), ", ".join(map(str, only_a[:8]))))
    if only_b:
        differ(kind, "only in B: %d (%s)" % (len(only_b), ", ".join(map(str, only_b[:8]))))
    return [(k, a[k], b[k]) for k in sorted(set(a) & set(b))]


A, B = args.a, args.b

# Recommendations: per user.
ra, rb = load(A, "user_recs"), load(B, "user_recs")
cap = max([len(r["items"]) for r in ra + rb] or [0])
pairs = keyed("user_recs", ra, rb, "user_id")
for k, x, y in pairs:
    fields("user_recs", k, x, y, ["model_version", "fallback", "updated_at_ms"])
    ranked("user_recs", k, x["items"], x["scores"], y["items"], y["scores"], cap)
n_model_users = sum(1 for r in ra if not r["fallback"] and r["items"])
said.append("%d users' recommendations (%d from the model, not the fallback; lists up to %d)" % (len(pairs), n_model_users, cap))

pa, pb = load(A, "popular"), load(B, "popular")
if len(pa) != len(pb):
    differ("popular", "%d rows vs %d" % (len(pa), len(pb)))
for x, y in zip(pa, pb):
    fields("popular", "popular", x, y, ["model_version", "updated_at_ms"])
    ranked("popular", "popular", x["items"], x["scores"], y["items"], y["scores"], len(x["items"]))
said.append("the popularity list (%d items)" % (len(pa[0]["items"]) if pa else 0))

sa_, sb_ = load(A, "similar"), load(B, "similar")
cap = max([len(r["items"]) for r in sa_ + sb_] or [0])
pairs = keyed("similar", sa_, sb_, "product_id")
for k, x, y in pairs:
    fields("similar", k, x, y, ["model_version", "updated_at_ms"])
    ranked("similar", k, x["items"], x["scores"], y["items"], y["scores"], cap)
n_similar = len(pairs)
said.append("%d products' similar lists" % n_similar)

pairs = keyed("user_segments", load(A, "user_segments"), load(B, "user_segments"), "user_id")
for k, x, y in pairs:
    fields("user_segments", k, x, y, ["segment", "model_version", "features", "updated_at_ms"])
said.append("%d users' segments and features" % len(pairs))

sega = load(A, "segments")
pairs = keyed("segments", sega, load(B, "segments"), "segment")
for k, x, y in pairs:
    fields("segments", "segment %s" % k, x, y, ["model_version", "size", "centre", "label", "profile"])
said.append("%d segments" % len(pairs))

fa = load(A, "forecasts")
pairs = keyed("forecasts", fa, load(B, "forecasts"), "product_id")
for k, x, y in pairs:
    fields("forecasts", k, x, y, ["model_version", "method", "start_date", "daily", "updated_at_ms"])
said.append("%d products' forecasts" % len(pairs))

ma = load(A, "models")
pairs = keyed("models", ma, load(B, "models"), "model")
for k, x, y in pairs:
    fields("models", k, x, y, ["version", "trained_at_ms", "watermark_ms", "metrics"])
said.append("models " + ", ".join("%s v%s" % (m["model"], m["version"]) for m in ma))

if not args.no_checkpoint:
    ca, cb = load(A, "checkpoint"), load(B, "checkpoint")
    if len(ca) != 1 or len(cb) != 1:
        differ("checkpoint", "latest checkpoints: %d in A, %d in B" % (len(ca), len(cb)))
    else:
        x, y = ca[0], cb[0]
        oa = sorted((o["topic"], o["partition"], o["offset"]) for o in x["offsets"])
        ob = sorted((o["topic"], o["partition"], o["offset"]) for o in y["offsets"])
        if oa != ob:
            differ("checkpoint", "offsets %s vs %s" % (oa, ob))
        for n in ("watermark_ms", "state_version"):
            if x.get(n) != y.get(n):
                differ("checkpoint", "%s %s vs %s" % (n, x.get(n), y.get(n)))
        sna = {s["model"]: s for s in x["snapshots"] or []}
        snb = {s["model"]: s for s in y["snapshots"] or []}
        if sna.keys() != snb.keys():
            differ("checkpoint", "snapshot models %s vs %s" % (sorted(sna), sorted(snb)))
        for m in sorted(set(sna) & set(snb)):
            fields("checkpoint", "snapshot " + m, sna[m], snb[m], ["version", "format", "trained_at_ms", "metrics"])
            # The core's records are canonical (mlw_order.h): equal state, equal bytes.
            if sna[m]["md5"] != snb[m]["md5"]:
                differ("checkpoint", "snapshot %s: payload bytes differ (%d vs %d bytes)" % (m, sna[m]["len"], snb[m]["len"]))
        if x["state_md5"] != y["state_md5"]:
            differ("checkpoint", "state bytes differ (%d vs %d bytes)" % (x["state_len"], y["state_len"]))
        said.append("the latest checkpoints (%d offsets, watermark %s, snapshots %s)" %
                    (len(oa), x["watermark_ms"], ", ".join("%s v%s" % (m, sna[m]["version"]) for m in sorted(sna))))

if args.content:
    versions = {m["model"]: m["version"] for m in ma}
    if n_model_users < 50:
        differ("content", "only %d users have recommendations from the model" % n_model_users)
    if len(sega) < 2:
        differ("content", "only %d segments" % len(sega))
    if n_similar < 10:
        differ("content", "only %d similar lists" % n_similar)
    if len(fa) < 10:
        differ("content", "only %d forecasts" % len(fa))
    for m in ("recommend", "segment", "forecast"):
        if versions.get(m, 0) < 2:
            differ("content", "model %s was not retrained (version %s)" % (m, versions.get(m)))

print("compared: " + "; ".join(said))
for kind, texts in sorted(notes.items()):
    print("note: %s: %d differences (not failing), e.g. %s" % (kind, len(texts), " | ".join(texts[:3])))
for kind, texts in sorted(diffs.items()):
    print("DIFFERENT %s: %d" % (kind, len(texts)))
    for t in texts[:8]:
        print("  " + t)
sys.exit(1 if diffs else 0)
