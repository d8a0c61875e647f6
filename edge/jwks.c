/* SPDX-License-Identifier: MIT
 * SHOPSTREAM_JWT_JWKS_FILE: loads the key set at start and re-reads it when the
 * file changes, the way identity providers rotate keys. A watcher thread (off the
 * request path) compares the file's inode, size, mtime and ctime once a second; a
 * new, valid set replaces the keyring's and bumps its generation; a broken one
 * keeps the old keys and is logged once (until the file changes again). Shell.
 */
#include "edge/edge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/shop_log.h"

#define JWKS_FILE_MAX (1 << 20)
#define JWKS_POLL_MS 1000

struct file_sig {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

static bool sig_equal(const struct file_sig *a, const struct file_sig *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static int file_sig_of(const char *path, struct file_sig *s)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *s = (struct file_sig){.dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
                           .mtime = st.st_mtim, .ctime = st.st_ctim};
    return 0;
}

/* Reads and parses the file; on success *out holds one reference. */
static int load(const char *path, struct shop_jwks **out, struct shop_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return shop_err_set(err, SHOP_ECONFIG, "could not open %s: %s", path, strerror(errno));
    char *buf = shop_xmalloc(JWKS_FILE_MAX + 1);
    size_t n = fread(buf, 1, JWKS_FILE_MAX + 1, f);
    fclose(f);
    int rc;
    struct shop_err perr = {0};
    if (n > JWKS_FILE_MAX)
        rc = shop_err_set(err, SHOP_ECONFIG, "%s is larger than %d bytes", path, JWKS_FILE_MAX);
    else if (shop_jwks_parse(buf, n, out, &perr) != 0)
        rc = shop_err_set(err, SHOP_ECONFIG, "%s: %s", path, perr.msg);
    else
        rc = 0;
    free(buf);
    return rc;
}

static struct file_sig loaded_sig;   /* watcher thread (and start, before it runs) */

int edge_jwks_load(struct edge *e, struct shop_err *err)
{
    const char *path = e->cfg->jwt_jwks_file;
    struct file_sig sig = {0};
    file_sig_of(path, &sig);
    struct shop_jwks *ks = NULL;
    if (load(path, &ks, err) != 0)
        return err->code;
    loaded_sig = sig;
    SHOP_LOG(SHOP_LOG_INFO, "edge", "JWKS loaded", "file=%s keys=%zu skipped=%zu", path, ks->n,
             ks->skipped);
    shop_jwt_keyring_set(&e->keyring, ks);
    return 0;
}

static void check_once(struct edge *e, struct file_sig *seen)
{
    const char *path = e->cfg->jwt_jwks_file;
    struct file_sig now;
    if (file_sig_of(path, &now) != 0) {
        if (seen->ino != 0)
            SHOP_LOG(SHOP_LOG_WARN, "edge", "JWKS file is gone, keeping the current keys",
                     "file=%s err=\"%s\"", path, strerror(errno));
        seen->ino = 0;   /* logged once; any file that appears later is a change */
        return;
    }
    if (sig_equal(&now, seen))
        return;
    *seen = now;
    struct shop_jwks *ks = NULL;
    struct shop_err err = {0};
    if (load(path, &ks, &err) != 0) {
        SHOP_LOG(SHOP_LOG_WARN, "edge", "JWKS file changed but is not usable, keeping the current keys",
                 "err=\"%s\"", err.msg);
        return;
    }
    shop_jwt_keyring_set(&e->keyring, ks);
    SHOP_LOG(SHOP_LOG_INFO, "edge", "JWKS reloaded", "file=%s keys=%zu skipped=%zu generation=%llu",
             path, ks->n, ks->skipped,
             (unsigned long long)atomic_load(&e->keyring.generation));
}

static void *watch_main(void *arg)
{
    struct edge *e = arg;
    struct file_sig seen = loaded_sig;
    while (!atomic_load(&e->jwks_stop)) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000000L};
        for (int i = 0; i < JWKS_POLL_MS / 100 && !atomic_load(&e->jwks_stop); i++)
            nanosleep(&ts, NULL);
        if (!atomic_load(&e->jwks_stop))
            check_once(e, &seen);
    }
    return NULL;
}

void edge_jwks_watch_start(struct edge *e)
{
    if (e->cfg->jwt_jwks_file == NULL)
        return;
    atomic_store(&e->jwks_stop, false);
    pthread_create(&e->jwks_tid, NULL, watch_main, e);
    e->jwks_watching = true;
}

void edge_jwks_watch_stop(struct edge *e)
{
    if (!e->jwks_watching)
        return;
    atomic_store(&e->jwks_stop, true);
    pthread_join(e->jwks_tid, NULL);
    e->jwks_watching = false;
}
