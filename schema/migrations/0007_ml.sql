-- SPDX-License-Identifier: MIT
-- The ML role's tables (shopstream-worker --role ml, docs/ml.md). The role is their
-- only writer; the edge reads the ml_user_* / ml_similar / ml_segments / ml_forecasts /
-- ml_popular / ml_models rows and joins inventory_stock for what is in stock.
--
-- One instance of the group owns the models at a time: it holds the PostgreSQL
-- advisory lock of the group and the lease row's epoch, and every write transaction
-- checks that epoch (a fenced instance fails instead of writing). Its state is
-- checkpointed as one ml_checkpoints row with the models' library records in
-- ml_snapshots, written in one transaction with the offsets they cover (inside the
-- checkpoint row), so a restarted or standby instance loads the latest checkpoint and
-- replays only what came after it.

-- Who owns the group's models: one row per consumer group.
create table ml_lease (
    group_id     text primary key,
    epoch        bigint not null,          -- bumped by every instance that takes over
    holder       text   not null,          -- host:pid of the owner, for operators
    acquired_at  timestamptz not null default now()
);

-- A consistent cut of the role's state: the per-user and per-product state and the
-- reorder buffer (state), and the next offset of every consumed partition (offsets:
-- [{"topic":..,"partition":..,"offset":..}]). Everything before those offsets is in
-- the state or its models; nothing after it is.
create table ml_checkpoints (
    id            bigserial primary key,
    group_id      text   not null,
    epoch         bigint not null,
    watermark_ms  bigint not null,          -- the stream's event-time clock at the cut
    offsets       jsonb  not null,
    state         bytea  not null,
    state_version bigint not null default 0, -- the state record's version (its seq)
    created_at    timestamptz not null default now()
);
create index ml_checkpoints_latest on ml_checkpoints (group_id, id desc);

-- Each model of a checkpoint in the library's serialised form (ml/ml_codec.h), with
-- its version and training metrics. Old checkpoints are deleted by the role.
create table ml_snapshots (
    checkpoint_id  bigint not null references ml_checkpoints (id) on delete cascade,
    model          text   not null,          -- "als", "cooc", "kmeans", "scaler", "pop", "forecast"
    version        bigint not null,
    format         int    not null,          -- SHOP_ML_FORMAT_VERSION of payload
    payload        bytea  not null,
    metrics        jsonb  not null default '{}',
    trained_at_ms  bigint,                   -- event time of the training; null if never trained
    primary key (checkpoint_id, model)
);

-- The published model versions the reads name: "recommend", "segment", "forecast".
create table ml_models (
    model          text primary key,
    version        bigint not null,
    trained_at_ms  bigint not null,          -- event time the version was trained at
    watermark_ms   bigint not null,          -- event time the role has seen
    metrics        jsonb  not null default '{}'
);

-- Each known user's top list, best first, refreshed on every fold-in. Bought items
-- are already excluded; the edge drops what is out of stock and cuts to ?limit.
create table ml_user_recs (
    user_id        text primary key,
    model_version  bigint not null,          -- ml_models' "recommend" version it came from
    items          text[] not null,
    scores         float8[] not null,
    fallback       boolean not null default false,  -- popularity: the model has no factors for the user
    updated_at_ms  bigint not null,
    constraint ml_user_recs_len check (cardinality(items) = cardinality(scores))
);

-- The popularity list, for users the model does not know yet. One row.
create table ml_popular (
    id             smallint primary key default 1 check (id = 1),
    model_version  bigint not null,
    items          text[] not null,
    scores         float8[] not null,
    updated_at_ms  bigint not null,
    constraint ml_popular_len check (cardinality(items) = cardinality(scores))
);

-- Items bought together with a product (co-occurrence cosine), best first.
create table ml_similar (
    product_id     text primary key,
    model_version  bigint not null,
    items          text[] not null,
    scores         float8[] not null,
    updated_at_ms  bigint not null,
    constraint ml_similar_len check (cardinality(items) = cardinality(scores))
);

-- Each user's segment and standardised features at the assignment.
create table ml_user_segments (
    user_id        text primary key,
    segment        int    not null,
    model_version  bigint not null,
    features       float8[] not null,
    updated_at_ms  bigint not null
);

-- Every segment of the current segmentation model.
create table ml_segments (
    segment        int primary key,
    model_version  bigint not null,
    size           bigint not null,
    centre         float8[] not null,        -- standardised, in ml_features' column order
    label          text   not null,          -- e.g. "recent, frequent, high spend"
    profile        jsonb  not null           -- {"recency_days":..,"orders":..,...} in plain units
);

-- Each product's daily demand forecast from start_date on (event-time days, UTC).
create table ml_forecasts (
    product_id     text primary key,
    model_version  bigint not null,
    method         text   not null,          -- "holt_winters", "croston", "sba", "tsb", "seasonal_naive"
    start_date     date   not null,
    daily          float8[] not null,
    updated_at_ms  bigint not null
);

-- ml.* events waiting for the relay to <prefix>ml.v1. seq is the state's own
-- counter (snapshotted), so a replay after a crash regenerates the same seq and
-- ml_outbox_mark skips what was already queued; event ids are UUID v5 of the change.
create table ml_outbox (
    seq         bigint primary key,
    event_id    uuid   not null,
    msg_key     text   not null,
    payload     bytea  not null
);

create table ml_outbox_mark (
    group_id  text primary key,
    last_seq  bigint not null
);
