#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the ml topic's records (it-ml-tail's JSON lines) of one run, independently of
# workers/: every record is a valid shopstream.v1.Event of type ml.segment_changed or
# ml.model_published in protobuf, with the CloudEvents headers of docs/events.md (ce_id =
# the event id, ce_type, ce_source, ce_time from occurred_at, ce_subject = the key,
# content-type) and the key the proto names (the user, or the model's name); no event id
# twice, except a record republished byte for byte (the outbox relay delivers at least
# once: a crash between the broker's acknowledgement and the outbox delete sends the same
# record again, which consumers drop by ce_id); each model's versions published one by one
# without a gap; each user's segment changes chain (the old segment of one is the new one of
# the one before, -1 first); and the last of them agree with the read models of the run.
#   check_topic.py TOPIC.jsonl DUMPDIR [--skip-before OFFSETS.json] [--until OFFSETS.json]
#                  [--same-as OTHER.jsonl --other-skip-before OFFSETS.json]
#                  [--write-ends OFFSETS.json]
# --skip-before / --until: only the records at or past / before those per-partition
# offsets (another run published before this one on the same topic).
# --same-as: the other run's records must be the same events (same ids, same payloads).
import argparse
import datetime
import json
import sys

ap = argparse.ArgumentParser()
ap.add_argument("topic")
ap.add_argument("dump")
ap.add_argument("--skip-before")
ap.add_argument("--until")
ap.add_argument("--write-ends")
ap.add_argument("--same-as")
ap.add_argument("--other-skip-before")
ap.add_argument("--other-until")
args = ap.parse_args()
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def records(path, skip_before=None, until=None):
    lo = {int(k): v for k, v in json.load(open(skip_before)).items()} if skip_before else {}
    hi = {int(k): v for k, v in json.load(open(until)).items()} if until else None
    out = []
    for line in open(path):
        r = json.loads(line)
        if r["offset"] < lo.get(r["partition"], 0):
            continue
        if hi is not None and r["offset"] >= hi.get(r["partition"], 0):
            continue
        out.append(r)
    out.sort(key=lambda r: (r["partition"], r["offset"]))
    return out


def ce_time(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def payload(r):
    e = r["event"]
    return json.dumps({k: e.get(k) for k in ("type", "user_id", "segment_changed", "model_published")}, sort_keys=True)


recs = records(args.topic, args.skip_before, args.until)
if args.write_ends:
    ends = {}
    for line in open(args.topic):
        r = json.loads(line)
        ends[r["partition"]] = max(ends.get(r["partition"], 0), r["offset"] + 1)
    json.dump(ends, open(args.write_ends, "w"))

by_id, republished = {}, 0
versions = {}
chains = {}
for r in recs:
    where = "record %d/%d" % (r["partition"], r["offset"])
    if not check(r["valid"] and "event" in r, "%s: not a valid event (%s)" % (where, r.get("error"))):
        continue
    e, h = r["event"], r["headers"]
    typ = e["type"]
    check(typ in ("ml.segment_changed", "ml.model_published"), "%s: type %s" % (where, typ))
    check(h.get("ce_specversion") == "1.0", "%s: ce_specversion %r" % (where, h.get("ce_specversion")))
    check(h.get("ce_id") == e["id"], "%s: ce_id %r, event id %s" % (where, h.get("ce_id"), e["id"]))
    check(h.get("ce_type") == "com.shopstream.%s.v1" % typ, "%s: ce_type %r" % (where, h.get("ce_type")))
    check(h.get("ce_source") == (e["source"] or "/shopstream/edge"), "%s: ce_source %r" % (where, h.get("ce_source")))
    check(h.get("ce_time") == ce_time(e["occurred_at_ms"]), "%s: ce_time %r for %d" % (where, h.get("ce_time"), e["occurred_at_ms"]))
    check(h.get("ce_subject") == r["key"], "%s: ce_subject %r, key %r" % (where, h.get("ce_subject"), r["key"]))
    check(h.get("content-type") == "application/x-protobuf", "%s: content-type %r" % (where, h.get("content-type")))
    check(e["source"] == "shopstream-worker/ml", "%s: source %r" % (where, e["source"]))
    if e["id"] in by_id:
        first = by_id[e["id"]]
        check(first["value_hash"] == r["value_hash"],
              "%s: event id %s published twice with different contents (first at %d/%d)" %
              (where, e["id"], first["partition"], first["offset"]))
        republished += 1
        continue
    by_id[e["id"]] = r
    if typ == "ml.segment_changed":
        s = e.get("segment_changed")
        if not check(s is not None, "%s: no MlSegmentChanged payload" % where):
            continue
        check(r["key"] == s["user_id"], "%s: key %r, user %r" % (where, r["key"], s["user_id"]))
        prev = chains.get(s["user_id"])
        check(s["old_segment"] == (prev["new_segment"] if prev else -1),
              "%s: %s moves from %d, but its last segment was %s" %
              (where, s["user_id"], s["old_segment"], prev["new_segment"] if prev else -1))
        chains[s["user_id"]] = s
    else:
        m = e.get("model_published")
        if not check(m is not None, "%s: no MlModelPublished payload" % where):
            continue
        check(r["key"] == m["model"], "%s: key %r, model %r" % (where, r["key"], m["model"]))
        check(m["model"] in ("recommend", "segment", "forecast"), "%s: model %r" % (where, m["model"]))
        versions.setdefault(m["model"], []).append(m["version"])

for model, vs in sorted(versions.items()):
    check(vs == sorted(vs) and len(set(vs)) == len(vs), "model %s published versions out of order: %s" % (model, vs[:20]))

# The topic's last word agrees with the read models.
models = {m["model"]: m for m in json.load(open(args.dump + "/models.json"))}
for model, vs in versions.items():
    check(model in models and models[model]["version"] == vs[-1],
          "model %s: last published version %d, ml_models says %s" % (model, vs[-1], models.get(model, {}).get("version")))
for model in models:
    check(model in versions, "model %s is in ml_models but was never published" % model)
segs = {u["user_id"]: u["segment"] for u in json.load(open(args.dump + "/user_segments.json"))}
wrong = [u for u, s in chains.items() if segs.get(u) != s["new_segment"]]
check(not wrong, "%d users' last segment change disagrees with ml_user_segments, e.g. %s" %
      (len(wrong), ", ".join("%s: %s vs %s" % (u, chains[u]["new_segment"], segs.get(u)) for u in wrong[:5])))
missing = [u for u in segs if u not in chains]
check(not missing, "%d users have a segment but no ml.segment_changed, e.g. %s" % (len(missing), missing[:5]))
check(len(chains) > 0 and len(versions) == 3, "too little on the topic: %d users' changes, models %s" %
      (len(chains), sorted(versions)))

if args.same_as:
    other = records(args.same_as, args.other_skip_before, args.other_until)
    oid = {}
    for r in other:
        if r.get("event"):
            oid.setdefault(r["event"]["id"], r)
    only_here = sorted(set(by_id) - set(oid))
    only_there = sorted(set(oid) - set(by_id))
    check(not only_here and not only_there, "the other run published other events: %d only here (e.g. %s), %d only there (e.g. %s)" %
          (len(only_here), [payload(by_id[i]) for i in only_here[:2]], len(only_there), [payload(oid[i]) for i in only_there[:2]]))
    changed = [i for i in by_id if i in oid and payload(by_id[i]) != payload(oid[i])]
    check(not changed, "%d events have the same id and other contents in the other run, e.g. %s vs %s" %
          (len(changed), payload(by_id[changed[0]]) if changed else "", payload(oid[changed[0]]) if changed else ""))

n_seg = sum(1 for r in by_id.values() if r["event"]["type"] == "ml.segment_changed")
print("topic: %d records, %d events (%d segment changes of %d users; published %s), %d republished byte for byte" %
      (len(recs), len(by_id), n_seg, len(chains),
       ", ".join("%s v%d..v%d" % (m, vs[0], vs[-1]) for m, vs in sorted(versions.items())), republished))
for p in problems[:20]:
    print("PROBLEM: " + p)
if len(problems) > 20:
    print("... %d problems in all" % len(problems))
sys.exit(1 if problems else 0)
