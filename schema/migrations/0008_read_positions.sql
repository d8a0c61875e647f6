-- SPDX-License-Identifier: MIT
-- Read-your-writes (docs/api.md "Reading your own writes"): every commit of a worker's
-- batch stores its consumed offsets in consumer_offsets, in the transaction of its
-- effects. This statement-level trigger NOTIFYs "shopstream_offsets" with it, so the
-- edge's offsets watcher (edge/watch.c) wakes the reads parked on a position at the
-- commit instead of polling. NOTIFY is transactional: it is delivered at the commit,
-- never for a rolled-back batch, and once per transaction however many rows changed.
create or replace function consumer_offsets_notify() returns trigger
language plpgsql as $$
begin
    perform pg_notify('shopstream_offsets', '');
    return null;
end
$$;

drop trigger if exists consumer_offsets_notify on consumer_offsets;
create trigger consumer_offsets_notify
    after insert or update on consumer_offsets
    for each statement execute function consumer_offsets_notify();
