#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The ML tests' history: a seeded, synthetic shop over several months of past event
# time (users with favourite categories browse, fill carts, order, sometimes cancel),
# posted through the edge as an import would be (the catalog as admin, every user's
# events as a service on their behalf, at their recorded times, with fixed event ids so
# a retry after a 503 is the same event). Orders of a scarce product run it out of stock
# and orders naming a product the catalog never had are rejected, so the inventory
# worker's outcomes carry reserved, rejected and released.
#
# The history is posted one simulated day at a time, in event-time order. With --throttle,
# after each day it waits until the inventory worker has decided and relayed everything
# posted (its lag 0, its outbox empty) before the next day goes: the ML worker then lives
# through the months with the outcomes of a day on the inventory topic before any later
# day's browsing exists, and every day's events interleave across partitions however the
# broker and the consumers take them. Without --throttle the days follow one another as
# fast as the edge takes them.
#
#   history.py post --url URL --seed S --users U --days D [--throttle --lag-cmd CMD --dsn DSN]
#                   [--summary FILE] [--progress FILE] [--pause-ms MS]   (tokens from ML_ADMIN_TOKEN and ML_SERVICE_TOKEN)
#   history.py plan --seed S --users U --days D    (counts only, posts nothing)
# --lag-cmd is a shell command printing the inventory group's total lag (one integer).
import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import uuid

T0_MS = 1775001600000            # 2026-04-01T00:00:00Z: the history is months in the past
DAY_MS = 86400000
NS = uuid.UUID("5d0f3c1e-6a43-4e5b-9a52-0b7e9c1a2f10")
CATEGORIES = ["mugs", "tea", "lamps", "cards", "toys", "bags", "garden", "candles"]
PER_CATEGORY = 8
SCARCE, SCARCE_STOCK = "p-scarce", 12
GHOST = "p-ghost"                # never in the catalog: orders naming it are rejected


def build(seed, n_users, n_days):
    """Returns (catalog events, [(day, [events in time order])], facts)."""
    rnd = random.Random(seed)
    products, price = [], {}
    for c in CATEGORIES:
        for i in range(PER_CATEGORY):
            pid = "p-%s-%d" % (c, i)
            products.append((pid, c))
            price[pid] = 199 + 50 * rnd.randrange(0, 90)
    price[SCARCE] = 2500
    catalog = [{"type": "catalog.product_upserted", "product_id": p, "name": "Product " + p, "category": c,
                "price": {"amount_minor": price[p], "currency": "GBP"}, "stock": 1000000} for p, c in products]
    catalog.append({"type": "catalog.product_upserted", "product_id": SCARCE, "name": "Limited edition",
                    "price": {"amount_minor": price[SCARCE], "currency": "GBP"}, "stock": SCARCE_STOCK})
    by_cat = {c: [p for p, pc in products if pc == c] for c in CATEGORIES}
    users = []
    for u in range(n_users):
        favs = rnd.sample(CATEGORIES, 2)
        users.append({"id": "u%04d" % u, "favs": favs, "rate": rnd.choice([0.02, 0.05, 0.1, 0.2]),
                      "spend": rnd.choice([1, 1, 2, 3])})
    seq = [0]

    def ev(kind, user, at, **fields):
        seq[0] += 1
        e = {"id": str(uuid.uuid5(NS, "%d/%d" % (seed, seq[0]))), "type": kind, "user_id": user, "at": at}
        e.update(fields)
        return e

    def pick(u):
        if rnd.random() < 0.75:
            cat = u["favs"][0] if rnd.random() < 0.65 else u["favs"][1]
        else:
            cat = rnd.choice(CATEGORIES)
        items = by_cat[cat]
        return items[min(int(rnd.expovariate(0.45)), len(items) - 1)]   # a few best sellers per category

    days = [[] for _ in range(n_days)]
    facts = {"orders": 0, "with_scarce": 0, "with_ghost": 0, "cancels": 0, "events": 0}
    n_order = 0
    for d in range(n_days):
        for u in users:
            weekend = (d % 7) in (4, 5)     # 2026-04-04 was a Saturday
            if rnd.random() >= u["rate"] * (1.5 if weekend else 1.0):
                continue
            t = T0_MS + d * DAY_MS + rnd.randrange(6 * 3600000, 22 * 3600000)
            step = lambda: rnd.randrange(20000, 180000)
            viewed, cart = [], {}
            for _ in range(rnd.randrange(1, 7)):
                p = pick(u)
                viewed.append(p)
                days[d].append(ev("product.viewed", u["id"], t, product_id=p))
                t += step()
            if rnd.random() < 0.25:
                days[d].append(ev("search.performed", u["id"], t, query=rnd.choice(CATEGORIES), results=8))
                t += step()
            if rnd.random() < 0.55:
                for p in rnd.sample(viewed, min(len(viewed), rnd.randrange(1, 3))):
                    q = rnd.randrange(1, 1 + u["spend"] * 2)
                    cart[p] = cart.get(p, 0) + q
                    days[d].append(ev("cart.item_added", u["id"], t, product_id=p, quantity=q,
                                      unit_price={"amount_minor": price[p], "currency": "GBP"}))
                    t += step()
                if len(cart) > 1 and rnd.random() < 0.15:
                    p = sorted(cart)[0]
                    del cart[p]
                    days[d].append(ev("cart.item_removed", u["id"], t, product_id=p))
                    t += step()
            if cart and rnd.random() < 0.6:
                lines = [{"product_id": p, "quantity": q, "unit_price": {"amount_minor": price[p], "currency": "GBP"}}
                         for p, q in sorted(cart.items())]
                r = rnd.random()
                if r < 0.04:
                    lines.append({"product_id": SCARCE, "quantity": 1,
                                  "unit_price": {"amount_minor": price[SCARCE], "currency": "GBP"}})
                    facts["with_scarce"] += 1
                elif r < 0.06:
                    lines.append({"product_id": GHOST, "quantity": 1,
                                  "unit_price": {"amount_minor": 999, "currency": "GBP"}})
                    facts["with_ghost"] += 1
                n_order += 1
                oid = "o-%d-%05d" % (seed, n_order)
                days[d].append(ev("order.placed", u["id"], t, order_id=oid, lines=lines))
                facts["orders"] += 1
                t += 1000
                days[d].append(ev("cart.cleared", u["id"], t))
                # Some buyers change their mind a day or three later.
                later = d + rnd.randrange(1, 4)
                if rnd.random() < 0.07 and later < n_days:
                    at = T0_MS + later * DAY_MS + rnd.randrange(0, 6 * 3600000)
                    days[later].append(ev("order.cancelled", u["id"], at, order_id=oid, reason="changed my mind"))
                    facts["cancels"] += 1
    out = []
    for d in range(n_days):
        days[d].sort(key=lambda e: (e["at"], e["id"]))
        facts["events"] += len(days[d])
        out.append((d, days[d]))
    facts["users"] = n_users
    facts["days"] = n_days
    facts["first_ms"] = T0_MS
    facts["last_ms"] = max(e["at"] for _, evs in out for e in evs)
    # The stream is closed by two searches (no model input, but they move the stream's
    # clock) 3 and 6 hours past the last event: a retrain taken near the end reaches its
    # swap point (swap_after 1 h of event time), so no run ends with a retrain left out.
    closing = [ev("search.performed", "u-closing", facts["last_ms"] + h * 3600000, query="closing", results=0)
               for h in (3, 6)]
    out[-1] = (out[-1][0], out[-1][1] + closing)
    facts["events"] += len(closing)
    return catalog, out, facts


class Edge:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def post(self, token, events):
        body = json.dumps({"events": events}).encode()
        for attempt in range(200):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                self.conn.request("POST", "/v1/events", body=body,
                                  headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
                r = self.conn.getresponse()
                text = r.read()
                if r.status == 202:
                    return
                if r.status not in (503, 429):
                    sys.exit("history: the edge answered %d: %s" % (r.status, text[:300]))
            except (OSError, http.client.HTTPException):
                self.conn = None
            time.sleep(0.2)
        sys.exit("history: the edge never took a batch")


def wait_inventory(lag_cmd, dsn, deadline_s=120):
    """Until the inventory group's lag is 0 and its outbox is empty (safety bound only)."""
    end = time.monotonic() + deadline_s
    while True:
        lag = subprocess.run(lag_cmd, shell=True, capture_output=True, text=True)
        if lag.returncode == 0 and lag.stdout.strip() == "0":
            out = subprocess.run(["psql", dsn, "-XAtqc", "select count(*) from inventory_outbox"],
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip() == "0":
                return
        if time.monotonic() > end:
            sys.exit("history: the inventory worker did not catch up (lag %r)" % lag.stdout.strip())
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["post", "plan"])
    ap.add_argument("--url")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--throttle", action="store_true")
    ap.add_argument("--lag-cmd")
    ap.add_argument("--dsn")
    ap.add_argument("--summary")
    ap.add_argument("--from-day", type=int, default=0, help="post only days from here on (no catalog unless 0)")
    ap.add_argument("--to-day", type=int, default=None, help="post only days before this one")
    ap.add_argument("--progress", help="file the last posted day is written to")
    ap.add_argument("--pause-ms", type=int, default=0, help="sleep this long after each day (stretches the stream)")
    a = ap.parse_args()
    catalog, days, facts = build(a.seed, a.users, a.days)
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(facts, f)
    if a.cmd == "plan":
        print(json.dumps(facts))
        return
    edge = Edge(a.url)
    admin, service = os.environ["ML_ADMIN_TOKEN"], os.environ["ML_SERVICE_TOKEN"]
    if a.from_day == 0:
        edge.post(admin, catalog)
        if a.lag_cmd:
            wait_inventory(a.lag_cmd, a.dsn)   # every product known before the first order
    to_day = a.days if a.to_day is None else a.to_day
    for d, evs in days[a.from_day:to_day]:
        for i in range(0, len(evs), 200):
            edge.post(service, evs[i:i + 200])
        if a.throttle:
            wait_inventory(a.lag_cmd, a.dsn)
        if a.pause_ms:
            time.sleep(a.pause_ms / 1000.0)
        if a.progress:
            with open(a.progress + ".tmp", "w") as f:
                f.write("%d\n" % d)
            os.replace(a.progress + ".tmp", a.progress)


if __name__ == "__main__":
    main()
