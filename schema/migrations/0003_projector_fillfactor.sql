-- SPDX-License-Identifier: MIT
-- Room for HOT updates in the read models the projector updates in place: every
-- batch rewrites the products it touches (views, stock, purchases) and the carts
-- and orders whose state changed. With full pages (fillfactor 100) the new row
-- version lands on another page and every index of the table gets a new entry;
-- with free space on the page it stays there and no index is touched. Applies to
-- pages written from now on.
alter table products set (fillfactor = 50);
alter table carts set (fillfactor = 70);
alter table cart_items set (fillfactor = 70);
alter table orders set (fillfactor = 70);
