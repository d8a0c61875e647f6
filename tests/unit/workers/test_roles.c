/* SPDX-License-Identifier: MIT
 * The role table and the model registry (workers/core/roles.c): every role is a
 * complete row, and every table the migrations create has exactly one writer.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_err.h"
#include "workers/core/roles.h"

Test(roles, every_row_is_complete_and_parses_back)
{
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++) {
        const struct shop_role_desc *d = shop_role_desc((enum shop_worker_role)r);
        cr_assert_not_null(d);
        cr_assert_not_null(d->name, "role %d has no name", r);
        cr_assert_not_null(d->group, "%s has no consumer group", d->name);
        cr_assert_gt(d->n_streams, 0, "%s consumes nothing", d->name);
        cr_assert_leq(d->n_streams, SHOP_STREAM_COUNT);
        for (int i = 0; i < d->n_streams; i++) {
            cr_assert_not_null(shop_stream_name(d->streams[i]), "%s: stream %d is no stream", d->name, i);
            for (int j = 0; j < i; j++)
                cr_assert_neq(d->streams[i], d->streams[j], "%s lists a stream twice", d->name);
        }
        for (int o = 0; o < r; o++) {
            cr_assert_str_neq(d->name, shop_role_desc((enum shop_worker_role)o)->name);
            cr_assert_str_neq(d->group, shop_role_desc((enum shop_worker_role)o)->group, "two roles share a group");
        }
        enum shop_worker_role back = SHOP_WORKER_ROLE_COUNT;
        cr_assert_eq(shop_role_parse(d->name, &back), 0);
        cr_assert_eq(back, (enum shop_worker_role)r);
    }
    enum shop_worker_role out = SHOP_WORKER_PROJECTOR;
    cr_assert_eq(shop_role_parse("nobody", &out), SHOP_EINVAL);
    cr_assert_eq(shop_role_parse(NULL, &out), SHOP_EINVAL);
    cr_assert_null(shop_role_desc(SHOP_WORKER_ROLE_COUNT));
}

/* The projector subscribes to exactly what its row says, in that order. */
Test(roles, the_projector_row)
{
    const struct shop_role_desc *d = shop_role_desc(SHOP_WORKER_PROJECTOR);
    cr_assert_str_eq(d->name, "projector");
    cr_assert_str_eq(d->group, "shopstream-projector");
    cr_assert_eq(d->n_streams, 5);
    const enum shop_stream want[] = {SHOP_STREAM_BROWSE, SHOP_STREAM_CART, SHOP_STREAM_ORDER, SHOP_STREAM_CATALOG,
                                     SHOP_STREAM_INVENTORY};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(d->streams[i], want[i]);
    char list[128];
    cr_assert_geq(shop_role_list(list, sizeof(list)), strlen("projector"));
    cr_assert_not_null(strstr(list, "projector"));
    char tiny[4];
    cr_assert_eq(shop_role_list(tiny, sizeof(tiny)), 3);
    cr_assert_str_eq(tiny, "pro");
}

/* The inventory consumes orders and the catalog, and writes stock alone. */
Test(roles, the_inventory_row)
{
    enum shop_worker_role r;
    cr_assert_eq(shop_role_parse("inventory", &r), 0);
    const struct shop_role_desc *d = shop_role_desc(r);
    cr_assert_str_eq(d->group, "shopstream-inventory");
    cr_assert_eq(d->n_streams, 2);
    cr_assert_eq(d->streams[0], SHOP_STREAM_ORDER);
    cr_assert_eq(d->streams[1], SHOP_STREAM_CATALOG);
    const char *const tables[] = {"inventory_stock", "inventory_orders", "inventory_reservations",
                                  "inventory_refused", "inventory_outbox"};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(shop_model_find(tables[i])->owner, r, "%s", tables[i]);
}

static void note_table_after(const char *sql, const char *head, char names[][64], int *n, int max);

static void note_table(const char *sql, char names[][64], int *n, int max)
{
    note_table_after(sql, "create table", names, n, max);
    note_table_after(sql, "create unlogged table", names, n, max);
}

static void note_table_after(const char *sql, const char *head, char names[][64], int *n, int max)
{
    size_t hl = strlen(head);
    for (const char *p = sql; (p = strstr(p, head)) != NULL; p += hl) {
        const char *q = p + hl;
        while (*q == ' ')
            q++;
        if (strncmp(q, "if not exists ", 14) == 0)
            q += 14;
        size_t len = 0;
        while (isalnum((unsigned char)q[len]) || q[len] == '_')
            len++;
        if (len == 0 || len >= 64 || *n >= max)
            continue;      /* a table named at run time (format('create table %I ...')) */
        memcpy(names[*n], q, len);
        names[*n][len] = '\0';
        (*n)++;
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

/* A table without a registry row has no recorded writer: adding a migration means
 * adding its tables' rows. (schema_migrations is created by shopstream-admin.) */
Test(roles, every_migrated_table_has_exactly_one_writer)
{
    static char names[128][64];
    int n = 0;
    DIR *dir = opendir(SHOP_SCHEMA_DIR);
    cr_assert_not_null(dir, "%s", SHOP_SCHEMA_DIR);
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", SHOP_SCHEMA_DIR, e->d_name);
        char *sql = slurp(path);
        for (char *c = sql; *c != '\0'; c++)
            *c = (char)tolower((unsigned char)*c);
        note_table(sql, names, &n, 128);
        free(sql);
    }
    closedir(dir);
    cr_assert_gt(n, 5);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "applied_events_default") == 0)
            continue;      /* a partition of applied_events */
        const struct shop_model *m = shop_model_find(names[i]);
        cr_assert_not_null(m, "table %s has no row in shop_models (workers/core/roles.c)", names[i]);
        cr_assert(m->owner == SHOP_WORKER_ROLE_NONE || shop_role_desc(m->owner) != NULL, "%s", names[i]);
    }
    for (size_t i = 0; i < shop_models_count; i++) {
        cr_assert_not_null(shop_models[i].note, "%s", shop_models[i].table);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(shop_models[i].table, shop_models[j].table, "two rows, two writers");
    }
    cr_assert_not_null(shop_model_find("schema_migrations"));
    cr_assert_null(shop_model_find("no_such_table"));
}
