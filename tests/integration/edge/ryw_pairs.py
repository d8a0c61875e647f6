#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Read-your-writes through the edge, from outside (Debian's python3, standard library only).

N write-then-read pairs at C concurrency, each for a user of its own: POST /v1/events one
cart.item_added of a product and a quantity only that pair uses, then at once
GET /v1/me/cart with X-Shopstream-After: <the 202's position>. Meanwhile a generator
posts other users' cart events in batches (a service token, user_id in the body), so the
projector is busy the whole time. A pair is right when the read says
X-Shopstream-Consistency: fresh AND its body is that user's cart holding exactly that
line: the header alone proves nothing.

  ryw_pairs.py --url http://127.0.0.1:PORT [--pairs 1000] [--concurrency 50] [--wait 10]
               [--load-batch 100] [--load-interval-ms 100] [--no-after]

SHOPSTREAM_JWT_SECRET signs the tokens (HS256, as shopstream-token). --no-after reads
without the header (a control: the check must then fail). Prints one summary line,
key=value; exits 0 only when every pair was fresh and right.
"""
import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "bench", "common"))
from shop_http import Client, load_loop, mint, percentile  # noqa: E402


def one_pair(cli, secret, run, i, args):
    """Returns (consistency, right, why, read seconds)."""
    user, product, qty = f"{run}-u{i}", f"{run}-p{i}", i % 10000 + 1
    token = mint(secret, user)
    body = json.dumps({"events": [{"type": "cart.item_added", "product_id": product, "quantity": qty,
                                   "unit_price": {"amount_minor": 100 + i, "currency": "GBP"}}]})
    st, hdrs, data = cli.request("POST", "/v1/events", body,
                                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    if st != 202:
        return "none", False, f"post {st} {data[:200]!r}", 0.0
    pos = hdrs.get("x-shopstream-position", "")
    if not pos or json.loads(data).get("position") != pos:
        return "none", False, "202 without the same position in header and body", 0.0
    read_hdrs = {"Authorization": f"Bearer {token}"}
    if not args.no_after:
        read_hdrs["X-Shopstream-After"] = pos
        read_hdrs["Prefer"] = f"wait={args.wait}"
    t0 = time.monotonic()
    st, hdrs, data = cli.request("GET", "/v1/me/cart", None, read_hdrs)
    took = time.monotonic() - t0
    cons = hdrs.get("x-shopstream-consistency", "none")
    if st != 200:
        return cons, False, f"read {st} {data[:200]!r}", took
    cart = json.loads(data)
    lines = [(it.get("product_id"), it.get("quantity")) for it in cart.get("items", [])]
    if cart.get("user_id") != user or lines != [(product, qty)]:
        return cons, False, f"cart of {user} shows {lines}, not [({product!r}, {qty})]", took
    return cons, True, "", took


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--wait", type=int, default=10, help="Prefer: wait=N of each read")
    ap.add_argument("--load-batch", type=int, default=100)
    ap.add_argument("--load-interval-ms", type=int, default=100)
    ap.add_argument("--load-threads", type=int, default=2)
    ap.add_argument("--run", default=f"ryw{os.getpid()}", help="prefix of the user and product ids")
    ap.add_argument("--no-after", action="store_true", help="control: read without X-Shopstream-After")
    args = ap.parse_args()
    secret = os.environ.get("SHOPSTREAM_JWT_SECRET")
    if not secret:
        sys.exit("SHOPSTREAM_JWT_SECRET is not set")
    url = urllib.parse.urlsplit(args.url)

    counts = {"load_events": 0, "load_refused": 0, "load_errors": 0}
    count_lock = threading.Lock()

    def count_load(st, n):
        with count_lock:
            if st is None:
                counts["load_errors"] += 1
            else:
                counts["load_events" if st == 202 else "load_refused"] += n

    stop = threading.Event()
    service = mint(secret, f"{args.run}-gen", role="service")
    loaders = [threading.Thread(target=load_loop, daemon=True,
                                args=(Client(url.hostname, url.port), service, args.run, args.load_batch,
                                      args.load_interval_ms / 1000.0, stop, count_load, 1))
               for _ in range(args.load_threads)]
    for t in loaders:
        t.start()
    time.sleep(1.0)   # the projector is busy before the first pair

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
                r = one_pair(cli, secret, args.run, i, args)
            except (http.client.HTTPException, OSError, ValueError) as exc:
                r = ("none", False, f"error {exc!r}", 0.0)
            with lock:
                results.append(r)

    started_load = counts["load_events"]
    t0 = time.monotonic()
    workers = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    secs = time.monotonic() - t0
    stop.set()
    for t in loaders:
        t.join()

    by_cons = {}
    for cons, _, _, _ in results:
        by_cons[cons] = by_cons.get(cons, 0) + 1
    right = sum(1 for _, ok, _, _ in results if ok)
    fresh_right = sum(1 for cons, ok, _, _ in results if ok and cons == "fresh")
    wrong = [why for _, ok, why, _ in results if not ok]
    lat = [took * 1000 for _, _, _, took in results if took > 0]
    for why in wrong[:10]:
        print(f"wrong: {why}")
    cons_text = " ".join(f"{k}={v}" for k, v in sorted(by_cons.items()))
    print(f"pairs={len(results)} concurrency={args.concurrency} {cons_text} body_right={right} "
          f"fresh_and_right={fresh_right} seconds={secs:.1f} "
          f"load_events_during={counts['load_events'] - started_load} load_refused={counts['load_refused']} "
          f"load_errors={counts['load_errors']} read_ms_p50={percentile(lat, 50):.1f} "
          f"read_ms_p99={percentile(lat, 99):.1f}")
    sys.exit(0 if fresh_right == args.pairs and len(results) == args.pairs else 1)


if __name__ == "__main__":
    main()
