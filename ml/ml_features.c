/* SPDX-License-Identifier: MIT
 * Per-user RFM + behaviour features and their running standardisation. Pure.
 */
#include "ml/ml_features.h"

#include <math.h>
#include <string.h>

#define MS_PER_DAY 86400000.0

void shop_ml_user_init(struct shop_ml_user *u)
{
    memset(u, 0, sizeof(*u));
}

void shop_ml_user_observe(struct shop_ml_user *u, enum shop_ml_user_event ev, int64_t value_minor,
                          int64_t at_ms)
{
    if (u->first_ms == 0 || at_ms < u->first_ms)
        u->first_ms = at_ms;
    switch (ev) {
    case SHOP_ML_EV_VIEW:
        u->views++;
        break;
    case SHOP_ML_EV_CART_ADD:
        u->cart_adds++;
        break;
    case SHOP_ML_EV_ORDER:
        u->orders++;
        u->spend_minor += value_minor;
        if (at_ms > u->last_order_ms)
            u->last_order_ms = at_ms;
        break;
    case SHOP_ML_EV_CART_ABANDON:
        u->abandoned++;
        break;
    }
}

void shop_ml_user_contrib(const struct shop_ml_user *u, double v[SHOP_ML_FEAT_DIM])
{
    int64_t last_ms = u->orders ? u->last_order_ms : u->first_ms;
    v[SHOP_ML_FEAT_RECENCY] = (double)last_ms / MS_PER_DAY;
    v[SHOP_ML_FEAT_FREQUENCY] = log1p((double)u->orders);
    v[SHOP_ML_FEAT_MONETARY] = log1p((double)(u->spend_minor > 0 ? u->spend_minor : 0) / 100.0);
    v[SHOP_ML_FEAT_VIEWS] = log1p((double)u->views);
    v[SHOP_ML_FEAT_CART_ADDS] = log1p((double)u->cart_adds);
    double rate = u->cart_adds ? (double)u->orders / (double)u->cart_adds : 0.0;
    v[SHOP_ML_FEAT_CART_TO_ORDER] = rate > 1.0 ? 1.0 : rate;
    v[SHOP_ML_FEAT_ABANDONED] = log1p((double)u->abandoned);
}

void shop_ml_scaler_init(struct shop_ml_scaler *s, size_t dim)
{
    memset(s, 0, sizeof(*s));
    s->dim = dim < 1 ? 1 : dim > SHOP_ML_FEAT_DIM ? SHOP_ML_FEAT_DIM : dim;
}

void shop_ml_scaler_add(struct shop_ml_scaler *s, const double *v)
{
    s->n++;
    for (size_t j = 0; j < s->dim; j++) {
        double d = v[j] - s->mean[j];
        s->mean[j] += d / (double)s->n;
        s->m2[j] += d * (v[j] - s->mean[j]);
    }
}

void shop_ml_scaler_remove(struct shop_ml_scaler *s, const double *v)
{
    if (s->n <= 1) {
        shop_ml_scaler_init(s, s->dim);
        return;
    }
    s->n--;
    for (size_t j = 0; j < s->dim; j++) {
        double d = v[j] - s->mean[j];
        s->mean[j] -= d / (double)s->n;
        s->m2[j] -= d * (v[j] - s->mean[j]);
        if (s->m2[j] < 0)   /* rounding after many swaps; the true value is >= 0 */
            s->m2[j] = 0;
    }
}

double shop_ml_scaler_sd(const struct shop_ml_scaler *s, size_t j)
{
    if (s->n < 2 || !(s->m2[j] > 0))
        return 1.0;
    return sqrt(s->m2[j] / (double)s->n);
}

void shop_ml_features_standardise(const struct shop_ml_scaler *s, const struct shop_ml_user *u,
                                  int64_t now_ms, double *z)
{
    (void)now_ms;  /* recency(now) - mean recency(now) = mean last day - last day */
    const double *v = u->contrib;
    double tmp[SHOP_ML_FEAT_DIM];
    if (!u->in_scaler) {
        shop_ml_user_contrib(u, tmp);
        v = tmp;
    }
    z[0] = (s->mean[0] - v[0]) / shop_ml_scaler_sd(s, 0);
    for (size_t j = 1; j < s->dim; j++)
        z[j] = (v[j] - s->mean[j]) / shop_ml_scaler_sd(s, j);
}

void shop_ml_features_update(struct shop_ml_user *u, struct shop_ml_scaler *s,
                             enum shop_ml_user_event ev, int64_t value_minor, int64_t at_ms,
                             double *z)
{
    shop_ml_user_observe(u, ev, value_minor, at_ms);
    if (u->in_scaler)
        shop_ml_scaler_remove(s, u->contrib);
    shop_ml_user_contrib(u, u->contrib);
    shop_ml_scaler_add(s, u->contrib);
    u->in_scaler = true;
    if (z)
        shop_ml_features_standardise(s, u, at_ms, z);
}

/* One word per feature whose centre sits half a standard deviation from the mean. */
static const char *const words[SHOP_ML_FEAT_DIM][2] = {
    [SHOP_ML_FEAT_RECENCY] = {"recent", "lapsed"},
    [SHOP_ML_FEAT_FREQUENCY] = {"one-off", "frequent"},
    [SHOP_ML_FEAT_MONETARY] = {"low spend", "high spend"},
    [SHOP_ML_FEAT_VIEWS] = {"few views", "many views"},
    [SHOP_ML_FEAT_CART_ADDS] = {"few cart adds", "many cart adds"},
    [SHOP_ML_FEAT_CART_TO_ORDER] = {"carts rarely converted", "carts converted"},
    [SHOP_ML_FEAT_ABANDONED] = {"rarely abandons", "abandons carts"},
};

/* Appends s at buf[used], truncating to size; returns the new length. */
static size_t append(char *buf, size_t size, size_t used, const char *s)
{
    while (*s && used + 1 < size)
        buf[used++] = *s++;
    buf[used] = '\0';
    return used;
}

void shop_ml_features_profile(const double *centre, size_t dim, char *buf, size_t size)
{
    if (size == 0)
        return;
    buf[0] = '\0';
    size_t used = 0;
    if (dim > SHOP_ML_FEAT_DIM)
        dim = SHOP_ML_FEAT_DIM;
    for (size_t j = 0; j < dim; j++) {
        const char *w = NULL;
        /* Standardised recency is negated (higher = more recent), so "recent" is high. */
        double c = j == SHOP_ML_FEAT_RECENCY ? -centre[j] : centre[j];
        if (c > 0.5)
            w = words[j][j == SHOP_ML_FEAT_RECENCY ? 0 : 1];
        else if (c < -0.5)
            w = words[j][j == SHOP_ML_FEAT_RECENCY ? 1 : 0];
        else if (j == SHOP_ML_FEAT_MONETARY)
            w = "mid spend";
        if (w == NULL)
            continue;
        if (used)
            used = append(buf, size, used, ", ");
        used = append(buf, size, used, w);
    }
    if (used == 0)
        append(buf, size, 0, "average");
}

void shop_ml_scaler_encode(const struct shop_ml_scaler *s, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "FSCL");
    shop_ml_put_u64(w, s->dim);
    shop_ml_put_u64(w, s->n);
    shop_ml_put_f64s(w, s->mean, s->dim);
    shop_ml_put_f64s(w, s->m2, s->dim);
    shop_ml_writer_end(w);
}

int shop_ml_scaler_decode(struct shop_ml_scaler *s, const uint8_t *buf, size_t len, size_t *used,
                          struct shop_err *err)
{
    struct shop_ml_reader r;
    int rc = shop_ml_reader_open(&r, buf, len, "FSCL", used, err);
    if (rc != 0)
        return rc;
    size_t dim;
    uint64_t n;
    if (shop_ml_get_count(&r, SHOP_ML_FEAT_DIM, &dim) == 0 && dim == 0)
        r.rc = SHOP_EBADMSG;
    shop_ml_get_u64(&r, &n);
    shop_ml_scaler_init(s, dim ? dim : 1);
    s->n = n;
    shop_ml_get_f64s(&r, s->mean, dim);
    shop_ml_get_f64s(&r, s->m2, dim);
    return shop_ml_reader_close(&r, err);
}

void shop_ml_user_encode(const struct shop_ml_user *u, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "FUSR");
    shop_ml_put_i64(w, u->first_ms);
    shop_ml_put_i64(w, u->last_order_ms);
    shop_ml_put_u32(w, u->orders);
    shop_ml_put_u32(w, u->views);
    shop_ml_put_u32(w, u->cart_adds);
    shop_ml_put_u32(w, u->abandoned);
    shop_ml_put_i64(w, u->spend_minor);
    shop_ml_put_u8(w, u->in_scaler);
    shop_ml_put_f64s(w, u->contrib, SHOP_ML_FEAT_DIM);
    shop_ml_writer_end(w);
}

int shop_ml_user_decode(struct shop_ml_user *u, const uint8_t *buf, size_t len, size_t *used,
                        struct shop_err *err)
{
    struct shop_ml_reader r;
    int rc = shop_ml_reader_open(&r, buf, len, "FUSR", used, err);
    if (rc != 0)
        return rc;
    uint8_t in;
    shop_ml_user_init(u);
    shop_ml_get_i64(&r, &u->first_ms);
    shop_ml_get_i64(&r, &u->last_order_ms);
    shop_ml_get_u32(&r, &u->orders);
    shop_ml_get_u32(&r, &u->views);
    shop_ml_get_u32(&r, &u->cart_adds);
    shop_ml_get_u32(&r, &u->abandoned);
    shop_ml_get_i64(&r, &u->spend_minor);
    if (shop_ml_get_u8(&r, &in) == 0 && in > 1)
        r.rc = SHOP_EBADMSG;
    u->in_scaler = in;
    shop_ml_get_f64s(&r, u->contrib, SHOP_ML_FEAT_DIM);
    return shop_ml_reader_close(&r, err);
}
