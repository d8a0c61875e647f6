/* SPDX-License-Identifier: MIT
 * The ML core's checkpoints (mlw.h) and counters. Pure.
 *
 * A checkpoint is a consistent cut between two applied events, taken with no job out
 * and nothing waiting for the drain, so everything that is not a model record is the
 * "state" record (magic "MLWS"): counters, clocks, schedule and drift, the models'
 * versions and metrics, the reorder buffer's own record (mlw_order.h: offsets, dedup
 * window, buffered events), the users (features, interactions, factors, segment, open
 * cart), the products (daily demand) and the reserved orders held for a release,
 * written sorted by order id. Every list is written in an order the applied sequence
 * fixes, so equal states give equal bytes. The models travel in the library's records:
 * "als" (ALSM), "cooc" (COOC), "kmeans" (KMNS), "scaler" (FSCL), "pop" (POPM), and
 * "forecast" (MLFC: each product's selected method as FCST). What is derived (the id
 * maps, the open carts) is rebuilt on restore.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_codec.h"
#include "workers/core/mlw_internal.h"

/* Every metric name the jobs write (mlw_job.c): restored as these pointers. */
static const char *const metric_names[] = {
    "loss", "users", "items", "interactions", "drift", "iterations", "inertia", "silhouette", "k", "products",
    "holdout_mae",
};

#define N_METRIC_NAMES (sizeof(metric_names) / sizeof(metric_names[0]))

void shop_mlw_stats(const struct shop_mlw *m, struct shop_mlw_stats *out)
{
    *out = m->stats;
    out->users = m->n_users;
    out->items = m->n_products;
    for (int w = 0; w < MLW_MODELS; w++)
        out->version[w] = m->model[w].version;
}

/* ---- encode ------------------------------------------------------------------------- */

static void put_str(struct shop_ml_writer *w, const char *s)
{
    size_t n = strlen(s);
    shop_ml_put_u32(w, (uint32_t)n);
    shop_ml_put_bytes(w, s, n);
}

/* A record written by another encoder, nested with its length. */
static void put_nested(struct shop_ml_writer *w, const struct shop_ml_writer *inner)
{
    shop_ml_put_u64(w, inner->len);
    shop_ml_put_bytes(w, inner->buf, inner->len);
}

static int cmp_held(const void *a, const void *b)
{
    return strcmp((*(const struct mlw_held *const *)a)->order_id, (*(const struct mlw_held *const *)b)->order_id);
}

static void encode_state(const struct shop_mlw *m, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "MLWS");
    shop_ml_put_u64(w, m->seq);
    shop_ml_put_u64(w, m->buyers);
    shop_ml_put_u64(w, m->n_pairs);
    shop_ml_put_u64(w, m->pairs_at_take);
    shop_ml_put_u64(w, m->users_at_take);
    shop_ml_put_u64(w, m->users_changed);
    shop_ml_put_i64(w, m->applied_ms);
    shop_ml_put_i64(w, m->hour);
    shop_ml_put_i64(w, m->day);
    shop_ml_put_i64(w, m->next_due_ms);
    shop_ml_put_i64(w, m->last_fc_select_ms);
    shop_ml_put_i64(w, m->pop_ref_ms);
    shop_ml_put_u8(w, m->pop_started);
    shop_ml_put_u8(w, m->als_trained);
    shop_ml_put_u8(w, m->take_due);
    shop_ml_put_u8(w, m->popular_dirty);
    shop_ml_put_u8(w, m->segments_dirty);
    for (int i = 0; i < 4; i++)
        shop_ml_put_u64(w, m->rnd.s[i]);
    for (int i = 0; i < MLW_MODELS; i++) {
        const struct mlw_model *md = &m->model[i];
        shop_ml_put_u64(w, md->version);
        shop_ml_put_i64(w, md->trained_at_ms);
        shop_ml_put_i64(w, md->watermark_ms);
        shop_ml_put_u32(w, (uint32_t)md->n_metrics);
        for (size_t j = 0; j < md->n_metrics; j++) {
            put_str(w, md->metrics[j].name);
            shop_ml_put_f64(w, md->metrics[j].value);
        }
    }
    const struct shop_mlw_stats *st = &m->stats;
    uint64_t counters[] = {st->pushed, st->applied, st->ignored, st->duplicates, st->late, st->purchases,
                           st->retracted, st->jobs};
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        shop_ml_put_u64(w, counters[i]);
    struct shop_ml_writer inner;
    shop_ml_writer_init(&inner);
    shop_mlw_order_encode(m->order, &inner);
    put_nested(w, &inner);
    shop_ml_writer_fini(&inner);

    uint32_t k = m->cfg.als.factors;
    shop_ml_put_u32(w, m->n_users);
    for (uint32_t i = 0; i < m->n_users; i++) {
        const struct mlw_user *u = &m->users[i];
        put_str(w, u->id);
        struct shop_ml_writer feat;   /* the library's own record of the features */
        shop_ml_writer_init(&feat);
        shop_ml_user_encode(&u->feat, &feat);
        put_nested(w, &feat);
        shop_ml_writer_fini(&feat);
        shop_ml_put_i64(w, u->last_ms);
        shop_ml_put_i64(w, u->segment);
        shop_ml_put_i64(w, u->cart_open_ms);
        shop_ml_put_u8(w, u->seg_changed);
        shop_ml_put_u8(w, u->has_x);
        if (u->has_x)
            shop_ml_put_f64s(w, u->x, k);
        shop_ml_put_u32(w, u->n_inter);
        for (uint32_t j = 0; j < u->n_inter; j++) {
            const struct mlw_inter *in = &u->inter[j];
            shop_ml_put_u32(w, in->item);
            shop_ml_put_u32(w, (uint32_t)in->bought);
            shop_ml_put_f64(w, in->acc.value);
            shop_ml_put_i64(w, in->acc.as_of_ms);
        }
    }
    shop_ml_put_u32(w, m->n_products);
    for (uint32_t i = 0; i < m->n_products; i++) {
        const struct mlw_product *p = &m->products[i];
        put_str(w, p->id);
        shop_ml_put_i64(w, p->day0);
        shop_ml_put_u32(w, p->n_days);
        shop_ml_put_f64s(w, p->series, p->n_days);
        shop_ml_put_i64(w, p->last_sale_day);
    }
    const struct mlw_held **held = shop_xmalloc(((size_t)m->n_held + 1) * sizeof(*held));
    for (uint32_t i = 0; i < m->n_held; i++)
        held[i] = &m->held[i];
    qsort(held, m->n_held, sizeof(*held), cmp_held);
    shop_ml_put_u32(w, m->n_held);
    for (uint32_t i = 0; i < m->n_held; i++) {
        const struct mlw_held *h = held[i];
        put_str(w, h->order_id);
        shop_ml_put_u32(w, h->user);
        shop_ml_put_i64(w, h->at_ms);
        shop_ml_put_i64(w, h->spend);
        shop_ml_put_u32(w, h->n_lines);
        for (uint32_t j = 0; j < h->n_lines; j++) {
            shop_ml_put_u32(w, h->lines[j].item);
            shop_ml_put_i64(w, h->lines[j].quantity);
            shop_ml_put_i64(w, h->lines[j].amount);
        }
    }
    free(held);
    shop_ml_writer_end(w);
}

static void encode_forecasts(const struct shop_mlw *m, struct shop_ml_writer *w)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->n_products; i++)
        n += m->products[i].has_fc;
    shop_ml_writer_begin(w, "MLFC");
    shop_ml_put_u32(w, n);
    for (uint32_t i = 0; i < m->n_products; i++) {
        const struct mlw_product *p = &m->products[i];
        if (!p->has_fc)
            continue;
        shop_ml_put_u32(w, i);
        shop_ml_put_i64(w, p->fc_day);
        struct shop_ml_writer inner;
        shop_ml_writer_init(&inner);
        shop_ml_forecast_encode(&p->fc, &inner);
        put_nested(w, &inner);
        shop_ml_writer_fini(&inner);
    }
    shop_ml_writer_end(w);
}

static void metrics_json(const struct mlw_model *md, char *out, size_t size)
{
    json_t *o = json_object();
    for (size_t i = 0; md != NULL && i < md->n_metrics; i++)
        json_object_set_new(o, md->metrics[i].name, json_real(md->metrics[i].value));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    snprintf(out, size, "%s", s != NULL && strlen(s) < size ? s : "{}");
    free(s);
    json_decref(o);
}

int shop_mlw_checkpoint(struct shop_mlw *m, struct shop_mlw_part *parts, size_t max, struct shop_err *err)
{
    if (m->job_out)
        return shop_err_set(err, SHOP_EBUSY, "a retrain is out: checkpoint after its swap");
    if (mlw_undrained(m))
        return shop_err_set(err, SHOP_EBUSY, "changes wait for the drain: drain first");
    if (max < SHOP_MLW_PARTS_MAX)
        return shop_err_set(err, SHOP_EINVAL, "room for %zu parts, need %d", max, SHOP_MLW_PARTS_MAX);
    for (int i = 0; i < SHOP_MLW_PARTS_MAX; i++) {
        free(m->part_bytes[i]);
        m->part_bytes[i] = NULL;
    }
    int n = 0;
    for (int kind = 0; kind < 7; kind++) {
        struct shop_ml_writer w;
        shop_ml_writer_init(&w);
        const char *name = NULL;
        const struct mlw_model *md = NULL;
        uint64_t version = 0;
        switch (kind) {
        case 0:
            name = "state";
            version = m->seq;
            encode_state(m, &w);
            break;
        case 1:
            if (!m->als_trained)
                break;
            name = "als";
            md = &m->model[MLW_REC];
            shop_ml_als_encode(&m->als, &w);
            break;
        case 2:
            name = "cooc";
            md = &m->model[MLW_REC];
            shop_ml_cooc_encode(&m->cooc, &w);
            break;
        case 3:
            if (m->km == NULL)
                break;
            name = "kmeans";
            md = &m->model[MLW_SEG];
            shop_ml_kmeans_encode(m->km, &w);
            break;
        case 4:
            name = "scaler";
            md = &m->model[MLW_SEG];
            shop_ml_scaler_encode(&m->scaler, &w);
            break;
        case 5:
            name = "pop";
            md = &m->model[MLW_REC];
            shop_ml_pop_encode(&m->pop, &w);
            break;
        default:
            name = "forecast";
            md = &m->model[MLW_FC];
            encode_forecasts(m, &w);
            break;
        }
        if (name == NULL) {
            shop_ml_writer_fini(&w);
            continue;
        }
        struct shop_mlw_part *p = &parts[n];
        memset(p, 0, sizeof(*p));
        p->model = name;
        p->version = md != NULL ? md->version : version;
        p->trained_at_ms = md != NULL ? md->trained_at_ms : 0;
        size_t len;
        m->part_bytes[n] = shop_ml_writer_take(&w, &len);
        p->bytes = m->part_bytes[n];
        p->len = len;
        metrics_json(md, p->metrics_json, sizeof(p->metrics_json));
        n++;
    }
    return n;
}

/* ---- decode --------------------------------------------------------------------------- */

static int get_str(struct shop_ml_reader *r, char **out)
{
    uint32_t n;
    if (shop_ml_get_u32(r, &n) != 0 || n == 0 || n > 4096 || (size_t)(r->end - r->p) < n)
        return SHOP_EBADMSG;
    char *s = shop_xmalloc((size_t)n + 1);
    if (shop_ml_get_bytes(r, s, n) != 0 || memchr(s, '\0', n) != NULL) {
        free(s);
        return SHOP_EBADMSG;
    }
    s[n] = '\0';
    *out = s;
    return 0;
}

static int get_nested(struct shop_ml_reader *r, const uint8_t **p, size_t *len)
{
    uint64_t n;
    if (shop_ml_get_u64(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
        return SHOP_EBADMSG;
    *p = r->p;
    *len = (size_t)n;
    r->p += n;
    return 0;
}

static int get_bool(struct shop_ml_reader *r, bool *b)
{
    uint8_t v;
    if (shop_ml_get_u8(r, &v) != 0 || v > 1)
        return SHOP_EBADMSG;
    *b = v != 0;
    return 0;
}

#define TRY(x)                          \
    do {                                \
        if ((x) != 0)                   \
            return bad(err, what);      \
    } while (0)

static int bad(struct shop_err *err, const char *what)
{
    return shop_err_set(err, SHOP_EBADMSG, "checkpoint state: bad %s", what);
}

static int decode_state(struct shop_mlw *m, const uint8_t *buf, size_t len, struct shop_err *err)
{
    struct shop_ml_reader r;
    const char *what = "header";
    if (shop_ml_reader_open(&r, buf, len, "MLWS", NULL, err) != 0)
        return SHOP_EBADMSG;
    what = "counters";
    TRY(shop_ml_get_u64(&r, &m->seq));
    TRY(shop_ml_get_u64(&r, &m->buyers));
    TRY(shop_ml_get_u64(&r, &m->n_pairs));
    TRY(shop_ml_get_u64(&r, &m->pairs_at_take));
    TRY(shop_ml_get_u64(&r, &m->users_at_take));
    TRY(shop_ml_get_u64(&r, &m->users_changed));
    TRY(shop_ml_get_i64(&r, &m->applied_ms));
    TRY(shop_ml_get_i64(&r, &m->hour));
    TRY(shop_ml_get_i64(&r, &m->day));
    TRY(shop_ml_get_i64(&r, &m->next_due_ms));
    TRY(shop_ml_get_i64(&r, &m->last_fc_select_ms));
    TRY(shop_ml_get_i64(&r, &m->pop_ref_ms));
    TRY(get_bool(&r, &m->pop_started));
    TRY(get_bool(&r, &m->als_trained));
    TRY(get_bool(&r, &m->take_due));
    TRY(get_bool(&r, &m->popular_dirty));
    TRY(get_bool(&r, &m->segments_dirty));
    for (int i = 0; i < 4; i++)
        TRY(shop_ml_get_u64(&r, &m->rnd.s[i]));
    what = "models";
    for (int i = 0; i < MLW_MODELS; i++) {
        struct mlw_model *md = &m->model[i];
        uint32_t nm;
        TRY(shop_ml_get_u64(&r, &md->version));
        TRY(shop_ml_get_i64(&r, &md->trained_at_ms));
        TRY(shop_ml_get_i64(&r, &md->watermark_ms));
        TRY(shop_ml_get_u32(&r, &nm));
        TRY(nm > MLW_METRICS_MAX);
        md->n_metrics = nm;
        for (uint32_t j = 0; j < nm; j++) {
            char *name = NULL;
            TRY(get_str(&r, &name));
            md->metrics[j].name = NULL;
            for (size_t q = 0; q < N_METRIC_NAMES; q++) {
                if (strcmp(name, metric_names[q]) == 0)
                    md->metrics[j].name = metric_names[q];
            }
            free(name);
            TRY(md->metrics[j].name == NULL);
            TRY(shop_ml_get_f64(&r, &md->metrics[j].value));
        }
    }
    what = "stats";
    struct shop_mlw_stats *st = &m->stats;
    uint64_t *counters[] = {&st->pushed, &st->applied, &st->ignored, &st->duplicates, &st->late, &st->purchases,
                            &st->retracted, &st->jobs};
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
        TRY(shop_ml_get_u64(&r, counters[i]));
    what = "reorder buffer";
    const uint8_t *ob;
    size_t olen;
    TRY(get_nested(&r, &ob, &olen));
    if (shop_mlw_order_decode(m->order, ob, olen, NULL, err) != 0)
        return SHOP_EBADMSG;

    uint32_t k = m->cfg.als.factors, n;
    what = "users";
    TRY(shop_ml_get_u32(&r, &n));
    TRY(n > (size_t)(r.end - r.p) / 8);
    m->users = shop_xcalloc((size_t)n + 1, sizeof(*m->users));
    m->cap_users = n + 1;
    for (uint32_t i = 0; i < n; i++) {
        struct mlw_user *u = &m->users[i];
        m->n_users = i + 1;
        u->segment = -1;
        TRY(get_str(&r, &u->id));
        TRY(mlw_map_get(&m->user_ix, u->id) != UINT32_MAX);
        mlw_map_put(&m->user_ix, u->id, i);
        const uint8_t *fb;
        size_t flen, fused;
        TRY(get_nested(&r, &fb, &flen));
        TRY(shop_ml_user_decode(&u->feat, fb, flen, &fused, err) != 0 || fused != flen);
        TRY(shop_ml_get_i64(&r, &u->last_ms));
        TRY(shop_ml_get_i64(&r, &u->segment));
        TRY(u->segment < -1 || u->segment > INT32_MAX);
        TRY(shop_ml_get_i64(&r, &u->cart_open_ms));
        TRY(get_bool(&r, &u->seg_changed));
        TRY(get_bool(&r, &u->has_x));
        if (u->has_x) {
            u->x = shop_xmalloc((size_t)k * sizeof(*u->x));
            TRY(shop_ml_get_f64s(&r, u->x, k));
        }
        uint32_t ni;
        TRY(shop_ml_get_u32(&r, &ni));
        TRY(ni > (size_t)(r.end - r.p) / 24);
        u->inter = shop_xmalloc(((size_t)ni + 1) * sizeof(*u->inter));
        u->cap_inter = ni + 1;
        for (uint32_t j = 0; j < ni; j++) {
            struct mlw_inter *in = &u->inter[j];
            uint32_t bought;
            TRY(shop_ml_get_u32(&r, &in->item));
            TRY(shop_ml_get_u32(&r, &bought));
            in->bought = (int32_t)bought;
            TRY(shop_ml_get_f64(&r, &in->acc.value));
            TRY(shop_ml_get_i64(&r, &in->acc.as_of_ms));
            TRY(!isfinite(in->acc.value));
            TRY(j > 0 && in->item <= u->inter[j - 1].item);
            u->n_inter = j + 1;
        }
        if (u->cart_open_ms != 0) {
            if (m->n_open + 1 > m->cap_open) {
                m->cap_open = m->cap_open ? m->cap_open * 2 : 16;
                m->open_carts = shop_xrealloc(m->open_carts, m->cap_open * sizeof(*m->open_carts));
            }
            m->open_carts[m->n_open++] = i;
        }
    }
    what = "products";
    TRY(shop_ml_get_u32(&r, &n));
    TRY(n > (size_t)(r.end - r.p) / 8);
    m->products = shop_xcalloc((size_t)n + 1, sizeof(*m->products));
    m->cap_products = n + 1;
    for (uint32_t i = 0; i < n; i++) {
        struct mlw_product *p = &m->products[i];
        m->n_products = i + 1;
        TRY(get_str(&r, &p->id));
        TRY(mlw_map_get(&m->product_ix, p->id) != UINT32_MAX);
        mlw_map_put(&m->product_ix, p->id, i);
        TRY(shop_ml_get_i64(&r, &p->day0));
        TRY(shop_ml_get_u32(&r, &p->n_days));
        TRY(p->n_days > MLW_SERIES_DAYS + 64u);
        p->cap_days = p->n_days + 1;
        p->series = shop_xcalloc(p->cap_days, sizeof(*p->series));
        TRY(shop_ml_get_f64s(&r, p->series, p->n_days));
        TRY(shop_ml_get_i64(&r, &p->last_sale_day));
    }
    what = "interactions";
    for (uint32_t i = 0; i < m->n_users; i++) {
        for (uint32_t j = 0; j < m->users[i].n_inter; j++)
            TRY(m->users[i].inter[j].item >= m->n_products);
    }
    what = "orders held";
    TRY(shop_ml_get_u32(&r, &n));
    TRY(n > (size_t)(r.end - r.p) / 8);
    m->held = shop_xcalloc((size_t)n + 1, sizeof(*m->held));
    m->cap_held = n + 1;
    for (uint32_t i = 0; i < n; i++) {
        struct mlw_held *h = &m->held[i];
        m->n_held = i + 1;
        TRY(get_str(&r, &h->order_id));
        TRY(i > 0 && strcmp(h->order_id, m->held[i - 1].order_id) <= 0);
        mlw_map_put(&m->held_ix, h->order_id, i);
        TRY(shop_ml_get_u32(&r, &h->user));
        TRY(h->user >= m->n_users);
        TRY(shop_ml_get_i64(&r, &h->at_ms));
        TRY(shop_ml_get_i64(&r, &h->spend));
        uint32_t nl;
        TRY(shop_ml_get_u32(&r, &nl));
        TRY(nl == 0 || nl > (size_t)(r.end - r.p) / 20);
        h->lines = shop_xcalloc(nl, sizeof(*h->lines));
        for (uint32_t j = 0; j < nl; j++) {
            TRY(shop_ml_get_u32(&r, &h->lines[j].item));
            TRY(h->lines[j].item >= m->n_products);
            TRY(shop_ml_get_i64(&r, &h->lines[j].quantity));
            TRY(shop_ml_get_i64(&r, &h->lines[j].amount));
            h->n_lines = j + 1;
        }
    }
    what = "end";
    TRY(shop_ml_reader_close(&r, err));
    return 0;
}

static int decode_forecasts(struct shop_mlw *m, const uint8_t *buf, size_t len, struct shop_err *err)
{
    struct shop_ml_reader r;
    const char *what = "forecast record";
    if (shop_ml_reader_open(&r, buf, len, "MLFC", NULL, err) != 0)
        return SHOP_EBADMSG;
    uint32_t n;
    TRY(shop_ml_get_u32(&r, &n));
    TRY(n > m->n_products);
    int64_t prev = -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p;
        TRY(shop_ml_get_u32(&r, &p));
        TRY(p >= m->n_products || (int64_t)p <= prev);
        prev = p;
        struct mlw_product *pr = &m->products[p];
        TRY(shop_ml_get_i64(&r, &pr->fc_day));
        const uint8_t *b;
        size_t bl;
        TRY(get_nested(&r, &b, &bl));
        TRY(shop_ml_forecast_decode(&pr->fc, b, bl, NULL, err));
        pr->has_fc = true;
    }
    TRY(shop_ml_reader_close(&r, err));
    return 0;
}

static int decode_models(struct shop_mlw *m, const struct shop_mlw_part *parts, size_t n, struct shop_err *err)
{
    const struct shop_mlw_part *state = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(parts[i].model, "state") == 0)
            state = &parts[i];
    }
    if (state == NULL)
        return shop_err_set(err, SHOP_EBADMSG, "checkpoint without a state part");
    if (decode_state(m, state->bytes, state->len, err) != 0)
        return SHOP_EBADMSG;
    bool seen_als = false, seen_cooc = false, seen_scaler = false, seen_pop = false;
    for (size_t i = 0; i < n; i++) {
        const struct shop_mlw_part *p = &parts[i];
        const char *what = p->model;
        int rc = 0;
        if (p == state) {
            continue;
        } else if (strcmp(p->model, "als") == 0) {
            rc = shop_ml_als_decode(&m->als, p->bytes, p->len, NULL, err);
            TRY(rc == 0 && (m->als.k != m->cfg.als.factors || m->als.n_items > m->n_products ||
                            m->als.n_users > m->n_users));
            seen_als = true;
        } else if (strcmp(p->model, "cooc") == 0) {
            rc = shop_ml_cooc_decode(&m->cooc, p->bytes, p->len, NULL, err);
            TRY(rc == 0 && (m->cooc.n_items > m->n_products || m->cooc.n_users > m->n_users ||
                            m->cooc.hist_max != MLW_COOC_HIST));
            seen_cooc = true;
        } else if (strcmp(p->model, "kmeans") == 0) {
            rc = shop_ml_kmeans_decode(&m->km, p->bytes, p->len, NULL, err);
            TRY(rc == 0 && (m->km->k != m->cfg.segments || m->km->dim != SHOP_ML_FEAT_DIM));
        } else if (strcmp(p->model, "scaler") == 0) {
            rc = shop_ml_scaler_decode(&m->scaler, p->bytes, p->len, NULL, err);
            TRY(rc == 0 && m->scaler.dim != SHOP_ML_FEAT_DIM);
            seen_scaler = true;
        } else if (strcmp(p->model, "pop") == 0) {
            rc = shop_ml_pop_decode(&m->pop, p->bytes, p->len, NULL, err);
            TRY(rc == 0 && m->pop.n_items > m->n_products);
            seen_pop = true;
        } else if (strcmp(p->model, "forecast") == 0) {
            rc = decode_forecasts(m, p->bytes, p->len, err);
        } else {
            return shop_err_set(err, SHOP_EBADMSG, "checkpoint part %s is unknown", p->model);
        }
        if (rc != 0)
            return SHOP_EBADMSG;
    }
    if (seen_als != m->als_trained || !seen_cooc || !seen_scaler || !seen_pop)
        return shop_err_set(err, SHOP_EBADMSG, "checkpoint parts missing");
    return 0;
}

int shop_mlw_restore(struct shop_mlw *m, const struct shop_mlw_part *parts, size_t n, struct shop_err *err)
{
    if (m->n_users != 0 || m->n_products != 0 || m->job_out || shop_mlw_buffered(m) != 0)
        return shop_err_set(err, SHOP_EINVAL, "restore needs a new, empty state");
    struct shop_mlw *t = NULL;
    int rc = shop_mlw_new(&m->cfg, &t, err);
    if (rc != 0)
        return rc;
    if (decode_models(t, parts, n, err) != 0) {
        shop_mlw_free(t);
        return SHOP_EBADMSG;
    }
    struct shop_mlw tmp = *m;
    *m = *t;
    *t = tmp;
    shop_mlw_free(t);
    return 0;
}
