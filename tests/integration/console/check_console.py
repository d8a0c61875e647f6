#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the console's DOM (chromium --dump-dom) against GET /v1/admin/overview and
# against what test_console.sh posted. Standard library only (Debian's python3).
# Every number the page shows is read from its data- attributes and ids; exits 1 with
# every mismatch listed.
import argparse
import json
import sys
import urllib.request
from html.parser import HTMLParser


class Dom(HTMLParser):
    """Element attributes by id, and table rows (their data- attributes) by tbody id."""

    def __init__(self):
        super().__init__()
        self.by_id = {}
        self.rows = {}
        self.body = {}
        self._tbody = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if "id" in a:
            self.by_id[a["id"]] = a
        if tag == "tbody":
            self._tbody = a.get("id")
            self.rows.setdefault(self._tbody, [])
        elif tag == "tr" and self._tbody is not None:
            data = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
            if data:
                self.rows[self._tbody].append(data)

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._tbody = None


def text(v):
    return "–" if v is None else str(v)


def main():
    ap = argparse.ArgumentParser()
    for a in ("--dom", "--url", "--token", "--projector", "--inventory", "--ml"):
        ap.add_argument(a, required=True)
    for a in ("--posted", "--events", "--bad", "--ml-lag"):
        ap.add_argument(a, type=int, required=True)
    o = ap.parse_args()

    dom = Dom()
    with open(o.dom, encoding="utf-8") as f:
        dom.feed(f.read())
    req = urllib.request.Request(o.url + "/v1/admin/overview",
                                 headers={"Authorization": "Bearer " + o.token})
    with urllib.request.urlopen(req, timeout=10) as r:
        api = json.load(r)

    errors = []

    def want(what, got, expected):
        if got != expected:
            errors.append(f"{what}: page/api shows {got!r}, want {expected!r}")

    want("page state", dom.body.get("data-state"), "ok")
    if int(dom.body.get("data-polls", "0")) < 1:
        errors.append("the page never rendered an overview")

    # Ingest: the page = the API = what was posted.
    g = api["ingest"]
    for elem, value, posted in (("r202", g["requests"]["202"], o.posted),
                                ("r4xx", g["requests"]["4xx"], o.bad),
                                ("r503", g["requests"]["503"], 0),
                                ("events-total", g["events_total"], o.events)):
        want(f"#{elem} on the page vs the API", dom.by_id.get(elem, {}).get("data-value"), text(value))
        want(f"{elem} in the API vs the posts", value, posted)

    # Lag: every partition row of the page is the API's, and the totals are known.
    page_lag = sorted((r["group"], r["topic"], r["partition"], r["lag"]) for r in dom.rows.get("lag-rows", []))
    api_lag = sorted((grp["group"], p["topic"], text(p["partition"]), text(p["lag"]))
                     for grp in api["groups"] for p in grp["partitions"])
    want("lag rows on the page vs the API", page_lag, api_lag)
    if not api_lag:
        errors.append("no lag rows at all")
    totals = {grp["group"]: grp["lag"] for grp in api["groups"]}
    want("group totals on the page vs the API",
         sorted((r["group"], r["lag"]) for r in dom.rows.get("group-rows", [])),
         sorted((k, text(v)) for k, v in totals.items()))
    want("projector lag", totals.get(o.projector), 0)
    want("inventory lag", totals.get(o.inventory), 0)
    want("ml lag (no worker: every record) vs shopstream-admin lag", totals.get(o.ml), o.ml_lag)
    want("the page's lag total", dom.by_id.get("lag", {}).get("data-total"), str(sum(v or 0 for v in totals.values())))
    want("kafka error", api["kafka_error"], None)

    # Dead letters: the two views of pz-bad, refused by the CHECK (23514) in the projector.
    q = api["dead_letters"]
    want("dead letters on the page vs the API", dom.by_id.get("dlq", {}).get("data-total"), text(q["total"]))
    want("dead letters in the API", q["total"], 2)
    page_dlq = [(r["offset"], r["sqlstate"], r["reason"]) for r in dom.rows.get("dlq-rows", [])]
    api_dlq = [(text(d["offset"]), text(d["sqlstate"]), text(d["reason"])) for d in q["letters"]]
    want("dead-letter rows on the page vs the API", page_dlq, api_dlq)
    for d in q["letters"]:
        want("a dead letter's sqlstate", d["sqlstate"], "23514")
        want("a dead letter's group", d["group"], o.projector)
        if "it_console_no_pz_bad" not in (d["reason"] or ""):
            errors.append(f"a dead letter's reason does not name the constraint: {d['reason']!r}")

    # Low stock at the default threshold 5: p3 (0), p2 (2), p1 (3 after 7 reserved).
    s = api["low_stock"]
    page_low = [(r["product"], r["available"]) for r in dom.rows.get("low-rows", [])]
    want("low stock on the page vs the API", page_low, [(p["product_id"], text(p["available"])) for p in s["products"]])
    want("low stock in the API", [(p["product_id"], p["available"]) for p in s["products"]],
         [("p3", 0), ("p2", 2), ("p1", 3)])
    want("low-stock count", dom.by_id.get("low-stock", {}).get("data-count"), text(s["count"]))

    # Segments and models: as seeded, and as the page shows them.
    page_seg = [(r["segment"], r["size"]) for r in dom.rows.get("segment-rows", [])]
    want("segments on the page vs the API", page_seg,
         [(text(x["segment"]), text(x["size"])) for x in api["segments"]["rows"]])
    want("segments in the API", [(x["segment"], x["size"]) for x in api["segments"]["rows"]], [(0, 41), (1, 17)])
    page_models = [(r["model"], r["version"]) for r in dom.rows.get("model-rows", [])]
    want("models on the page vs the API", page_models, [(m["model"], text(m["version"])) for m in api["models"]])
    want("models in the API", [(m["model"], m["version"]) for m in api["models"]], [("recommend", 7), ("segment", 3)])
    page_snap = [(r["model"], r["version"]) for r in dom.rows.get("snapshot-rows", [])]
    want("snapshot models on the page vs the API", page_snap,
         [(m["model"], text(m["version"])) for m in api["snapshots"]["models"]])
    want("snapshot models in the API", [(m["model"], m["version"]) for m in api["snapshots"]["models"]],
         [("als", 7), ("kmeans", 3)])

    for e in errors:
        print("mismatch:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
