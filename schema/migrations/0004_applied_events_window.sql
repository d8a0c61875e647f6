-- SPDX-License-Identifier: MIT
-- applied_events bounded by the retry window (docs/projections.md, "Dedup window").
--
-- It kept every event id forever (6.9 M rows, 1.2 GB after ~7 M events). Now each
-- row carries the receipt bucket of its event, received_at_ms / bucket_ms (the edge
-- stamps received_at_ms), and the table is range-partitioned by that bucket, one
-- partition per bucket: the projector creates partitions ahead and drops whole
-- partitions once they are older than its window (applied_events_maintain), so the
-- table holds about window + grace + two buckets of events however long it runs.
--
-- A client's retry gets a new receipt time, so it may fall into another bucket than
-- the first copy, and a unique key has to include the partition key: the key
-- (event_id, projector, bucket) only refuses a second copy in the same bucket. The
-- projector therefore also looks the batch's ids up in every other bucket the window
-- reaches (workers/core/proj_sql.c); the key stays the arbiter between two
-- transactions that insert the same record at once.
--
-- Rows no partition takes (a bucket not created yet, or a far-off receipt time) land
-- in applied_events_default; applied_events_ensure moves them into their partition
-- when it creates it, and applied_events_drop_before deletes the old ones.
--
-- A row names its projector (consumer group) by a small integer from applied_projectors,
-- not by the group name: 4 bytes instead of the name's length in every row and index
-- entry (32-byte index entries instead of ~64 with a 33-character name; the dedup
-- write costs 10-20 % less CPU and ~37 % less WAL, docs/benchmarks.md). The worker
-- reads its id once per process (applied_projector_id).
--
-- Conversion: the old table's ids keep deduplicating. Their receipt times were never
-- stored, so they all get the bucket of the migration's time: they are kept for a
-- full window from now (longer than their true age asks, never shorter). With rows
-- the old table is copied into that bucket's partition (about a minute for 7 M rows;
-- stop the projectors while it runs); an empty one is simply dropped. Guarded so that
-- running it on an already converted schema changes nothing.

create table if not exists applied_events_layout (
    singleton  boolean primary key default true check (singleton),
    -- width of one partition; fixed once rows exist (the buckets in the rows depend on
    -- it). At least a minute, so a bucket of any receipt time fits an int.
    bucket_ms  bigint not null check (bucket_ms >= 60000)
);
insert into applied_events_layout (bucket_ms) values (604800000) on conflict do nothing;

create table if not exists applied_projectors (
    id    int generated always as identity primary key,
    name  text not null unique   -- the consumer group
);

-- The id of projector p_name, created on first use. A loop, not one statement: a
-- concurrent first use may commit the name after this statement's snapshot.
create or replace function applied_projector_id(p_name text) returns int
language plpgsql as $fn$
declare
    v_id int;
begin
    loop
        select id into v_id from applied_projectors where name = p_name;
        exit when found;
        insert into applied_projectors (name) values (p_name) on conflict (name) do nothing returning id into v_id;
        exit when found;
    end loop;
    return v_id;
end
$fn$;

-- The partitions of applied_events and their bucket ranges [lo, hi); lo null: unbounded.
-- Written only by the two functions below (and this migration), under its own lock.
create table if not exists applied_events_parts (
    name  text primary key,
    lo    int,
    hi    int not null
);

do $convert$
declare
    v_bucket int;
begin
    if (select c.relkind from pg_class c where c.oid = to_regclass('applied_events')) = 'p' then
        return;   -- converted already
    end if;
    v_bucket := ((extract(epoch from now()) * 1000)::bigint / (select bucket_ms from applied_events_layout))::int;
    alter table applied_events rename to applied_events_unbounded;
    alter table applied_events_unbounded rename constraint applied_events_pkey to applied_events_unbounded_pkey;
    create table applied_events (
        event_id   uuid not null,
        projector  int  not null,   -- applied_projectors.id of the consumer group that applied it
        bucket     int  not null,   -- received_at_ms / applied_events_layout.bucket_ms
        primary key (event_id, projector, bucket)
    ) partition by range (bucket);
    create table applied_events_default partition of applied_events default;
    if exists (select 1 from applied_events_unbounded) then
        insert into applied_projectors (name) select distinct projector from applied_events_unbounded
        on conflict (name) do nothing;
        -- Filled before its key is built and attached: a sorted index build instead of
        -- one random B-tree insert per row.
        execute format('create table %I (event_id uuid not null, projector int not null, bucket int not null)',
                       'applied_events_b' || v_bucket);
        execute format('insert into %I select u.event_id, p.id, %s from applied_events_unbounded u '
                       'join applied_projectors p on p.name = u.projector',
                       'applied_events_b' || v_bucket, v_bucket);
        execute format('alter table %I add primary key (event_id, projector, bucket)', 'applied_events_b' || v_bucket);
        execute format('alter table applied_events attach partition %I for values from (%s) to (%s)',
                       'applied_events_b' || v_bucket, v_bucket, v_bucket + 1);
        insert into applied_events_parts values ('applied_events_b' || v_bucket, v_bucket, v_bucket + 1);
    end if;
    drop table applied_events_unbounded;
end
$convert$;

-- Creates the partition of bucket p_bucket unless one holds it; moves the rows the
-- default partition holds for it (a partition cannot be created over them). True if
-- it created one. Takes an exclusive lock on applied_events while it creates: call it
-- outside a batch's transaction.
create or replace function applied_events_ensure(p_bucket int) returns boolean
language plpgsql as $fn$
declare
    v_name text := 'applied_events_b' || p_bucket;
    v_ids uuid[];
    v_projectors int[];
begin
    lock table applied_events_parts in exclusive mode;
    if exists (select 1 from applied_events_parts
               where (lo is null or lo <= p_bucket) and p_bucket < hi) then
        return false;
    end if;
    lock table applied_events in access exclusive mode;
    with moved as (delete from applied_events_default where bucket = p_bucket returning event_id, projector)
    select array_agg(event_id), array_agg(projector) into v_ids, v_projectors from moved;
    execute format('create table %I partition of applied_events for values from (%s) to (%s)',
                   v_name, p_bucket, p_bucket + 1);
    insert into applied_events (event_id, projector, bucket)
    select u.event_id, u.projector, p_bucket from unnest(v_ids, v_projectors) as u(event_id, projector);
    insert into applied_events_parts values (v_name, p_bucket, p_bucket + 1);
    return true;
end
$fn$;

-- Drops every partition whose buckets all lie before p_bucket and deletes such rows
-- from the default partition. Returns the number of partitions dropped.
create or replace function applied_events_drop_before(p_bucket int) returns int
language plpgsql as $fn$
declare
    v_part record;
    v_n int := 0;
begin
    lock table applied_events_parts in exclusive mode;
    for v_part in select name from applied_events_parts where hi <= p_bucket order by hi loop
        execute format('drop table if exists %I', v_part.name);
        delete from applied_events_parts where name = v_part.name;
        v_n := v_n + 1;
    end loop;
    delete from applied_events_default where bucket < p_bucket;
    return v_n;
end
$fn$;

-- The projector's periodic call: partitions for buckets p_from..p_to (its current one
-- and the next), then drop what lies before p_drop_before. Returns partitions dropped.
create or replace function applied_events_maintain(p_from int, p_to int, p_drop_before int) returns int
language plpgsql as $fn$
begin
    for b in p_from .. p_to loop
        perform applied_events_ensure(b);
    end loop;
    return applied_events_drop_before(p_drop_before);
end
$fn$;
