-- SPDX-License-Identifier: MIT
-- Read models maintained by the projector, plus the bookkeeping that makes
-- their effects exactly-once: consumed offsets are written in the same
-- transaction as the effects, and every applied event id is remembered so a
-- client retry (same event id, new Kafka record) changes nothing.
-- Money: integer minor units + ISO 4217 code. Times: UTC epoch milliseconds.

create table consumer_offsets (
    consumer_group text   not null,
    topic          text   not null,
    partition      int    not null,
    next_offset    bigint not null,   -- offset of the next record to consume
    updated_at_ms  bigint not null,
    primary key (consumer_group, topic, partition)
);

create table applied_events (
    projector     text   not null,   -- consumer group that applied it
    event_id      uuid   not null,
    topic         text   not null,
    partition     int    not null,
    kafka_offset  bigint not null,
    primary key (projector, event_id)
);

create table products (
    product_id     text primary key,
    name           text,
    category       text,
    price_minor    bigint,
    currency       char(3),
    stock          bigint not null default 0,
    views          bigint not null default 0,
    purchases      bigint not null default 0,   -- units ordered
    updated_at_ms  bigint not null default 0
);

create table cart_items (
    user_id          text   not null,
    product_id       text   not null,
    quantity         int    not null check (quantity > 0),
    unit_price_minor bigint,
    currency         char(3),
    updated_at_ms    bigint not null,
    primary key (user_id, product_id)
);

create table carts (
    user_id        text primary key,
    updated_at_ms  bigint not null
);

create table orders (
    order_id       text primary key,
    user_id        text   not null,
    status         text   not null check (status in ('placed','paid','shipped','delivered','cancelled')),
    total_minor    bigint not null,
    currency       char(3) not null,
    placed_at_ms   bigint not null,
    updated_at_ms  bigint not null
);
create index orders_user_idx on orders (user_id, placed_at_ms desc);

create table order_lines (
    order_id         text   not null references orders (order_id),
    line_no          int    not null,
    product_id       text   not null,
    quantity         int    not null check (quantity > 0),
    unit_price_minor bigint not null,
    currency         char(3) not null,
    primary key (order_id, line_no)
);

create table order_status_history (
    order_id   text   not null references orders (order_id),
    status     text   not null,
    at_ms      bigint not null,
    event_id   uuid   not null,
    primary key (order_id, event_id)
);
