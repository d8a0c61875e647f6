-- SPDX-License-Identifier: MIT
-- The inventory role's tables (shopstream-worker --role inventory, docs/inventory.md).
-- It is the only writer of stock: per product on_hand, reserved and the generated
-- available = on_hand - reserved, which the CHECKs keep at or above zero, so a bug
-- that would oversell fails its transaction instead. The edge only reads
-- inventory_stock (GET /v1/products/{id}); the projector stops writing
-- products.stock and learns confirmed/rejected from the role's topic.
--
-- One batch is one transaction: the orders it names and then the products it touches
-- are locked in key order (FOR UPDATE ... ORDER BY), the plan writes absolute values,
-- its outcomes go to inventory_outbox, and consumer_offsets / applied_events (0001,
-- 0004) record what was consumed. A relay then publishes the outbox with an idempotent
-- producer and deletes what was delivered; outcome ids are UUID v5 of (order, outcome),
-- so a second relay of a row after a crash repeats the same event.

create table inventory_stock (
    product_id           text primary key,
    on_hand              bigint not null default 0,
    reserved             bigint not null default 0,
    available            bigint generated always as (on_hand - reserved) stored,
    -- null: the role's default (SHOPSTREAM_INVENTORY_LOW_STOCK); set by operators
    low_stock_threshold  bigint check (low_stock_threshold >= 0),
    -- the catalog's current price, as last seen on the catalog topic; null until a
    -- catalog.product_upserted (orders for the product are rejected unknown_product)
    price_minor          bigint,
    currency             char(3),
    at_ms                bigint not null default 0,   -- newest event time folded in
    constraint inventory_stock_reserved_nonneg check (reserved >= 0),
    constraint inventory_stock_available_nonneg check (on_hand - reserved >= 0),
    constraint inventory_stock_price_pair check ((price_minor is null) = (currency is null))
) with (fillfactor = 50);   -- every batch rewrites the rows it locks: room for HOT updates

-- One row per order the role has seen placed, with its one reservation outcome. The
-- status follows the order's life as far as the role applied it (workers/core/order_life).
create table inventory_orders (
    order_id         text primary key,
    user_id          text   not null,   -- the owner: the user who placed it
    status           text   not null
        check (status in ('confirmed', 'rejected', 'paid', 'shipped', 'delivered', 'cancelled')),
    outcome          text   not null check (outcome in ('reserved', 'rejected')),
    reason           text
        check (reason in ('out_of_stock', 'price_mismatch', 'unknown_product')),
    placed_event_id  uuid   not null,
    placed_at_ms     bigint not null,
    updated_at_ms    bigint not null,
    constraint inventory_orders_reason check ((outcome = 'rejected') = (reason is not null))
) with (fillfactor = 70);

-- The units an order holds per product (lines of one product summed). Only reserved
-- orders have rows; held -> released (cancelled) or committed (shipped).
create table inventory_reservations (
    order_id    text   not null,
    product_id  text   not null,
    quantity    bigint not null check (quantity > 0),
    state       text   not null check (state in ('held', 'released', 'committed')),
    primary key (order_id, product_id)
) with (fillfactor = 70);

-- Events the role did not apply, with order_life's reason (docs/events.md, "Order life
-- cycle"): a second order.placed for an existing id, a step for an order it never saw
-- placed, a transition the life cycle forbids, a shopper acting on another user's
-- order, a role that may not take the step.
create table inventory_refused (
    event_id        uuid   not null,
    consumer_group  text   not null,
    event_type      text   not null,
    order_id        text,
    user_id         text   not null,
    reason          text   not null
        check (reason in ('order_exists', 'unknown_order', 'illegal_transition', 'not_owner', 'not_allowed')),
    at_ms           bigint not null,
    primary key (event_id, consumer_group)
);

-- Outcome events waiting for the relay, in the order they were decided (id). payload
-- is the serialized shopstream.v1.Event; the CloudEvents headers are derived from it
-- when it is produced.
create table inventory_outbox (
    id             bigint generated always as identity primary key,
    event_id       uuid   not null unique,
    topic          text   not null,
    key            text   not null,
    payload        bytea  not null,
    created_at_ms  bigint not null
);
