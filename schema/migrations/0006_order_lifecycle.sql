-- SPDX-License-Identifier: MIT
-- The order life cycle of issue 7 (docs/events.md "Order life cycle",
-- workers/core/order_life.c) in the projector's read model, and the events it
-- refuses. Names and formats: docs/projections.md, "Tables and their writers".
--
-- * orders.status gains confirmed and rejected (the inventory's decision);
--   orders.rejection holds a rejected order's reason and short lines as JSON.
-- * refused_events: one row per event the life cycle or the ownership rule refused
--   (a second order.placed for an id, a step for an unknown order, an illegal
--   transition, a shopper acting on another user's order, a role that may not take
--   the step). Written in the batch's transaction, with its offsets: exactly once.
-- * order_decisions_pending: an inventory decision consumed before its order's
--   placement (the order and inventory topics are not ordered against each other)
--   waits here and is applied, and deleted, when the placement is consumed.
-- * order_gate: where a placement and its decision meet when two workers consume them
--   at once (workers/core/proj_sql.c, SHOP_PROJ_SQL_ORDER_GATE). Empty between
--   transactions, so unlogged: nothing in it has to survive a crash.
-- * products.stock is no longer written by the projector: the inventory worker
--   (0005, inventory_stock) is the only writer of stock. The column stays while the
--   edge's product read still names it; a later migration drops it.

alter table orders drop constraint if exists orders_status_check;
alter table orders add constraint orders_status_check
    check (status in ('placed', 'confirmed', 'rejected', 'paid', 'shipped', 'delivered', 'cancelled'));
alter table orders add column if not exists rejection jsonb;

comment on column products.stock is
    'no longer written (migration 0006): stock is inventory_stock, written by the inventory worker';

create table if not exists refused_events (
    consumer_group  text   not null,   -- the projector's group that refused it
    event_id        uuid   not null,
    topic           text   not null,
    partition       int    not null,
    kafka_offset    bigint not null,
    type            text   not null,   -- e.g. order.cancelled
    order_id        text   not null,
    user_id         text   not null,   -- the event's user_id
    actor_role      text   not null,   -- shopper, service, admin; '' before the edge stamped it
    reason          text   not null check (reason in
                        ('order_exists', 'unknown_order', 'illegal_transition', 'not_owner', 'not_allowed')),
    order_status    text   not null,   -- the order's status when refused; 'none' if unknown
    occurred_at_ms  bigint not null,
    refused_at_ms   bigint not null,   -- the worker's clock at the batch
    primary key (consumer_group, event_id)
);
create index if not exists refused_events_order_idx on refused_events (order_id);

create table if not exists order_decisions_pending (
    order_id        text   not null,
    event_id        uuid   not null,
    topic           text   not null,
    partition       int    not null,
    kafka_offset    bigint not null,
    type            text   not null,   -- inventory.reserved or inventory.rejected
    user_id         text   not null,
    actor_role      text   not null,
    status          text   not null check (status in ('confirmed', 'rejected')),
    rejection       jsonb,             -- as orders.rejection, for a rejection
    at_ms           bigint not null,   -- the decision's occurred_at_ms
    primary key (order_id, event_id)
);

create unlogged table if not exists order_gate (
    order_id  text primary key
);
