#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The notify test's webhook receiver and checker (Debian's python3, standard library).
#   receiver.py serve --port P --cert C --key K --log L --expected N --slow-sleep S
#     HTTPS on 127.0.0.1:P. Paths: /fast answers 200; /flaky answers 503 and /slow
#     sleeps S seconds (past the worker's timeout) until /fast has received all N
#     expected status changes, then both answer 200; /dead always answers 500.
#     Every request is one JSON line in L, with a global arrival number.
#   receiver.py count --log L --endpoint E [--failed]   distinct status changes E answered
#     2xx (with --failed: requests it failed)
#   receiver.py check --log L --expected F --secrets name=secret,... --parked F2
#     the assertions (see check()); exit 1 with the reason on the first that fails.
import argparse, hashlib, hmac, json, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"seq": 0, "fast": set(), "log": None, "expected": 0, "slow_sleep": 2.0}


def record(entry):
    with LOCK:
        STATE["seq"] += 1
        entry["seq"] = STATE["seq"]
        STATE["log"].write(json.dumps(entry) + "\n")
        STATE["log"].flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        ep = self.path.strip("/")
        if ep == "probe":               # the test's is-it-up request
            self.answer(200)
            return
        entry = {"ep": ep, "id": self.headers.get("Shopstream-Event-Id"),
                 "sig": self.headers.get("Shopstream-Signature"), "body": body}
        try:
            doc = json.loads(body)
            pair = (doc["data"]["order_id"], doc["data"]["status"])
        except Exception:
            pair = None
        with LOCK:
            recovered = len(STATE["fast"]) >= STATE["expected"]
        if ep == "fast":
            status = 200
        elif ep == "flaky":
            status = 200 if recovered else 503
        elif ep == "slow":
            status = 200
            if not recovered:
                entry["status"] = "timeout"
                record(entry)
                time.sleep(STATE["slow_sleep"])   # the worker gave up on us meanwhile
                try:
                    self.answer(200)
                except OSError:
                    pass
                return
        else:
            status = 500
        entry["status"] = status
        record(entry)
        if ep == "fast" and status == 200 and pair is not None:
            with LOCK:
                STATE["fast"].add(pair)
        self.answer(status)


def serve(a):
    STATE["log"] = open(a.log, "a")
    STATE["expected"] = a.expected
    STATE["slow_sleep"] = a.slow_sleep
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ThreadingHTTPServer.request_queue_size = 256   # 16 connections at once: a backlog of 5 drops SYNs
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    # The handshake runs in the request's thread, not in the accepting one.
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    srv.serve_forever()


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pair_of(e):
    d = json.loads(e["body"])["data"]
    return (d["order_id"], d["status"])


def count(a):
    if a.failed:
        print(sum(1 for e in load(a.log) if e["ep"] == a.endpoint and e["status"] != 200))
        return
    got = {pair_of(e) for e in load(a.log) if e["ep"] == a.endpoint and e["status"] == 200}
    print(len(got))


# The documented verification recipe (docs/webhooks.md), written independently of the
# worker's C: t and v1 from the header, HMAC-SHA256(secret, t + "." + body), hex.
def verify(secret, header, body, now_ms):
    items = dict(p.split("=", 1) for p in header.split(","))
    t = items["t"]
    mac = hmac.new(secret.encode(), (t + "." + body).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, items["v1"]) and abs(now_ms - int(t)) < 300000


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(a):
    log = load(a.log)
    expected = {tuple(l.strip().split(",")) for l in open(a.expected) if l.strip()}
    secrets = dict(s.split("=", 1) for s in a.secrets.split(","))
    now = int(time.time() * 1000)
    ids = {}
    for e in log:
        if not verify(secrets[e["ep"]], e["sig"], e["body"], now):
            fail("a signature does not verify: %s seq %d" % (e["ep"], e["seq"]))
        doc = json.loads(e["body"])
        if doc["id"] != e["id"]:
            fail("Shopstream-Event-Id %s is not the body's id %s" % (e["id"], doc["id"]))
        p = pair_of(e)
        if ids.setdefault(p, e["id"]) != e["id"]:
            fail("status change %s came with two ids: %s and %s" % (p, ids[p], e["id"]))
    if len(set(ids.values())) != len(ids):
        fail("two status changes share an id")
    first_ok = {}
    for ep in ("fast", "flaky", "slow"):
        ok = [e for e in log if e["ep"] == ep and e["status"] == 200]
        by_id = {}
        for e in ok:
            by_id.setdefault(e["id"], e)
        got = {pair_of(e) for e in by_id.values()}
        if got != expected:
            fail("%s: deduplicated by id, %d status changes, want %d (missing %s, extra %s)"
                 % (ep, len(got), len(expected), sorted(expected - got)[:3], sorted(got - expected)[:3]))
        first_ok[ep] = min(e["seq"] for e in ok)
        print("%s: %d requests answered 2xx, %d distinct ids, %d failed attempts"
              % (ep, len(ok), len(by_id), sum(1 for e in log if e["ep"] == ep and e["status"] != 200)))
    fast_last_first = max(min(e["seq"] for e in log if e["ep"] == "fast" and e["status"] == 200 and e["id"] == i)
                          for i in {e["id"] for e in log if e["ep"] == "fast"})
    for ep in ("flaky", "slow"):
        if not any(e["ep"] == ep and e["status"] != 200 and e["seq"] < fast_last_first for e in log):
            fail("%s did not fail before /fast had everything: the test proves nothing" % ep)
        if first_ok[ep] < fast_last_first:
            fail("%s delivered before /fast had everything" % ep)
    fast_ok = [e for e in log if e["ep"] == "fast" and e["status"] == 200]
    if len(fast_ok) <= len(expected) and a.want_duplicates:
        fail("/fast saw no redelivery after the kill -9 (%d requests for %d changes)" % (len(fast_ok), len(expected)))
    parked = []
    for line in open(a.parked):     # kcat -f '%h\t%s\n': headers as k=v,k=v, then the value
        if line.strip():
            h, v = line.rstrip("\n").split("\t", 1)
            parked.append({"headers": dict(kv.split("=", 1) for kv in h.split(",")), "value": v})
    pids = {}
    for r in parked:
        h = r["headers"]
        if h.get("x-shopstream-endpoint") != "dead" or h.get("x-shopstream-attempts") != a.max_attempts \
                or not h.get("x-shopstream-reason", "").startswith("http status 500"):
            fail("parked record with headers %s" % h)
        if h.get("x-shopstream-event-id") != json.loads(r["value"])["id"]:
            fail("parked record's event id header is not its body's id")
        pids[h["x-shopstream-event-id"]] = pair_of({"body": r["value"]})
    if set(pids.values()) != expected:
        fail("parked: %d distinct status changes, want %d" % (len(set(pids.values())), len(expected)))
    if any(ids[p] != i for i, p in pids.items()):
        fail("a parked record's id differs from the delivered one")
    print("ok: %d status changes at fast, flaky, slow; %d parked for dead (%d records); every signature verifies"
          % (len(expected), len(pids), len(parked)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    for k in ("--cert", "--key", "--log"):
        s.add_argument(k, required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--expected", type=int, required=True)
    s.add_argument("--slow-sleep", type=float, default=2.0)
    c = sub.add_parser("count")
    c.add_argument("--log", required=True)
    c.add_argument("--endpoint", required=True)
    c.add_argument("--failed", action="store_true")
    k = sub.add_parser("check")
    for x in ("--log", "--expected", "--secrets", "--parked", "--max-attempts"):
        k.add_argument(x, required=True)
    k.add_argument("--want-duplicates", action="store_true")
    a = ap.parse_args()
    {"serve": serve, "count": count, "check": check}[a.cmd](a)


if __name__ == "__main__":
    main()
