#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Example Shopstream subscriber: what a data team can start from.

Consumes the order topic, decodes each record with message classes built at run time from
the published descriptor set (share/shopstream/shopstream.desc, made by
`protoc --include_imports --descriptor_set_out`), so no generated code is needed, and
aggregates orders and revenue per currency. Records are routed on their CloudEvents
headers (ce_type) before any decoding, and deduplicated by ce_id: delivery is
at-least-once, so a record may come twice.

    python subscriber.py --brokers localhost:9092 --descriptor-set shopstream.desc \\
        --topic shopstream.order.v1 --from-beginning --max-messages 1000 --idle-timeout-s 10

Prints one JSON summary on stdout when it stops (max messages, idle timeout or Ctrl-C).
"""
import argparse
import json
import signal
import sys
from collections import defaultdict

from confluent_kafka import Consumer, KafkaError, KafkaException
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

CE_TYPE_PREFIX, CE_TYPE_SUFFIX = "com.shopstream.", ".v1"


def load_event_class(path):
    """shopstream.v1.Event from the descriptor set: every v1 record value is one Event."""
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(path, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:           # --include_imports: dependencies come first
        pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("shopstream.v1.Event"))


class Revenue:
    """Orders placed and payments received, per ISO 4217 currency, in minor units."""

    def __init__(self):
        self.placed = defaultdict(lambda: {"orders": 0, "amount_minor": 0})
        self.paid = defaultdict(lambda: {"payments": 0, "amount_minor": 0})
        self.cancelled = defaultdict(int)
        self.by_type = defaultdict(int)
        self.messages = self.duplicates = self.undecodable = 0
        self.seen = set()        # ce_id of every applied event; a real job keeps this bounded

    def apply(self, headers, value, event_class):
        self.messages += 1
        ce_id, ce_type = headers.get("ce_id"), headers.get("ce_type", "")
        if ce_id in self.seen:
            self.duplicates += 1
            return
        if not (ce_type.startswith(CE_TYPE_PREFIX) and ce_type.endswith(CE_TYPE_SUFFIX)):
            self.undecodable += 1
            return
        try:
            ev = event_class.FromString(value)
        except Exception:       # protobuf's DecodeError; a record we cannot read is counted
            self.undecodable += 1
            return
        self.seen.add(ce_id)
        self.by_type[ev.type] += 1
        kind = ev.WhichOneof("payload")
        if kind == "order_placed":
            total = ev.order_placed.total
            self.placed[total.currency]["orders"] += 1
            self.placed[total.currency]["amount_minor"] += total.amount_minor
        elif kind == "order_paid":
            self.paid[ev.order_paid.amount.currency]["payments"] += 1
            self.paid[ev.order_paid.amount.currency]["amount_minor"] += ev.order_paid.amount.amount_minor
        elif kind == "order_cancelled":
            self.cancelled[ev.order_cancelled.order_id] += 1

    def summary(self):
        return {"messages": self.messages, "duplicates": self.duplicates, "undecodable": self.undecodable,
                "events_by_type": dict(sorted(self.by_type.items())),
                "placed_by_currency": dict(sorted(self.placed.items())),
                "paid_by_currency": dict(sorted(self.paid.items())),
                "orders_cancelled": len(self.cancelled)}


def headers_of(msg):
    return {k: (v.decode("utf-8", "replace") if v is not None else None) for k, v in (msg.headers() or [])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brokers", default="localhost:9092")
    ap.add_argument("--topic", default="shopstream.order.v1")
    ap.add_argument("--group", default="shopstream-example-subscriber")
    ap.add_argument("--descriptor-set", required=True, help="share/shopstream/shopstream.desc")
    ap.add_argument("--from-beginning", action="store_true", help="a new group starts at the oldest record")
    ap.add_argument("--max-messages", type=int, default=0, help="stop after this many records (0: no bound)")
    ap.add_argument("--idle-timeout-s", type=float, default=0, help="stop after this long without a record")
    args = ap.parse_args()

    event_class = load_event_class(args.descriptor_set)
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        "auto.offset.reset": "earliest" if args.from_beginning else "latest",
        # At-least-once: an offset is stored only once its record is applied, and the
        # stored offsets are committed in the background.
        "enable.auto.offset.store": False,
        "enable.auto.commit": True,
    })
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    consumer.subscribe([args.topic])
    agg, idle = Revenue(), 0.0
    try:
        while not stop and (args.max_messages <= 0 or agg.messages < args.max_messages):
            msg = consumer.poll(0.5)
            if msg is None:
                idle += 0.5
                if args.idle_timeout_s and idle >= args.idle_timeout_s:
                    break
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    raise KafkaException(msg.error())
                continue
            idle = 0.0
            agg.apply(headers_of(msg), msg.value(), event_class)
            consumer.store_offsets(message=msg)
    finally:
        consumer.close()         # commits what was stored and leaves the group
    json.dump(agg.summary(), sys.stdout, indent=None, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
