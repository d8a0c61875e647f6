#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The burst's judge, independent of workers/core: from what the test posted (the orders,
# the later cancels and shipments) and which orders the inventory topic says were
# reserved, it folds the expected stock and reservations itself, and checks them and the
# invariants against the database and the topic:
#   exactly the scarce units are reserved, no order partly reserved, every order one
#   decision (reserved or rejected) on the topic and in inventory_orders, one release per
#   cancel and one commit per shipment, no two ids for one outcome, ce_id = Event.id,
#   available >= 0 in every sample taken during the burst, and the projector's orders read
#   model shows each order's outcome (confirmed / rejected with its reason) and later steps.
# Usage: check_burst.py DIR  (DIR holds orders.json, actions.json, stock.json, topic.txt,
#        samples.txt, inventory_stock.csv, inventory_orders.csv, inventory_reservations.csv,
#        orders.csv; extra_orders.json optionally)
import collections
import csv
import json
import os
import sys

d = sys.argv[1]
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)


def rows(name):
    with open(os.path.join(d, name)) as f:
        return list(csv.reader(f))


orders = json.load(open(os.path.join(d, 'orders.json')))      # id -> {user, lines: [[product, qty]]}
# Orders that must be rejected for their own reason (id -> {user, lines, reason}).
extra = os.path.join(d, 'extra_orders.json')
if os.path.exists(extra):
    orders.update(json.load(open(extra)))
actions = json.load(open(os.path.join(d, 'actions.json')))    # [[cancel|ship, order_id]]
initial = json.load(open(os.path.join(d, 'stock.json')))      # product -> units

# --- samples: available never below zero while the burst ran
samples = [int(x) for x in open(os.path.join(d, 'samples.txt')).read().split()]
check(len(samples) > 0, 'no sample of available was taken')
check(all(s >= 0 for s in samples), 'a sample saw available < 0: %s' % min(samples or [0]))

# --- the topic, deduplicated by event id
records = [line.split() for line in open(os.path.join(d, 'topic.txt')) if line.strip()]
seen = {}
dup_records = 0
for eid, typ, key, part, off, ce_id, detail in records:
    check(typ != 'undecodable', 'undecodable record at %s/%s' % (part, off))
    check(ce_id == eid, 'ce_id %s differs from the event id %s' % (ce_id, eid))
    if eid in seen:
        dup_records += 1
        check(seen[eid] == (typ, key, detail), 'id %s names two outcomes' % eid)
        continue
    seen[eid] = (typ, key, detail)
by_outcome = collections.defaultdict(list)          # (type, key) -> ids
for eid, (typ, key, detail) in seen.items():
    by_outcome[(typ, key)].append(eid)
for (typ, key), ids in by_outcome.items():
    if typ != 'inventory.low_stock':
        check(len(ids) == 1, '%s of %s has %d distinct ids' % (typ, key, len(ids)))

decision = {}
for (typ, key), ids in by_outcome.items():
    if typ in ('inventory.reserved', 'inventory.rejected'):
        check(key not in decision, 'order %s has both a reservation and a rejection' % key)
        decision[key] = typ.split('.')[1]
for o in orders:
    check(o in decision, 'order %s has no decision on the topic' % o)
check(set(decision) <= set(orders), 'decisions for orders never posted')
for (typ, key), ids in by_outcome.items():
    if typ == 'inventory.rejected':
        want = orders.get(key, {}).get('reason', 'out_of_stock')
        check(seen[ids[0]][2] == want, 'order %s rejected as %s, want %s' % (key, seen[ids[0]][2], want))
for o, v in orders.items():
    if 'reason' in v:
        check(decision.get(o) == 'rejected', 'order %s was not rejected (%s)' % (o, v['reason']))

cancelled = {o for a, o in actions if a == 'cancel'}
shipped = {o for a, o in actions if a == 'ship'}
released_on_topic = {k for (t, k) in by_outcome if t == 'inventory.released'}
committed_on_topic = {k for (t, k) in by_outcome if t == 'inventory.committed'}
check(released_on_topic == cancelled, 'released %s, cancelled %s' % (sorted(released_on_topic), sorted(cancelled)))
check(committed_on_topic == shipped, 'committed %s, shipped %s' % (sorted(committed_on_topic), sorted(shipped)))

# --- the independent fold: winners reserve all their lines; cancels release, ships commit
winners = {o for o, v in decision.items() if v == 'reserved'}
on_hand = dict(initial)
reserved = {p: 0 for p in initial}
hold = {}
for o in sorted(winners):
    per_product = collections.Counter()
    for p, q in orders[o]['lines']:
        per_product[p] += q
    for p, q in per_product.items():
        reserved[p] += q
    hold[o] = ('held', per_product)
for a, o in actions:
    state, per_product = hold[o]
    for p, q in per_product.items():
        reserved[p] -= q
        if a == 'ship':
            on_hand[p] -= q
    hold[o] = ('released' if a == 'cancel' else 'committed', per_product)
scarce_units = sum(q for o in winners for p, q in orders[o]['lines'] if p == 'scarce')
for p, q in [(p, q) for o in orders for p, q in orders[o]['lines']]:
    reserved.setdefault(p, 0)
check(scarce_units == initial['scarce'], 'orders reserved %d scarce units of %d' % (scarce_units, initial['scarce']))

db_stock = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows('inventory_stock.csv')}
for p in initial:
    check(db_stock.get(p) == (on_hand[p], reserved[p], on_hand[p] - reserved[p]),
          '%s: database %s, fold (on_hand, reserved, available) %s' %
          (p, db_stock.get(p), (on_hand[p], reserved[p], on_hand[p] - reserved[p])))

db_orders = {r[0]: (r[1], r[2], r[3]) for r in rows('inventory_orders.csv')}   # id -> (user, outcome, reason)
check(len(db_orders) == len(orders), '%d orders in inventory_orders, %d posted' % (len(db_orders), len(orders)))
for o, (user, outcome, reason) in db_orders.items():
    check(decision.get(o) == outcome, 'order %s: database %s, topic %s' % (o, outcome, decision.get(o)))
    check(reason == ('' if outcome == 'reserved' else orders.get(o, {}).get('reason', 'out_of_stock')),
          'order %s: database reason %r' % (o, reason))
    check(user == orders.get(o, {}).get('user'), 'order %s owned by %s' % (o, user))

db_res = collections.defaultdict(dict)
for o, p, q, state in rows('inventory_reservations.csv'):
    db_res[o][p] = (int(q), state)
for o in orders:
    want = {}
    if o in hold:
        state, per_product = hold[o]
        want = {p: (q, state) for p, q in per_product.items()}
    check(db_res.get(o, {}) == want, 'order %s holds %s, fold says %s' % (o, db_res.get(o, {}), want))

if os.environ.get('INV_MAX_REPEATS'):   # no relay was interrupted: every outcome once
    check(dup_records <= int(os.environ['INV_MAX_REPEATS']),
          '%d records repeat an id, at most %s expected' % (dup_records, os.environ['INV_MAX_REPEATS']))
if os.environ.get('INV_EXPECT_REPLAYS'):
    check(dup_records >= int(os.environ['INV_EXPECT_REPLAYS']),
          'only %d records repeat an id, %s expected' % (dup_records, os.environ['INV_EXPECT_REPLAYS']))
# --- the projector's read model: each order's status follows its outcome and later steps
status_want = {o: ('confirmed' if v == 'reserved' else 'rejected') for o, v in decision.items()}
for a, o in actions:
    status_want[o] = 'cancelled' if a == 'cancel' else 'shipped'
db_status = {r[0]: (r[1], r[2]) for r in rows('orders.csv')}
for o in orders:
    got = db_status.get(o)
    want_reason = orders[o].get('reason', 'out_of_stock') if status_want.get(o) == 'rejected' else ''
    check(got == (status_want.get(o), want_reason),
          'order %s in the read model: %s, want %s' % (o, got, (status_want.get(o), want_reason)))

print('records=%d distinct=%d replayed=%d orders=%d reserved=%d samples=%d min_available=%d' %
      (len(records), len(seen), dup_records, len(orders), len(winners), len(samples), min(samples or [0])))
for p in problems[:30]:
    print('FAIL: ' + p)
sys.exit(1 if problems else 0)
