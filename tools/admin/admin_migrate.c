/* SPDX-License-Identifier: MIT
 * `shopstream-admin migrate`: applies schema/migrations/NNNN_name.sql in order,
 * each in its own transaction together with its row in schema_migrations.
 * An advisory lock serialises concurrent runs; a CRC of each applied file is
 * kept, so an edited migration is reported instead of silently skipped. Shell. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"
#include "tools/admin/admin.h"

#define MIGRATIONS_LOCK_KEY 1936224112 /* "shop" in ASCII */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of NNNN_*.sql file names in dir; caller frees each and the array. */
static int list_migrations(const char *dir, char ***names, size_t *n, struct shop_err *err)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return shop_err_set(err, SHOP_EIO, "could not open migrations dir %s: %s", dir, strerror(errno));
    size_t cap = 16;
    *names = shop_xmalloc(cap * sizeof(char *));
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 9 || strcmp(de->d_name + len - 4, ".sql") != 0 || strspn(de->d_name, "0123456789") != 4 ||
            de->d_name[4] != '_')
            continue;
        if (*n == cap)
            *names = shop_xrealloc(*names, (cap *= 2) * sizeof(char *));
        (*names)[(*n)++] = shop_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(*names, *n, sizeof(char *), cmp_names);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0, r;
    char *buf = shop_xmalloc(cap);
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap)
            buf = shop_xrealloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int exec_ok(PGconn *conn, const char *sql, struct shop_err *err)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        shop_err_set(err, SHOP_EPG, "%s", PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : SHOP_EPG;
}

/* Applies one migration unless recorded; returns 1 if applied, 0 if already there. */
static int apply_one(PGconn *conn, const char *dir, const char *name, struct shop_err *err)
{
    char path[1024], version[8], crc_text[16];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    memcpy(version, name, 4);
    version[4] = '\0';
    size_t len;
    char *sql = read_file(path, &len);
    if (sql == NULL)
        return shop_err_set(err, SHOP_EIO, "could not read %s: %s", path, strerror(errno));
    snprintf(crc_text, sizeof(crc_text), "%08lx", crc32(0L, (const Bytef *)sql, (uInt)len));

    const char *params[3] = {version, name, crc_text};
    PGresult *res = PQexecParams(conn, "select checksum from schema_migrations where version = $1::int", 1, NULL,
                                 params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = shop_err_set(err, SHOP_EPG, "could not read schema_migrations: %s", PQresultErrorMessage(res));
    } else if (PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 0), crc_text) != 0)
            rc = shop_err_set(err, SHOP_EINVAL, "migration %s was edited after it was applied (crc %s, recorded %s)",
                              name, crc_text, PQgetvalue(res, 0, 0));
        PQclear(res);
        free(sql);
        return rc;
    }
    PQclear(res);
    if (rc == 0 && (rc = exec_ok(conn, "begin", err)) == 0) {
        if ((rc = exec_ok(conn, sql, err)) == 0) {
            res = PQexecParams(conn, "insert into schema_migrations (version, name, checksum) values ($1::int, $2, $3)",
                               3, NULL, params, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_COMMAND_OK)
                rc = shop_err_set(err, SHOP_EPG, "could not record %s: %s", name, PQresultErrorMessage(res));
            PQclear(res);
        } else {
            shop_err_set(err, SHOP_EPG, "migration %s failed: %s", name, err->msg);
        }
        rc = rc == 0 ? exec_ok(conn, "commit", err) : (exec_ok(conn, "rollback", NULL), rc);
    }
    free(sql);
    return rc == 0 ? 1 : rc;
}

int admin_migrate(const char *dsn, const char *dir, struct shop_err *err)
{
    char **names = NULL;
    size_t n = 0, applied = 0;
    int rc = list_migrations(dir, &names, &n, err);
    if (rc != 0)
        return rc;
    PGconn *conn = PQconnectdb(dsn);
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = shop_err_set(err, SHOP_EPG, "could not connect to postgresql: %s", PQerrorMessage(conn));
        goto out_finish_conn;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL); /* "already exists, skipping" is expected */
    rc = exec_ok(conn,
                 "create table if not exists schema_migrations ("
                 " version int primary key, name text not null, checksum text not null,"
                 " applied_at timestamptz not null default now())",
                 err);
    if (rc == 0)
        rc = exec_ok(conn, "select pg_advisory_lock(" SHOP_STR(MIGRATIONS_LOCK_KEY) ")", err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int r = apply_one(conn, dir, names[i], err);
        if (r == 1) {
            applied++;
            SHOP_LOG(SHOP_LOG_INFO, "admin", "applied migration", "name=%s", names[i]);
        }
        rc = r < 0 ? r : 0;
    }
    if (rc == 0)
        SHOP_LOG(SHOP_LOG_INFO, "admin", "schema up to date", "applied=%zu known=%zu", applied, n);
out_finish_conn:
    PQfinish(conn);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
