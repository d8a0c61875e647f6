/* SPDX-License-Identifier: MIT
 * The ML core's state, shared by its modules (mlw_state.c applies events, mlw_job.c
 * retrains, mlw_drain.c hands changes out, mlw_out.c names the ml.* events, mlw_ckpt.c
 * saves and loads). Pure. Users and products get dense indices in the order the applied
 * sequence first names them; those indices are the library's user and item ids.
 */
#ifndef SHOP_MLW_INTERNAL_H
#define SHOP_MLW_INTERNAL_H

#include "ml/ml_cooc.h"
#include "ml/ml_features.h"
#include "ml/ml_forecast.h"
#include "ml/ml_kmeans.h"
#include "ml/ml_rand.h"
#include "ml/ml_reco.h"
#include "workers/core/mlw.h"
#include "workers/core/mlw_order.h"

#define MLW_DAY_MS 86400000LL
#define MLW_HOUR_MS 3600000LL
#define MLW_COOC_HIST 200u            /* per-user history of the co-occurrence (docs/ml.md's H) */
#define MLW_ALS_ITERS_FIRST 15u       /* docs/ml.md's chosen row */
#define MLW_ALS_ITERS_WARM 5u         /* a warm retrain starts from the current factors */
#define MLW_ABANDON_MS MLW_DAY_MS     /* a cart with adds and no purchase this long after its first add */
#define MLW_HELD_MS (30 * MLW_DAY_MS) /* a reserved order is forgotten this long after its reservation */
#define MLW_SERIES_DAYS 400u          /* daily demand kept per product */
#define MLW_FC_HOLDOUT 28u            /* the selection's holdout (docs/ml.md) */
#define MLW_FC_RECENT_DAYS 28         /* a day close refreshes forecasts of products sold this recently */
#define MLW_FC_SELECT_MS (7 * MLW_DAY_MS) /* forecast selection at most weekly */
#define MLW_METRICS_MAX 8
#define MLW_R_EPS 1e-9                /* interaction strengths at or below this are no signal */

enum { MLW_REC = 0, MLW_SEG = 1, MLW_FC = 2, MLW_MODELS = 3 };

/* string -> index, open addressing with backward-shift deletion; keys borrowed. */
struct mlw_map {
    const char **key;
    uint32_t *val;
    size_t cap, len;
    struct shop_hash_seed seed;
};

void mlw_map_init(struct mlw_map *mp, struct shop_hash_seed seed);
void mlw_map_fini(struct mlw_map *mp);
/* UINT32_MAX when absent. */
uint32_t mlw_map_get(const struct mlw_map *mp, const char *key);
void mlw_map_put(struct mlw_map *mp, const char *key, uint32_t val);
void mlw_map_del(struct mlw_map *mp, const char *key);

/* One (user, item) interaction: a decayed strength and the units still bought. */
struct mlw_inter {
    uint32_t item;
    int32_t bought;               /* reserved lines not released; > 0: excluded from the user's list */
    struct shop_ml_interact acc;
};

struct mlw_user {
    char *id;
    struct shop_ml_user feat;
    struct mlw_inter *inter;      /* sorted by item */
    uint32_t n_inter, cap_inter;
    int64_t last_ms;              /* the user's latest event: the fold-in's decay reference */
    double *x;                    /* k factors when has_x */
    bool has_x;
    bool recs_dirty, seg_dirty;   /* out values computed, waiting for the drain */
    bool listed;                  /* in dirty_users */
    bool seg_changed;             /* features changed since the last take (segment drift) */
    bool touched;                 /* applied since the job's take: fold in against the new model */
    int64_t segment;              /* -1: none yet */
    int64_t cart_open_ms;         /* first add of an open cart; 0: none */
    /* What the drain hands out, computed when it changed (at a point of the applied
     * sequence, so it never depends on when the drain runs); freed by the drain. */
    struct shop_ml_scored *recs;
    uint32_t n_recs;
    bool recs_fallback;
    uint64_t recs_version;
    int64_t recs_at, seg_at;
    double z[SHOP_ML_FEAT_DIM];
};

struct mlw_product {
    char *id;
    int64_t day0;                 /* UTC day number of series[0] */
    double *series;               /* units per day, day0 .. day0 + n_days - 1 */
    uint32_t n_days, cap_days;
    int64_t last_sale_day;        /* -1: never sold */
    bool has_fc;
    struct shop_ml_forecast fc;
    int64_t fc_day;               /* first day fc has not observed */
    bool sim_dirty, fc_dirty;
    struct shop_ml_scored *sim;   /* computed similar list while sim_dirty */
    uint32_t n_sim;
    int64_t sim_at, fc_at;
    double *fc_out;               /* forecast_days values while fc_dirty */
    int64_t fc_start;
    bool listed;                  /* in dirty_products */
};

struct mlw_line {
    uint32_t item;
    int64_t quantity;
    int64_t amount;
};

struct mlw_held {
    char *order_id;
    uint32_t user;
    int64_t at_ms;
    int64_t spend;
    struct mlw_line *lines;
    uint32_t n_lines;
};

struct mlw_model {
    uint64_t version;
    int64_t trained_at_ms, watermark_ms;
    struct shop_mlw_metric metrics[MLW_METRICS_MAX];
    size_t n_metrics;
    bool dirty;                   /* waiting for the drain's model hook */
};

struct mlw_outrec {
    struct shop_mlw_out out;
    char *key;
    struct shop_mlw_model_info info;
    struct shop_mlw_metric metrics[MLW_METRICS_MAX];
};

/* The segments' sizes and plain profiles, rebuilt for the drain. */
struct mlw_segview {
    uint32_t id;
    uint64_t size;
    double centre[SHOP_ML_FEAT_DIM];
    double plain[SHOP_ML_FEAT_DIM];
    char label[160];
};

struct mlw_job_result;

struct shop_mlw {
    struct shop_mlw_cfg cfg;
    struct shop_mlw_order *order;
    struct shop_arena arena;      /* one popped event at a time */

    struct mlw_map user_ix, product_ix, held_ix;
    struct mlw_user *users;
    uint32_t n_users, cap_users;
    struct mlw_product *products;
    uint32_t n_products, cap_products;
    struct mlw_held *held;        /* dense; a removal moves the last into the hole */
    uint32_t n_held, cap_held;
    uint32_t *open_carts;         /* users with cart_open_ms != 0 (any order) */
    uint32_t n_open, cap_open;

    struct shop_ml_cooc cooc;
    struct shop_ml_pop pop;       /* decayed weight scaled by 2^((t - pop_ref) / half-life) */
    int64_t pop_ref_ms;
    bool pop_started;
    struct shop_ml_als als;       /* item factors of the current model; x rows from its training */
    bool als_trained;
    struct shop_ml_scaler scaler;
    struct shop_ml_kmeans *km;    /* NULL until the first refit */
    struct shop_ml_rand rnd;      /* the mini-batch's re-seeding draws */

    int64_t applied_ms;           /* the latest occurred_at applied in order */
    int64_t hour;                 /* applied_ms's hour; -1 before any */
    int64_t day;                  /* applied_ms's UTC day; -1 before any */
    uint64_t seq;                 /* every ml.* event ever produced */
    uint64_t buyers;              /* users with an order */
    uint64_t n_pairs;             /* (user, item) interactions */
    bool at_swap;                 /* release reached the swap point of the job out */
    uint8_t *pack;                /* push's packing buffer */
    size_t cap_pack;
    struct mlw_model model[MLW_MODELS];

    /* schedule and drift */
    int64_t next_due_ms;          /* retrain when applied_ms reaches it; 0 before the first training */
    int64_t last_fc_select_ms;
    uint64_t pairs_at_take, users_at_take, users_changed;
    bool take_due;                /* a retrain came due: release stops until it is taken */
    bool job_out;
    int64_t take_ms, swap_ms;
    struct shop_mlw_job *ready;   /* finished early: swapped in when release reaches swap_ms */

    /* drain */
    bool popular_dirty, segments_dirty;   /* changed since their lists were computed */
    bool popular_out, segments_out;       /* computed, waiting for the drain */
    struct shop_ml_scored *pop_list;
    uint32_t n_pop_list;
    int64_t pop_at;
    struct mlw_segview *segview;
    size_t n_segview;
    uint64_t segview_version;
    uint32_t *dirty_users, *dirty_products;
    uint32_t n_dirty_users, cap_dirty_users, n_dirty_products, cap_dirty_products;
    struct mlw_outrec *outs;
    size_t n_outs, cap_outs;

    struct shop_mlw_stats stats;

    /* checkpoint buffers, owned until the next checkpoint */
    uint8_t *part_bytes[SHOP_MLW_PARTS_MAX];
};

/* mlw_state.c */
uint32_t mlw_user_get(struct shop_mlw *m, const char *id);
uint32_t mlw_product_get(struct shop_mlw *m, const char *id);
void mlw_apply(struct shop_mlw *m, const Shopstream__V1__Event *ev, bool late);
void mlw_mark_user(struct shop_mlw *m, uint32_t u);
void mlw_mark_product(struct shop_mlw *m, uint32_t p);
void mlw_user_move_segment(struct shop_mlw *m, uint32_t u, bool mini_batch, int64_t at_ms);
void mlw_close_days(struct shop_mlw *m, int64_t day);
double mlw_inter_value(const struct shop_mlw *m, const struct mlw_user *u, const struct mlw_inter *in);
void mlw_state_fini(struct shop_mlw *m);

/* mlw_job.c */
bool mlw_due(struct shop_mlw *m);
void mlw_swap(struct shop_mlw *m, struct shop_mlw_job *job);

/* mlw_drain.c: the out values, computed at deterministic points */
void mlw_user_fold(struct shop_mlw *m, struct mlw_user *u);
void mlw_user_refresh(struct shop_mlw *m, uint32_t u, int64_t at_ms);
void mlw_user_recs_refresh(struct shop_mlw *m, uint32_t u, int64_t at_ms);
void mlw_user_seg_refresh(struct shop_mlw *m, uint32_t u, int64_t at_ms);
void mlw_product_fc_refresh(struct shop_mlw *m, uint32_t p, int64_t at_ms);
void mlw_popular_refresh(struct shop_mlw *m, int64_t at_ms);
void mlw_segments_refresh(struct shop_mlw *m, int64_t at_ms);
void mlw_drain_fini(struct shop_mlw *m);
bool mlw_undrained(const struct shop_mlw *m);

/* mlw_out.c */
void mlw_out_segment(struct shop_mlw *m, uint32_t u, int64_t old_seg, int64_t new_seg, int64_t at_ms);
void mlw_out_model(struct shop_mlw *m, int which);
void mlw_outs_clear(struct shop_mlw *m);
void mlw_out_fix(struct mlw_outrec *r);
extern const char *const mlw_model_names[MLW_MODELS];

#endif
