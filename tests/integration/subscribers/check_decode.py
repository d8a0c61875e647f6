#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Compares three views of the same records, two of them from tools nobody here wrote:
#   kcat's dump (kcat -f '%t\t%p\t%o\t%k\t%S\t%h\n%s') of each topic, each value decoded by
#   protoc --decode=shopstream.v1.Event --descriptor_set_in=<the installed descriptor set>,
#   the events the test posted (events.json), and shopstream-admin tail's JSON lines.
# The same events must come back from each. Standard library only (Debian's python3).
# usage: check_decode.py DESC EVENTS_JSON TAIL_JSONL KCAT_DUMP...
import json
import subprocess
import sys

ENVELOPE = {"id", "type", "occurred_at_ms", "received_at_ms", "user_id", "session_id", "source",
            "actor_id", "actor_role"}
failures = []


def fail(msg):
    failures.append(msg)


def read_dump(path):
    """Records from kcat's dump: a tab-separated line, then exactly %S value bytes."""
    data = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(data):
        nl = data.index(b"\n", pos)
        topic, part, off, key, size, hdrs = data[pos:nl].decode().split("\t", 5)
        size = int(size)
        value = data[nl + 1:nl + 1 + size]
        pos = nl + 1 + size
        headers = dict(h.split("=", 1) for h in hdrs.split(",")) if hdrs else {}
        out.append({"topic": topic, "partition": int(part), "offset": int(off), "key": key,
                    "headers": headers, "value": value})
    return out


def parse_text(text):
    """protoc's text format into (path, value) pairs; repeated fields repeat their path."""
    pairs, stack = [], []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
        elif line.endswith("{"):
            stack.append(line[:-1].strip())
        else:
            name, value = line.split(":", 1)
            value = value.strip()
            if value.startswith('"'):
                value = value[1:-1].encode().decode("unicode_escape").encode("latin-1").decode()
            pairs.append((".".join(stack + [name]), value))
    return sorted(pairs)


def flatten(obj, prefix=""):
    """JSON into the same (path, value) pairs: arrays repeat their path."""
    pairs = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            pairs += flatten(v, prefix + k if not prefix else prefix + "." + k)
    elif isinstance(obj, list):
        for v in obj:
            pairs += flatten(v, prefix)
    elif isinstance(obj, bool):
        pairs.append((prefix, "true" if obj else "false"))
    else:
        pairs.append((prefix, str(obj)))
    return sorted(pairs)


def decode(desc, value):
    r = subprocess.run(["protoc", "--decode=shopstream.v1.Event", "--descriptor_set_in=" + desc],
                       input=value, capture_output=True, check=False)
    if r.returncode != 0:
        fail("protoc --decode failed: " + r.stderr.decode())
        return []
    return parse_text(r.stdout.decode())


def message_type(ce_type):
    """The value's message type, from the CloudEvents type: every com.shopstream.<type>.v1
    record is a shopstream.v1.Event envelope (docs/events.md)."""
    if ce_type.startswith("com.shopstream.") and ce_type.endswith(".v1"):
        return "shopstream.v1.Event", ce_type[len("com.shopstream."):-len(".v1")]
    return None, None


def posted_pairs(ev):
    """What protoc should show for a posted JSON event, minus what the edge stamps."""
    payload = {k: v for k, v in ev.items() if k not in ("id", "type", "at", "user_id", "session_id")}
    return flatten(payload)


def main():
    desc, events_path, tail_path, dumps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    posted = {}
    for who, evs in json.load(open(events_path)).items():
        for ev in evs:
            posted[ev["id"]] = (who, ev)
    records = [r for d in dumps for r in read_dump(d)]
    tail = {(t["topic"], t["partition"], t["offset"]): t for t in map(json.loads, open(tail_path))}
    seen = set()
    for r in records:
        where = "%s/%d@%d" % (r["topic"], r["partition"], r["offset"])
        mtype, ce_event_type = message_type(r["headers"].get("ce_type", ""))
        if mtype is None:
            fail(where + ": no com.shopstream ce_type header: %r" % r["headers"])
            continue
        pairs = decode(desc, r["value"])
        env = {p: v for p, v in pairs if p in ENVELOPE}
        eid = env.get("id")
        if eid not in posted:
            fail(where + ": decoded id %r was never posted" % eid)
            continue
        who, ev = posted[eid]
        seen.add(eid)
        user = ev.get("user_id", "ops" if who == "admin" else who)
        want_env = {"id": eid, "type": ev["type"], "occurred_at_ms": str(ev["at"])}
        if ev["type"].split(".")[0] != "catalog" or "user_id" in ev:
            want_env["user_id"] = user
        if "session_id" in ev:
            want_env["session_id"] = ev["session_id"]
        for k, v in want_env.items():
            if env.get(k) != v:
                fail(where + ": %s is %r, posted %r" % (k, env.get(k), v))
        if ce_event_type != ev["type"]:
            fail(where + ": ce_type %s names another type than %s" % (r["headers"]["ce_type"], ev["type"]))
        if r["headers"].get("ce_id") != eid:
            fail(where + ": ce_id %r is not the event id" % r["headers"].get("ce_id"))
        if r["headers"].get("ce_subject") != r["key"]:
            fail(where + ": ce_subject %r is not the key %r" % (r["headers"].get("ce_subject"), r["key"]))
        for k in ("received_at_ms", "source", "actor_id", "actor_role"):
            if k not in env:
                fail(where + ": the edge did not stamp " + k)
        payload = [(p.split(".", 1)[1], v) for p, v in pairs if p not in ENVELOPE and "." in p]
        if sorted(payload) != posted_pairs(ev):
            fail(where + ": payload %r, posted %r" % (sorted(payload), posted_pairs(ev)))
        t = tail.get((r["topic"], r["partition"], r["offset"]))
        if t is None:
            fail(where + ": shopstream-admin tail did not print it")
            continue
        if flatten(t.get("event", {})) != pairs:
            fail(where + ": tail's event %r differs from protoc's %r" % (flatten(t.get("event")), pairs))
        if t["headers"] != r["headers"] or t["key"] != r["key"]:
            fail(where + ": tail's headers or key %r %r differ from kcat's %r %r"
                 % (t["headers"], t["key"], r["headers"], r["key"]))
    for eid in posted:
        if eid not in seen:
            fail("posted event %s never came back from the topics" % eid)
    if len(tail) != len(records):
        fail("tail printed %d records, kcat read %d" % (len(tail), len(records)))
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    if failures:
        sys.exit(1)
    print("ok: %d records: protoc --decode, the posted events and shopstream-admin tail agree" % len(records))


main()
