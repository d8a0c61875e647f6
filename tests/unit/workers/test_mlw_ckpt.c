/* SPDX-License-Identifier: MIT
 * workers/core/mlw_ckpt.c: the ML core's checkpoints. Restored and continued, a state
 * ends byte-identical to a run never checkpointed (the kill -9 guarantee at the core's
 * level); two interleavings of the same partitions give byte-identical checkpoints;
 * corrupt parts are rejected and leave the target untouched; a checkpoint is refused
 * while a job is out or changes wait for the drain.
 */
#include <criterion/criterion.h>

#include "mlw_fixture.h"

static struct shop_arena arena;

static void setup(void)
{
    arena = (struct shop_arena)SHOP_ARENA_INIT;
}

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(mlw_ckpt, .init = setup, .fini = teardown);


static struct shop_mlw *mk(const struct shop_mlw_cfg *c)
{
    struct shop_err err = {0};
    struct shop_mlw *m = mlw_make_or(c, &err);
    cr_assert_not_null(m, "%s", err.msg);
    return m;
}

/* Release, take, run and finish at once. */
static void pump(struct shop_mlw *m, bool flush)
{
    for (;;) {
        shop_mlw_release(m, flush);
        struct shop_mlw_job *j = shop_mlw_job_take(m);
        if (j == NULL)
            break;
        shop_mlw_job_run(j);
        shop_mlw_job_finish(m, j);
    }
}

static void feed(struct shop_mlw *m, const struct mrec *recs, size_t from, size_t to, struct mtext *t)
{
    struct shop_mlw_sink sink = mt_sink(t);
    for (size_t i = from; i < to; i++) {
        cr_assert_geq(shop_mlw_push(m, recs[i].stream, recs[i].partition, recs[i].offset, recs[i].ev), 0);
        pump(m, false);
        if (i % 25 == 0)
            shop_mlw_drain(m, &sink);
    }
}

static void finish_all(struct shop_mlw *m, struct mtext *t)
{
    struct shop_mlw_sink sink = mt_sink(t);
    /* A record far past every swap point closes the stream. */
    mclose(&arena, m);
    while (shop_mlw_buffered(m) > 0 || shop_mlw_job_out(m) || shop_mlw_waiting(m))
        pump(m, true);
    shop_mlw_drain(m, &sink);
}

/* A checkpoint's parts copied out (the state owns its bytes until the next one). */
struct saved {
    struct shop_mlw_part parts[SHOP_MLW_PARTS_MAX];
    uint8_t *bytes[SHOP_MLW_PARTS_MAX];
    int n;
};

static int save(struct shop_mlw *m, struct saved *s, struct shop_err *err)
{
    s->n = shop_mlw_checkpoint(m, s->parts, SHOP_MLW_PARTS_MAX, err);
    for (int i = 0; i < s->n; i++) {
        s->bytes[i] = malloc(s->parts[i].len);
        memcpy(s->bytes[i], s->parts[i].bytes, s->parts[i].len);
        s->parts[i].bytes = s->bytes[i];
    }
    return s->n;
}

static void saved_free(struct saved *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->bytes[i]);
    s->n = 0;
}

static void assert_same(const struct saved *a, const struct saved *b)
{
    cr_assert_eq(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        cr_assert_str_eq(a->parts[i].model, b->parts[i].model);
        cr_assert_eq(a->parts[i].len, b->parts[i].len, "%s: %zu vs %zu bytes", a->parts[i].model, a->parts[i].len,
                     b->parts[i].len);
        cr_assert(memcmp(a->parts[i].bytes, b->parts[i].bytes, a->parts[i].len) == 0, "%s differs",
                  a->parts[i].model);
        cr_assert_eq(a->parts[i].version, b->parts[i].version);
        cr_assert_str_eq(a->parts[i].metrics_json, b->parts[i].metrics_json);
    }
}

Test(mlw_ckpt, restored_and_continued_ends_byte_identical_to_a_run_without_it)
{
    size_t n;
    struct mrec *recs = mshop(&arena, 30, 24, 30, 3, &n);
    struct shop_mlw_cfg c = mlw_small_cfg();
    struct shop_mlw *a = mk(&c), *b = mk(&c);
    struct mtext ta = {0}, tb = {0};
    struct shop_mlw_sink sa = mt_sink(&ta), sb = mt_sink(&tb);
    /* Both up to a point where a checkpoint is allowed (no job out), past a few trainings. */
    size_t cut = n / 2;
    feed(a, recs, 0, cut, &ta);
    feed(b, recs, 0, cut, &tb);
    struct shop_err err;
    struct saved mid = {0};
    for (;;) {
        shop_mlw_drain(a, &sa);
        shop_mlw_drain(b, &sb);
        if (save(b, &mid, &err) > 0)
            break;
        cr_assert_eq(err.code, SHOP_EBUSY, "%s", err.msg);
        feed(a, recs, cut, cut + 1, &ta);
        feed(b, recs, cut, cut + 1, &tb);
        cut++;
        cr_assert_lt(cut, n);
    }
    struct shop_mlw_stats st;
    shop_mlw_stats(b, &st);
    cr_assert_gt(st.jobs, 0, "trained before the cut");
    cr_assert_gt(shop_mlw_buffered(b), 0, "the cut holds buffered events");
    /* b "dies": a new state restores its checkpoint and goes on. */
    shop_mlw_free(b);
    b = mk(&c);
    cr_assert_eq(shop_mlw_restore(b, mid.parts, (size_t)mid.n, &err), 0, "%s", err.msg);
    struct saved again = {0};
    cr_assert_gt(save(b, &again, &err), 0, "%s", err.msg);
    assert_same(&mid, &again);
    size_t drained_a = ta.len;
    struct mtext tb2 = {0};
    feed(a, recs, cut, n, &ta);
    feed(b, recs, cut, n, &tb2);
    finish_all(a, &ta);
    finish_all(b, &tb2);
    cr_assert_eq(ta.len - drained_a, tb2.len);
    cr_assert(strcmp(ta.buf + drained_a, tb2.buf) == 0, "drains after the restore differ");
    struct saved fa = {0}, fb = {0};
    cr_assert_gt(save(a, &fa, &err), 0, "%s", err.msg);
    cr_assert_gt(save(b, &fb, &err), 0, "%s", err.msg);
    assert_same(&fa, &fb);
    shop_mlw_stats(a, &st);
    cr_assert_gt(st.jobs, 2);
    saved_free(&mid);
    saved_free(&again);
    saved_free(&fa);
    saved_free(&fb);
    free(ta.buf);
    free(tb.buf);
    free(tb2.buf);
    free(recs);
    shop_mlw_free(a);
    shop_mlw_free(b);
}

Test(mlw_ckpt, corrupt_parts_are_rejected_and_leave_the_state_untouched)
{
    size_t n;
    struct mrec *recs = mshop(&arena, 20, 16, 20, 9, &n);
    struct shop_mlw_cfg c = mlw_small_cfg();
    struct shop_mlw *a = mk(&c);
    struct mtext t = {0};
    feed(a, recs, 0, n, &t);
    finish_all(a, &t);
    struct shop_err err;
    struct saved s = {0};
    cr_assert_gt(save(a, &s, &err), 4, "%s", err.msg);
    for (int i = 0; i < s.n; i++) {
        for (size_t at = 0; at < s.parts[i].len; at += s.parts[i].len / 7 + 1) {
            s.bytes[i][at] ^= 0x20;
            struct shop_mlw *b = mk(&c);
            cr_assert_eq(shop_mlw_restore(b, s.parts, (size_t)s.n, &err), SHOP_EBADMSG, "%s byte %zu",
                         s.parts[i].model, at);
            struct shop_mlw_stats st;
            shop_mlw_stats(b, &st);
            cr_assert_eq(st.users, 0);
            cr_assert_eq(shop_mlw_buffered(b), 0);
            shop_mlw_free(b);
            s.bytes[i][at] ^= 0x20;
        }
        /* Truncated. */
        size_t len = s.parts[i].len;
        s.parts[i].len = len / 2;
        struct shop_mlw *b = mk(&c);
        cr_assert_eq(shop_mlw_restore(b, s.parts, (size_t)s.n, &err), SHOP_EBADMSG, "%s truncated", s.parts[i].model);
        shop_mlw_free(b);
        s.parts[i].len = len;
    }
    /* Without its state part. */
    struct shop_mlw *b = mk(&c);
    cr_assert_eq(shop_mlw_restore(b, s.parts + 1, (size_t)s.n - 1, &err), SHOP_EBADMSG);
    /* The intact checkpoint still loads into the same target. */
    cr_assert_eq(shop_mlw_restore(b, s.parts, (size_t)s.n, &err), 0, "%s", err.msg);
    struct shop_mlw_stats sa, sb;
    shop_mlw_stats(a, &sa);
    shop_mlw_stats(b, &sb);
    cr_assert_eq(sa.users, sb.users);
    cr_assert_eq(sa.applied, sb.applied);
    saved_free(&s);
    free(t.buf);
    free(recs);
    shop_mlw_free(a);
    shop_mlw_free(b);
}

Test(mlw_ckpt, refused_while_a_job_is_out_or_changes_wait)
{
    size_t n;
    struct mrec *recs = mshop(&arena, 20, 16, 10, 4, &n);
    struct shop_mlw_cfg c = mlw_small_cfg();
    struct shop_mlw *m = mk(&c);
    struct shop_err err;
    struct shop_mlw_part parts[SHOP_MLW_PARTS_MAX];
    struct shop_mlw_job *job = NULL;
    for (size_t i = 0; i < n && job == NULL; i++) {
        shop_mlw_push(m, recs[i].stream, recs[i].partition, recs[i].offset, recs[i].ev);
        shop_mlw_release(m, false);
        job = shop_mlw_job_take(m);
    }
    cr_assert_not_null(job);
    cr_assert(shop_mlw_job_out(m));
    struct shop_mlw_sink none = {0};
    shop_mlw_drain(m, &none);
    cr_assert_eq(shop_mlw_checkpoint(m, parts, SHOP_MLW_PARTS_MAX, &err), SHOP_EBUSY);
    shop_mlw_job_run(job);
    shop_mlw_job_finish(m, job);
    pump(m, true);
    mclose(&arena, m);
    pump(m, true);
    cr_assert_not(shop_mlw_job_out(m));
    cr_assert_eq(shop_mlw_checkpoint(m, parts, SHOP_MLW_PARTS_MAX, &err), SHOP_EBUSY, "the swap's lists wait");
    shop_mlw_drain(m, &none);
    cr_assert_gt(shop_mlw_checkpoint(m, parts, SHOP_MLW_PARTS_MAX, &err), 0, "%s", err.msg);
    free(recs);
    shop_mlw_free(m);
}
