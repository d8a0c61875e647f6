#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Scores the running system's ML answers at one cutoff against Online Retail itself.
# The split, the truth and every baseline are computed here from the data file, not
# from anything the system stores: recommendations (GET /v1/me/recommendations?limit=20)
# against what each customer bought after the cutoff that they had never bought before,
# beside a popularity list on the same split; segments (GET /v1/me/segment) by their
# silhouette on the RFM matrix, beside scikit-learn's KMeans at the same k; forecasts
# (GET /v1/products/{id}/forecast?days=14) by MASE, beside seasonal naive.
# Bench-only (docs/ml.md "Measured through the system").
#
#   score.py --data DIR --cutoff YYYY-MM-DD --url URL --token-bin PATH [--json OUT]
#   score.py --data DIR --cutoff YYYY-MM-DD --stand-in   (no system: checks the scoring)
#
# --stand-in answers in place of the system with the baselines themselves (popularity
# for recommendations, KMeans from another seed for segments, seasonal naive for
# forecasts) and an oracle, so every ratio must come out 1 and the oracle's recall 1.
import argparse
import concurrent.futures
import csv
import gzip
import http.client
import json
import math
import os
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict

DAY_MS = 86400000
K = 20
QUANTITY_MAX = 10000     # the edge's limit: the replay drops larger lines, so does the truth
FORECAST_TOP = 100
FORECAST_DAYS = 14
SEASON = 7


def day_ms(text):
    """'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (UTC) to epoch ms, as tools/retail parses."""
    y, mo, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
    h = mi = s = 0
    if len(text) > 10:
        h, mi, s = int(text[11:13]), int(text[14:16]), int(text[17:19])
    # days_from_civil (Howard Hinnant), as tools/retail/retail.c
    y -= mo <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return ((days * 24 + h) * 60 + mi) * 60000 + s * 1000


def date_of(day):
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))


def pence(text):
    """Decimal text to pence, rounding half up at the third decimal, as tools/retail."""
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    milli = int((frac + "000")[:3])
    v = int(whole or "0") * 100 + (milli + 5) // 10
    return -v if neg else v


def load(data_dir):
    """Clean product purchases (tools/retail: a customer, not a cancellation, quantity and
    price > 0, a five-digit stock code) and customers' cancellations (for best sellers)."""
    path = os.path.join(data_dir, "online-retail", "online_retail.csv.gz")
    buys, cancels = [], []
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        for inv, code, _desc, qty, date, price, cust, _country in r:
            if not cust or not (len(code) >= 5 and code[:5].isdigit()):
                continue
            q, p, t = int(qty), pence(price), day_ms(date)
            user = "c%d" % int(cust)
            if inv.startswith("C"):
                cancels.append((user, code, q, t))
            elif q > 0 and p > 0 and q <= QUANTITY_MAX:
                buys.append((user, code, q, p, t, inv))
    return buys, cancels


# ---- recommendations --------------------------------------------------------------


def reco_split(buys, cutoff_ms, until_ms=None):
    """What each customer bought before the cutoff, and the products they bought after
    it (before until_ms, when given: a validation split) that they had never bought."""
    bought, new = defaultdict(set), defaultdict(set)
    for user, code, _q, _p, t, _inv in buys:
        if t < cutoff_ms:
            bought[user].add(code)
    for user, code, _q, _p, t, _inv in buys:
        if t >= cutoff_ms and (until_ms is None or t < until_ms) and user in bought and code not in bought[user]:
            new[user].add(code)
    return bought, new


def popularity(buys, cutoff_ms, since_ms=None):
    """Products by distinct buyers before the cutoff (ties by id): the popularity list."""
    buyers = defaultdict(set)
    for user, code, _q, _p, t, _inv in buys:
        if t < cutoff_ms and (since_ms is None or t >= since_ms):
            buyers[code].add(user)
    return sorted(buyers, key=lambda c: (-len(buyers[c]), c))


def top_excluding(ranking, exclude, k=K):
    out = []
    for c in ranking:
        if c not in exclude:
            out.append(c)
            if len(out) == k:
                break
    return out


def rank_metrics(ranked, relevant):
    hits = [i for i, c in enumerate(ranked[:K]) if c in relevant]
    dcg = sum(1.0 / math.log2(i + 2) for i in hits)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), K)))
    return len(hits) / len(relevant), 1.0 if hits else 0.0, dcg / idcg


def mean_metrics(lists, new):
    tot = [0.0, 0.0, 0.0]
    for user, rel in new.items():
        m = rank_metrics(lists.get(user, []), rel)
        for i in range(3):
            tot[i] += m[i]
    n = len(new)
    return [x / n for x in tot] if n else [0.0, 0.0, 0.0]


# ---- segments ------------------------------------------------------------------------


def rfm_matrix(buys, cutoff_ms):
    """Per customer before the cutoff: recency in days (days since the last order's day,
    at the last day before the cutoff), log1p(orders), log1p(spend in pounds), each
    column standardised (mean 0, population sd 1), as ml_features does."""
    import numpy as np
    last, orders, spend = {}, defaultdict(set), defaultdict(float)
    for user, _code, q, p, t, inv in buys:
        if t < cutoff_ms:
            last[user] = max(last.get(user, 0), t // DAY_MS)
            orders[user].add(inv)
            spend[user] += q * p / 100.0
    users = sorted(last)
    now = max(last.values())
    x = np.array([[now - last[u], math.log1p(len(orders[u])), math.log1p(spend[u])] for u in users])
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return users, (x - x.mean(axis=0)) / sd


def silhouette(x, labels):
    from sklearn.metrics import silhouette_score
    return float(silhouette_score(x, labels)) if len(set(labels)) > 1 else float("nan")


def sklearn_kmeans(x, k, seed=0):
    from sklearn.cluster import KMeans
    return KMeans(n_clusters=k, n_init=10, algorithm="lloyd", random_state=seed).fit(x).labels_


# ---- forecasts -----------------------------------------------------------------------


def forecast_series(buys, cancels, cutoff_ms):
    """The 100 best sellers before the cutoff (units net of customers' cancellations, as
    ml-eval) and each one's daily units from the data's first day to the cutoff + 14 days."""
    net = defaultdict(int)
    for _user, code, q, _p, t, _inv in buys:
        if t < cutoff_ms:
            net[code] += q
    for _user, code, q, t in cancels:
        if t < cutoff_ms:
            net[code] += q
    top = sorted(net, key=lambda c: (-net[c], c))[:FORECAST_TOP]
    day0 = min(b[4] for b in buys) // DAY_MS
    origin = cutoff_ms // DAY_MS - day0
    series = {c: [0.0] * (origin + FORECAST_DAYS) for c in top}
    for _user, code, q, _p, t, _inv in buys:
        d = t // DAY_MS - day0
        if code in series and d < origin + FORECAST_DAYS:
            series[code][d] += q
    return top, series, origin, day0


def mase_scale(y):
    return sum(abs(y[t] - y[t - SEASON]) for t in range(SEASON, len(y))) / (len(y) - SEASON)


def seasonal_naive(y, origin):
    return [y[origin - SEASON + (h % SEASON)] for h in range(FORECAST_DAYS)]


# ---- the system over HTTP -------------------------------------------------------------


class Api:
    def __init__(self, url, token_bin, cache_path, threads):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.token_bin, self.cache_path, self.threads = token_bin, cache_path, threads
        self.tokens = {}
        if cache_path and os.path.exists(cache_path):
            with open(cache_path) as f:
                self.tokens = json.load(f)

    def mint(self, subs, role=None):
        """Tokens from tools/token (shopstream-token), minted once and kept in the cache."""
        def one(sub):
            args = [self.token_bin, "--sub", sub, "--ttl-s", "86400"] + (["--role", role] if role else [])
            return sub, subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
        key = lambda s: s if role is None else role + ":" + s
        missing = [s for s in subs if key(s) not in self.tokens]
        with concurrent.futures.ThreadPoolExecutor(self.threads) as ex:
            for sub, tok in ex.map(one, missing):
                self.tokens[key(sub)] = tok
        if self.cache_path and missing:
            with open(self.cache_path, "w") as f:
                json.dump(self.tokens, f)
        return {s: self.tokens[key(s)] for s in subs}

    def get_all(self, reqs):
        """reqs: [(key, path, token)] -> {key: (status, json or None)}, a connection per thread."""
        import threading
        local = threading.local()

        def one(req):
            key, path, tok = req
            for attempt in range(5):
                try:
                    if getattr(local, "conn", None) is None:
                        local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                    local.conn.request("GET", path, headers={"Authorization": "Bearer " + tok})
                    r = local.conn.getresponse()
                    body = r.read()
                    if r.status == 503 and attempt < 4:
                        time.sleep(0.2 * (attempt + 1))
                        continue
                    try:
                        return key, (r.status, json.loads(body) if body else None)
                    except ValueError:
                        return key, (r.status, None)
                except (OSError, http.client.HTTPException):
                    local.conn = None
                    time.sleep(0.2 * (attempt + 1))
            return key, (0, None)
        with concurrent.futures.ThreadPoolExecutor(self.threads) as ex:
            return dict(ex.map(one, reqs))


# ---- one cutoff ------------------------------------------------------------------------


def fmt(x, nd=4):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else ("%.*f" % (nd, x))


def ratio(a, b):
    return a / b if b else float("nan")


def run(args):
    cutoff_ms = day_ms(args.cutoff)
    t0 = time.time()
    buys, cancels = load(args.data)
    out = {"cutoff": args.cutoff, "stand_in": bool(args.stand_in)}
    until_ms = day_ms(args.truth_until) if args.truth_until else None
    if until_ms is not None and until_ms < cutoff_ms + FORECAST_DAYS * DAY_MS:
        raise SystemExit("--truth-until must be at least %d days after the cutoff" % FORECAST_DAYS)
    out["truth_until"] = args.truth_until
    bought, new = reco_split(buys, cutoff_ms, until_ms)
    users = sorted(bought)
    pop = popularity(buys, cutoff_ms)
    pop30 = popularity(buys, cutoff_ms, cutoff_ms - 30 * DAY_MS)
    pop_lists = {u: top_excluding(pop, bought[u]) for u in new}
    pop30_lists = {u: top_excluding(pop30, bought[u]) for u in new}
    api = None
    if not args.stand_in:
        api = Api(args.url, args.token_bin, args.tokens_cache, args.threads)

    # Recommendations: every customer known before the cutoff is asked; those with a new
    # product after it are scored.
    sys_lists, fallback, versions, status = {}, 0, defaultdict(int), defaultdict(int)
    if args.stand_in:
        sys_lists = dict(pop_lists)
        oracle = {u: sorted(new[u])[:K] for u in new}
    else:
        toks = api.mint(users)
        got = api.get_all([(u, "/v1/me/recommendations?limit=%d" % K, toks[u]) for u in users])
        for u, (st, body) in got.items():
            status[st] += 1
            if st != 200 or body is None:
                continue
            items = [it["product_id"] for it in body.get("items", [])]
            sys_lists[u] = items
            m = body.get("model") or {}
            fallback += bool(m.get("fallback"))
            versions[str(m.get("version"))] += 1
            # The endpoint must exclude what the customer bought: count any it did not.
            out.setdefault("rec_bought_returned", 0)
            out["rec_bought_returned"] += sum(1 for c in items if c in bought[u])
    s_m, p_m, p30_m = mean_metrics(sys_lists, new), mean_metrics(pop_lists, new), mean_metrics(pop30_lists, new)
    out["reco"] = {"users_asked": len(users), "users_scored": len(new),
                   "new_items": sum(len(v) for v in new.values()),
                   "system": s_m, "popularity": p_m, "popularity_30d": p30_m,
                   "status": dict(status), "fallback": fallback, "versions": dict(versions)}
    if args.stand_in:
        out["reco"]["oracle"] = mean_metrics(oracle, new)

    # Segments.
    seg_users, x = rfm_matrix(buys, cutoff_ms)
    labels, seg_status = {}, defaultdict(int)
    if args.stand_in:
        lab = sklearn_kmeans(x, args.stand_in_k, seed=1)
        labels = {u: int(lab[i]) for i, u in enumerate(seg_users)}
    else:
        toks = api.mint(seg_users)
        got = api.get_all([(u, "/v1/me/segment", toks[u]) for u in seg_users])
        for u, (st, body) in got.items():
            seg_status[st] += 1
            if st == 200 and body is not None and body.get("segment") is not None:
                labels[u] = body["segment"]
    idx = [i for i, u in enumerate(seg_users) if u in labels]
    sys_lab = [labels[seg_users[i]] for i in idx]
    k = len(set(sys_lab))
    seg = {"users": len(seg_users), "labelled": len(idx), "k": k, "status": dict(seg_status)}
    if k > 1:
        xs = x[idx]
        seg["system"] = silhouette(xs, sys_lab)
        seg["sklearn"] = silhouette(xs, list(sklearn_kmeans(xs, k)))
        sizes = defaultdict(int)
        for l in sys_lab:
            sizes[l] += 1
        seg["sizes"] = {str(a): b for a, b in sorted(sizes.items(), key=lambda kv: str(kv[0]))}
    out["segment"] = seg

    # Forecasts (only where the data holds the 14 days after the cutoff).
    last_day = max(b[4] for b in buys) // DAY_MS
    if cutoff_ms // DAY_MS + FORECAST_DAYS > last_day + 1:
        out["forecast"] = {"products": 0, "scored": 0, "status": {},
                           "note": "the data ends on %s: no 14 days after the cutoff" % date_of(last_day)}
        out["seconds"] = time.time() - t0
        return out
    top, series, origin, day0 = forecast_series(buys, cancels, cutoff_ms)
    dates = [date_of(day0 + origin + h) for h in range(FORECAST_DAYS)]
    fc_sys, fc_status, methods, starts = {}, defaultdict(int), defaultdict(int), defaultdict(int)
    if args.stand_in:
        fc_sys = {c: seasonal_naive(series[c], origin) for c in top}
    else:
        admin = api.mint(["ml-system-bench"], role="admin")["ml-system-bench"]
        got = api.get_all([(c, "/v1/products/%s/forecast?days=%d" % (urllib.parse.quote(c), FORECAST_DAYS), admin)
                           for c in top])
        # A forecast that starts before the cutoff (made at the last retrain) is asked
        # again for enough days to cover the 14 after it (at most 28: the edge's limit),
        # and scored on those dates; how far each one started before is reported.
        def first_date(body):
            daily = (body or {}).get("daily") or []
            return daily[0]["date"] if daily else None
        again = []
        for c, (st, body) in got.items():
            fd = first_date(body) if st == 200 else None
            if fd is not None and fd < dates[0]:
                lead = (day_ms(dates[0]) - day_ms(fd)) // DAY_MS
                if lead + FORECAST_DAYS <= 28:
                    again.append((c, "/v1/products/%s/forecast?days=%d" % (urllib.parse.quote(c), lead + FORECAST_DAYS),
                                  admin))
        got.update(api.get_all(again))
        for c, (st, body) in got.items():
            fc_status[st] += 1
            if st != 200 or body is None:
                continue
            by_date = {d["date"]: float(d["quantity"]) for d in body.get("daily", [])}
            methods[str(body.get("method"))] += 1
            fd = first_date(body)
            if fd is not None:
                starts[str((day_ms(dates[0]) - day_ms(fd)) // DAY_MS)] += 1
            if all(d in by_date for d in dates):
                fc_sys[c] = [by_date[d] for d in dates]
            else:
                out.setdefault("forecast_dates_missing", []).append(c)
    s_sum = n_sum = l_sum = 0.0
    n = wins = 0
    for c in top:
        y = series[c]
        scale = mase_scale(y[:origin])
        if not scale > 0 or c not in fc_sys:
            continue
        truth = y[origin:origin + FORECAST_DAYS]
        sn = seasonal_naive(y, origin)
        ms = sum(abs(a - b) for a, b in zip(truth, fc_sys[c])) / FORECAST_DAYS / scale
        mn = sum(abs(a - b) for a, b in zip(truth, sn)) / FORECAST_DAYS / scale
        # Seasonal naive from the day before the cutoff, without its last day: what the
        # system knows at a cutoff (a day is closed by the next day's first event).
        late = [y[origin - 1 - SEASON + (h % SEASON)] for h in range(1, FORECAST_DAYS + 1)]
        l_sum += sum(abs(a - b) for a, b in zip(truth, late)) / FORECAST_DAYS / scale
        s_sum += ms
        n_sum += mn
        n += 1
        wins += ms < mn
    out["forecast"] = {"products": len(top), "scored": n, "first_date": dates[0], "last_date": dates[-1],
                       "system": s_sum / n if n else None, "seasonal_naive": n_sum / n if n else None,
                       "seasonal_naive_day_before": l_sum / n if n else None,
                       "wins": wins, "status": dict(fc_status), "methods": dict(methods),
                       "days_started_before_cutoff": dict(starts),
                       "dates_missing": len(out.get("forecast_dates_missing", []))}
    out["seconds"] = time.time() - t0
    return out


def print_table(o):
    r, s, f = o["reco"], o["segment"], o["forecast"]
    print("\n== cutoff %s%s: %d customers asked, %d scored (%d new products bought after the cutoff%s) =="
          % (o["cutoff"], " (stand-in: the baselines answer for the system)" if o["stand_in"] else "",
             r["users_asked"], r["users_scored"], r["new_items"],
             ", before " + o["truth_until"] if o.get("truth_until") else ""))
    print("%-22s %10s %12s %8s %14s %8s" % ("metric", "system", "popularity", "ratio", "pop. last 30d", "ratio"))
    for i, name in enumerate(("recall@20", "HR@20", "NDCG@20")):
        print("%-22s %10s %12s %8s %14s %8s" % (
            name, fmt(r["system"][i]), fmt(r["popularity"][i]), fmt(ratio(r["system"][i], r["popularity"][i]), 2) + "x",
            fmt(r["popularity_30d"][i]), fmt(ratio(r["system"][i], r["popularity_30d"][i]), 2) + "x"))
    aim = ratio(r["system"][0], r["popularity"][0])
    print("  aim recall@20 >= 2.5x popularity: %s (%.2fx)" % ("met" if aim >= 2.5 else "MISSED", aim))
    if "oracle" in r:
        print("  oracle (the truth itself, for the check): recall@20 %s" % fmt(r["oracle"][0]))
    if not o["stand_in"]:
        print("  answers: %s; fallback lists %d; model versions %s; bought items returned %d"
              % (r["status"], r["fallback"], r["versions"], o.get("rec_bought_returned", 0)))
    print("%-22s %10s %12s %8s" % ("segments", "system", "sklearn", "diff"))
    if "system" in s:
        d = s["system"] - s["sklearn"]
        print("%-22s %10s %12s %8s" % ("silhouette (k=%d)" % s["k"], fmt(s["system"]), fmt(s["sklearn"]), "%+.4f" % d))
        print("  aim within 0.02 of scikit-learn KMeans(n_init=10): %s; %d of %d customers labelled, sizes %s"
              % ("met" if abs(d) <= 0.02 or d > 0 else "MISSED", s["labelled"], s["users"], s["sizes"]))
    else:
        print("  no segments to score (%d of %d customers labelled, k=%d, answers %s)"
              % (s["labelled"], s["users"], s["k"], s["status"]))
    print("%-22s %10s %12s %8s" % ("forecast", "system", "seas.naive", "ratio"))
    if f["scored"]:
        fr = ratio(f["system"], f["seasonal_naive"])
        print("%-22s %10s %12s %8s" % ("MASE, %s..%s" % (f["first_date"][5:], f["last_date"][5:]), fmt(f["system"]),
                                       fmt(f["seasonal_naive"]), fmt(fr, 2) + "x"))
        print("  aim <= 0.9x seasonal naive: %s; %d of %d products scored, system better on %d; methods %s"
              % ("met" if fr <= 0.9 else "MISSED", f["scored"], f["products"], f["wins"], f["methods"]))
        print("  seasonal naive without the last day before the cutoff (the system's origin): %s (system %sx)"
              % (fmt(f["seasonal_naive_day_before"]), fmt(ratio(f["system"], f["seasonal_naive_day_before"]), 2)))
        if not o["stand_in"]:
            print("  forecasts started this many days before the cutoff: %s; dates missing on %d"
                  % (f["days_started_before_cutoff"], f["dates_missing"]))
    else:
        print("  no forecasts to score (%s)" % f.get("note", "answers %s" % f["status"]))
    print("  (%.0f s)" % o["seconds"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--cutoff", required=True)
    ap.add_argument("--url")
    ap.add_argument("--token-bin")
    ap.add_argument("--tokens-cache")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--json")
    ap.add_argument("--truth-until", help="score only purchases before this date (a validation split)")
    ap.add_argument("--stand-in", action="store_true")
    ap.add_argument("--stand-in-k", type=int, default=4)
    ap.add_argument("--check", action="store_true",
                    help="with --stand-in: exit 1 unless every ratio is 1 and the oracle scores its bound")
    args = ap.parse_args()
    if not args.stand_in and not (args.url and args.token_bin):
        ap.error("--url and --token-bin are required (or --stand-in)")
    o = run(args)
    print_table(o)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(o, f, indent=1)
    return check(o, args) if args.check else 0


def check(o, args):
    """The scoring's own test: the stand-in answers with the baselines, so the system's
    figures must equal theirs; the oracle (the truth, cut to 20) must score recall
    mean(min(20, n) / n), HR 1 and NDCG 1; KMeans from another seed must land near."""
    if not args.stand_in:
        print("FAIL: --check needs --stand-in")
        return 1
    buys, _ = load(args.data)
    _, new = reco_split(buys, day_ms(args.cutoff), day_ms(args.truth_until) if args.truth_until else None)
    bound = sum(min(K, len(v)) / len(v) for v in new.values()) / len(new)
    r, s, f = o["reco"], o["segment"], o["forecast"]
    fails = []
    if r["system"] != r["popularity"]:
        fails.append("recommendations: stand-in %s != popularity %s" % (r["system"], r["popularity"]))
    if not (abs(r["oracle"][0] - bound) < 1e-12 and r["oracle"][1] == 1.0 and abs(r["oracle"][2] - 1.0) < 1e-12):
        fails.append("oracle %s, expected recall %.6f, HR 1, NDCG 1" % (r["oracle"], bound))
    if not (r["popularity"][0] > 0 and r["popularity"][0] < r["oracle"][0]):
        fails.append("popularity recall %s outside (0, oracle)" % r["popularity"][0])
    if s.get("labelled") != s.get("users") or abs(s.get("system", 9) - s.get("sklearn", 0)) > 0.02:
        fails.append("segments: %s" % s)
    if f["scored"] < 90 or f["system"] != f["seasonal_naive"]:
        fails.append("forecasts: %s" % f)
    for x in fails:
        print("FAIL: " + x)
    print("check: %s" % ("ok" if not fails else "%d failed" % len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
