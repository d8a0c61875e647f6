-- SPDX-License-Identifier: MIT
-- Rebuild a read model beside the live one (shopstream-admin rebuild, docs/operations.md
-- "Replay, rebuild and backfill"). Functions only: names reach SQL through format('%I'),
-- values as parameters, so the admin tool never pastes text into a statement.
--
-- rebuild_prepare creates the shadow schema rebuild_<model> with a copy of every table of
-- the rebuilding role (LIKE ... INCLUDING ALL: columns, defaults, checks, generated
-- columns, indexes, comments; plus the table's storage parameters and persistence); the
-- role's real worker then folds the topics into it (SHOPSTREAM_PG_SCHEMA puts it first on
-- its search_path). rebuild_swap moves the model's live tables out to rebuild_<model>_old
-- and the rebuilt ones in, in one transaction, after checking that the rebuilt tables are
-- at exactly the live group's offsets.

create or replace function rebuild_prepare(p_schema text, p_tables text[]) returns boolean
language plpgsql as $fn$
declare
    t text;
    v_rel record;
begin
    if p_schema !~ '^rebuild_[a-z0-9_]+$' then
        raise exception 'not a rebuild schema: %', p_schema;
    end if;
    if exists (select 1 from pg_namespace where nspname = p_schema) then
        return false;   -- a rebuild under way: resumed at its group's offsets
    end if;
    execute format('create schema %I', p_schema);
    foreach t in array p_tables loop
        select c.relpersistence, c.reloptions into v_rel from pg_class c
        where c.oid = format('public.%I', t)::regclass;
        execute format('create %s table %I.%I (like public.%I including all)',
                       case when v_rel.relpersistence = 'u' then 'unlogged' else '' end, p_schema, t, t);
        if v_rel.reloptions is not null then
            execute format('alter table %I.%I set (%s)', p_schema, t, array_to_string(v_rel.reloptions, ', '));
        end if;
    end loop;
    return true;
end
$fn$;

-- The live group's offsets the rebuilt tables must be at: every partition either group
-- has a row for, with equal next offsets (a missing row is 0).
create or replace function rebuild_offsets_differ(p_live text, p_rebuild text) returns bigint
language sql as $fn$
    select count(*) from (
        select topic, partition, next_offset from consumer_offsets where consumer_group = p_live and next_offset > 0
        except
        select topic, partition, next_offset from consumer_offsets where consumer_group = p_rebuild and next_offset > 0
    ) d
$fn$;

-- Moves the new index names onto the rebuilt table's indexes: LIKE names them after their
-- columns, the live ones have the names readers and plans know (orders_user_idx).
create or replace function rebuild_rename_indexes(p_old regclass, p_new regclass) returns void
language plpgsql as $fn$
declare
    v record;
begin
    for v in
        select oi.relname as old_name, ni.relname as new_name, nn.nspname as new_schema
        from pg_index o join pg_class oi on oi.oid = o.indexrelid
        join pg_index n on n.indrelid = p_new and n.indkey = o.indkey and n.indclass = o.indclass
            and n.indisunique = o.indisunique and n.indisprimary = o.indisprimary
            and coalesce(pg_get_expr(n.indpred, n.indrelid), '') = coalesce(pg_get_expr(o.indpred, o.indrelid), '')
            and coalesce(pg_get_expr(n.indexprs, n.indrelid), '') = coalesce(pg_get_expr(o.indexprs, o.indrelid), '')
        join pg_class ni on ni.oid = n.indexrelid join pg_namespace nn on nn.oid = ni.relnamespace
        where o.indrelid = p_old and ni.relname <> oi.relname
    loop
        execute format('alter index %I.%I rename to %I', v.new_schema, v.new_name, v.old_name);
    end loop;
end
$fn$;

-- The swap, one transaction (the caller's): the live tables locked, the offsets checked,
-- refusals re-owned by the live group, old tables out to <schema>_old with their index
-- names and grants handed to the new ones, the rebuilt tables into public. Refuses
-- tables a view depends on (the view would follow the old table).
create or replace function rebuild_swap(p_schema text, p_tables text[], p_live text, p_rebuild text)
returns void
language plpgsql as $fn$
declare
    t text;
    v_old text := p_schema || '_old';
    g record;
begin
    if p_schema !~ '^rebuild_[a-z0-9_]+$' then
        raise exception 'not a rebuild schema: %', p_schema;
    end if;
    foreach t in array (select array_agg(x order by x) from unnest(p_tables) x) loop
        execute format('lock table public.%I in access exclusive mode', t);
    end loop;
    perform 1 from consumer_offsets where consumer_group in (p_live, p_rebuild) order by 1 for update;
    if rebuild_offsets_differ(p_live, p_rebuild) > 0 or rebuild_offsets_differ(p_rebuild, p_live) > 0 then
        raise exception 'the rebuilt tables are not at the live group''s offsets (% vs %)', p_rebuild, p_live
            using errcode = 'P0002';
    end if;
    if exists (select 1 from pg_depend d join pg_rewrite r on r.oid = d.objid
               where d.refobjid = any (select format('public.%I', x)::regclass from unnest(p_tables) x)
               and d.classid = 'pg_rewrite'::regclass and r.ev_class <> d.refobjid) then
        raise exception 'a view depends on a table of the model; drop it before the swap and create it again after';
    end if;
    if 'refused_events' = any (p_tables) then
        execute format('update %I.refused_events set consumer_group = $1 where consumer_group = $2', p_schema)
            using p_live, p_rebuild;
    end if;
    execute format('drop schema if exists %I cascade', v_old);
    execute format('create schema %I', v_old);
    foreach t in array p_tables loop
        execute format('alter table public.%I set schema %I', t, v_old);
        perform rebuild_rename_indexes(format('%I.%I', v_old, t)::regclass, format('%I.%I', p_schema, t)::regclass);
        execute format('alter table %I.%I set schema public', p_schema, t);
        for g in select grantee, privilege_type from information_schema.role_table_grants
                 where table_schema = v_old and table_name = t and grantee <> current_user loop
            execute format('grant %s on public.%I to %s', g.privilege_type, t,
                           case when g.grantee = 'PUBLIC' then 'public' else quote_ident(g.grantee) end);
        end loop;
    end loop;
    execute format('drop schema %I cascade', p_schema);
end
$fn$;
