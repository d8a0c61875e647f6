-- SPDX-License-Identifier: MIT
-- ML read models for the contract test, as the ML worker would write them, so that
-- schemathesis checks the ML reads' 200 bodies with data in them, not only the empty
-- answers. The catalog and orders come through the edge and the workers (run.sh).
insert into ml_models (model, version, trained_at_ms, watermark_ms) values
    ('recommend', 7, 1764547200000, 1764547200000),
    ('segment', 3, 1764540000000, 1764540000000),
    ('forecast', 5, 1764540000000, 1764540000000);
insert into ml_popular (model_version, items, scores, updated_at_ms)
    values (7, array['p1','p2'], array[0.9,0.5], 1764547200000);
insert into ml_similar (product_id, model_version, items, scores, updated_at_ms)
    values ('p1', 7, array['p2','p3'], array[0.8,0.7], 1764547200000);
insert into ml_segments (segment, model_version, size, centre, label, profile) values
    (0, 3, 40, array[0.5,-1.25,2], 'lapsed, occasional, low spend',
     '{"recency_days":120,"orders":1,"spend":900}'),
    (1, 3, 12, array[-0.5,1.5,1], 'recent, frequent, high spend',
     '{"recency_days":3,"orders":14,"spend":52000}');
insert into ml_user_segments (user_id, segment, model_version, features, updated_at_ms)
    values (:'shopper', 1, 3, array[-0.5,1.5,1], 1764540000000);
insert into ml_forecasts (product_id, model_version, method, start_date, daily, updated_at_ms)
    values ('p1', 5, 'holt_winters', date '2025-12-01', array[2.0,2.5,1.0,3.0], 1764540000000);
