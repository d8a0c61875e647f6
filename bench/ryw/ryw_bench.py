#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What read-your-writes costs a read (docs/benchmarks.md "bench/ryw").

Against a running edge and projector (bench/ryw/run.sh starts both, with their own
database and topics), while a generator posts other users' cart events in batches so the
projector is busy, N write-then-read pairs at C concurrency, each for a user of its own:
POST /v1/events one cart.item_added, then at once GET /v1/me/cart. The pairs take turns:

  after  the read sends X-Shopstream-After (the 202's position) and Prefer: wait=N;
  plain  the same read without it: the raw limit of the same machine, in the same run;
  poll   the read without it, repeated every --poll-ms until the body shows the write:
         the pipeline's own write-to-visible latency (edge -> Kafka -> projector -> PG).

Prints p50/p99 (ms) of each, after - plain and after / plain, how many after-reads were
fresh and showed their write, and how many plain reads did (the eventual read's odds).

  ryw_bench.py --url http://127.0.0.1:PORT [--pairs 2000] [--concurrency 20] [--wait 10]
               [--load-batch 100] [--load-interval-ms 100] [--load-threads 2] [--poll-ms 5]

SHOPSTREAM_JWT_SECRET signs the tokens (HS256). Debian's python3, standard library only.
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from shop_http import Client, load_loop, mint, percentile as pct  # noqa: E402


def shows(data, user, product, qty):
    cart = json.loads(data)
    return cart.get("user_id") == user and any(
        it.get("product_id") == product and it.get("quantity") == qty for it in cart.get("items", []))


def one_pair(cli, secret, run, i, kind, args):
    """Returns a dict: kind, post_ms, read_ms (the one read; poll: to visible), cons, right."""
    user, product, qty = f"{run}-u{i}", f"{run}-p{i}", i % 10000 + 1
    token = mint(secret, user)
    auth = {"Authorization": f"Bearer {token}"}
    body = json.dumps({"events": [{"type": "cart.item_added", "product_id": product, "quantity": qty}]})
    t0 = time.monotonic()
    st, hdrs, _ = cli.request("POST", "/v1/events", body, dict(auth, **{"Content-Type": "application/json"}))
    t1 = time.monotonic()
    if st != 202:
        return {"kind": kind, "error": f"post {st}"}
    out = {"kind": kind, "post_ms": (t1 - t0) * 1000}
    read_hdrs = dict(auth)
    if kind == "after":
        read_hdrs["X-Shopstream-After"] = hdrs.get("x-shopstream-position", "")
        read_hdrs["Prefer"] = f"wait={args.wait}"
    while True:
        t2 = time.monotonic()
        st, hdrs, data = cli.request("GET", "/v1/me/cart", None, read_hdrs)
        t3 = time.monotonic()
        if st != 200:
            return {"kind": kind, "error": f"read {st}"}
        right = shows(data, user, product, qty)
        if kind != "poll" or right or t3 - t1 > 10:
            break
        time.sleep(args.poll_ms / 1000.0)
    out["read_ms"] = (t3 - t2) * 1000 if kind != "poll" else (t3 - t1) * 1000
    out["cons"] = hdrs.get("x-shopstream-consistency", "none")
    out["right"] = right
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--wait", type=int, default=10)
    ap.add_argument("--load-batch", type=int, default=100)
    ap.add_argument("--load-interval-ms", type=int, default=100)
    ap.add_argument("--load-threads", type=int, default=2)
    ap.add_argument("--poll-ms", type=float, default=5)
    ap.add_argument("--run", default=f"rywb{os.getpid()}")
    args = ap.parse_args()
    secret = os.environ.get("SHOPSTREAM_JWT_SECRET")
    if not secret:
        sys.exit("SHOPSTREAM_JWT_SECRET is not set")
    url = urllib.parse.urlsplit(args.url)

    stop = threading.Event()
    sent = []
    service = mint(secret, f"{args.run}-gen", role="service")
    loaders = [threading.Thread(target=load_loop, daemon=True,
                                args=(Client(url.hostname, url.port), service, args.run, args.load_batch,
                                      args.load_interval_ms / 1000.0, stop,
                                      lambda st, n: sent.append(n) if st == 202 else None))
               for _ in range(args.load_threads)]
    for t in loaders:
        t.start()
    time.sleep(1.0)

    kinds = ("after", "plain", "poll")
    lock = threading.Lock()
    nxt = [0]
    results = []

    def worker():
        cli = Client(url.hostname, url.port)
        while True:
            with lock:
                i = nxt[0]
                if i >= args.pairs:
                    return
                nxt[0] += 1
            try:
                r = one_pair(cli, secret, args.run, i, kinds[i % 3], args)
            except (http.client.HTTPException, OSError, ValueError) as exc:
                r = {"kind": kinds[i % 3], "error": repr(exc)}
            with lock:
                results.append(r)

    load_before = sum(sent)
    t0 = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    secs = time.monotonic() - t0
    load_events = sum(sent) - load_before
    stop.set()
    for t in loaders:
        t.join()

    ok = [r for r in results if "error" not in r]
    errors = len(results) - len(ok)
    by = {k: [r for r in ok if r["kind"] == k] for k in kinds}
    lat = {k: [r["read_ms"] for r in by[k]] for k in kinds}
    print(f"ryw: {len(results)} write-then-read pairs at {args.concurrency} concurrency in {secs:.1f} s, "
          f"errors {errors}; load {load_events} other events during them ({load_events / secs:.0f}/s)")
    print(f"  {'read':<34} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    names = {"after": "with X-Shopstream-After (waits)", "plain": "without it (raw, same run)",
             "poll": "write-to-visible (poll, from 202)"}
    for k in kinds:
        print(f"  {names[k]:<34} {len(lat[k]):>5} {pct(lat[k], 50):>8.1f} {pct(lat[k], 99):>8.1f}")
    post = [r["post_ms"] for r in ok]
    print(f"  {'the POST itself (all pairs)':<34} {len(post):>5} {pct(post, 50):>8.1f} {pct(post, 99):>8.1f}")
    for p in (50, 99):
        a, b = pct(lat["after"], p), pct(lat["plain"], p)
        print(f"  p{p}: after - plain = {a - b:.1f} ms, after / plain = {a / b if b > 0 else float('nan'):.2f}")
    fresh = sum(1 for r in by["after"] if r["cons"] == "fresh" and r["right"])
    stale = sum(1 for r in by["after"] if r["cons"] == "stale")
    plain_right = sum(1 for r in by["plain"] if r["right"])
    print(f"  after-reads fresh and showing the write: {fresh}/{len(by['after'])} (stale {stale}); "
          f"plain reads that showed it anyway: {plain_right}/{len(by['plain'])}")
    sys.exit(0 if errors == 0 and fresh == len(by["after"]) else 1)


if __name__ == "__main__":
    main()
