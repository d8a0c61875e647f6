-- SPDX-License-Identifier: MIT
-- Activity and analytics (issue 9): read models the projector folds in event time
-- (occurred_at, UTC days), never computed from raw events at read time. Semantics:
-- docs/projections.md, "Activity and analytics"; the reads: docs/api.md.
--
-- * user_activity: per user, views, searches, cart adds, placed orders, and first and
--   last seen (occurred_at of the user's own counted events).
-- * user_spend: per user and currency, the totals of the user's orders that reached
--   paid; a paid order later cancelled or rejected takes its total back.
-- * product_daily: per product and UTC day, views (product.viewed) and units sold
--   (lines of orders on the day they were paid; taken back on that same day when the
--   order is cancelled or rejected afterwards).
-- * product_daily_revenue: the same sales as revenue, per currency (quantity x unit
--   price of the lines).
-- * category_daily: product_daily_revenue summed by the product's *current* category.
--   When the catalog changes a product's category, the product's rows move from the
--   old category to the new one in the same transaction, so the table does not depend
--   on whether a sale or the category change was consumed first (two topics).
-- * funnel_daily: (stage, day, user) with a count, so "distinct users who ... over a
--   range" is a count(distinct) over a range of the primary key. paid can go back
--   (to 0) when a paid order is cancelled or rejected.
-- Every table has one writer: the projector (workers/core/roles.c).

create table user_activity (
    user_id        text   primary key,
    views          bigint not null default 0,
    searches       bigint not null default 0,
    cart_adds      bigint not null default 0,
    orders         bigint not null default 0,   -- order.placed the projector applied
    first_seen_ms  bigint not null,
    last_seen_ms   bigint not null
) with (fillfactor = 80);

create table user_spend (
    user_id       text    not null,
    currency      char(3) not null,
    amount_minor  bigint  not null default 0,
    paid_orders   bigint  not null default 0,
    primary key (user_id, currency)
) with (fillfactor = 80);

create table product_daily (
    product_id  text   not null,
    day         date   not null,
    views       bigint not null default 0,
    units       bigint not null default 0,
    primary key (product_id, day)
) with (fillfactor = 80);
-- top-products by units: a day range over every product. Not covering on purpose: the
-- counters are updated in place many times a day, and a column in an index (INCLUDE
-- too) rules out HOT updates, so every update would write every index again.
create index product_daily_day_idx on product_daily (day);

create table product_daily_revenue (
    product_id     text    not null,
    day            date    not null,
    currency       char(3) not null,
    revenue_minor  bigint  not null default 0,
    primary key (product_id, day, currency)
) with (fillfactor = 80);
-- top-products by revenue: a day range over every product (not covering: HOT, above).
create index product_daily_revenue_day_idx on product_daily_revenue (day);

create table category_daily (
    category       text    not null,   -- '' for a product without a category
    day            date    not null,
    currency       char(3) not null,
    revenue_minor  bigint  not null default 0,
    primary key (category, day, currency)
) with (fillfactor = 80);
-- revenue by day or by category over a day range (not covering: HOT, above).
create index category_daily_day_idx on category_daily (day);

create table funnel_daily (
    stage    text   not null check (stage in ('viewed', 'carted', 'placed', 'paid')),
    day      date   not null,
    user_id  text   not null,
    n        bigint not null default 0,   -- events (paid: paid orders, net); the user counts while n > 0
    primary key (stage, day, user_id)     -- n not included: its updates stay HOT
) with (fillfactor = 80);

-- The projector locks the products whose category a batch sets or whose sales it
-- applies, sorted, before it reads them (workers/core/proj_sql.c,
-- SHOP_PROJ_SQL_PRODUCTS_LOCK): with two workers at once, the later one's category
-- move or sale then sees the earlier one's committed rows. A procedure, so the call
-- returns no rows, as every statement of a plan.
create procedure analytics_lock_products(ids text[])
language plpgsql as $$
begin
    perform 1 from products where product_id = any(ids) order by product_id for update;
end
$$;

-- Orders that reached paid before this migration: their sales, as the projector folds
-- them (on the payment's day, from the stored lines and totals, by current category),
-- so that a later cancellation or rejection does not take back what was never counted.
-- The event counters (views, searches, cart adds, placements, first and last seen, the
-- other funnel stages) cannot be recovered from the read models and start here; a
-- rebuild from the topics (docs/architecture.md) fills them too. A no-op on an empty
-- database.
create temporary table analytics_backfill on commit drop as
    select o.order_id, o.user_id, o.currency, o.total_minor,
           (select floor(min(h.at_ms) / 86400000.0)::int from order_status_history h
            where h.order_id = o.order_id and h.status = 'paid') as day
    from orders o where o.status in ('paid', 'shipped', 'delivered');
delete from analytics_backfill where day is null;
insert into product_daily (product_id, day, units)
    select l.product_id, date '1970-01-01' + b.day, sum(l.quantity)
    from analytics_backfill b join order_lines l on l.order_id = b.order_id group by 1, 2;
insert into product_daily_revenue (product_id, day, currency, revenue_minor)
    select l.product_id, date '1970-01-01' + b.day, l.currency, sum(l.quantity * l.unit_price_minor)
    from analytics_backfill b join order_lines l on l.order_id = b.order_id group by 1, 2, 3;
insert into category_daily (category, day, currency, revenue_minor)
    select coalesce(p.category, ''), r.day, r.currency, sum(r.revenue_minor)
    from product_daily_revenue r left join products p on p.product_id = r.product_id group by 1, 2, 3;
insert into user_spend (user_id, currency, amount_minor, paid_orders)
    select user_id, currency, sum(total_minor), count(*) from analytics_backfill group by 1, 2;
insert into funnel_daily (stage, day, user_id, n)
    select 'paid', date '1970-01-01' + day, user_id, count(*) from analytics_backfill group by 2, 3;
