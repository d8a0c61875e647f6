/* SPDX-License-Identifier: MIT
 * ml-eval section: reco. Leave-last-out evaluation of popularity, item-to-item
 * co-occurrence and implicit ALS on MovieLens 100K (every rating a positive; latest item
 * held out) and Online Retail purchases (last invoice held out), HR@10 and NDCG@10 against
 * 99 sampled negatives and over the full ranking; then the incremental case (fold-in vs
 * full retrain vs stale model) and single-core speed figures. Shell: reads files, prints.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval.h"
#include "ml/ml_als.h"
#include "ml/ml_cooc.h"
#include "ml/ml_csr.h"
#include "ml/ml_interact.h"
#include "ml/ml_rand.h"
#include "ml/ml_reco.h"
#include "reco_data.h"

#define TOP 10
#define NEGATIVES 99
#define NO_TARGET UINT32_MAX
#define FOLD_NEWEST 5

/* How a user's purchase lines of one item become the ALS strength r. */
enum conf_kind {
    CONF_LINES = 0,   /* number of lines (each line 1, or its decayed weight) */
    CONF_BINARY,      /* 1 */
    CONF_LOG,         /* log(1 + lines) */
};
static const char *const CONF_NAME[] = {"lines", "binary", "log"};

struct reco_params {
    uint32_t factors;
    uint32_t iters;
    uint32_t cg_steps;
    double reg;
    double alpha;
    uint32_t hist_max;    /* co-occurrence history bound */
    uint32_t neighbours;  /* item-to-item table width */
    enum conf_kind conf;
    double half_life_d;   /* > 0: a line weighs 2^(-age/half-life), age from the user's last */
    double pop_blend;     /* ALS score + pop_blend * log(1 + buyers of the item) */
    double bm25_k1;       /* > 0: r becomes its BM25 weight (saturation K1, length norm B) */
    double bm25_b;
    int idf;              /* with BM25: times log(users / (1 + buyers of the item)) */
    double user_norm;     /* r *= (mean row sum / the user's row sum)^user_norm */
    double cap;           /* > 0: r = min(r, cap) */
    double reg_exp;       /* weighted lambda: reg (1 + n)^reg_exp per row */
    double i2i_blend;     /* hybrid row: ALS + i2i_blend * item-to-item / its user maximum */
    double global_hl_d;   /* > 0: lines also decay with their age from the newest training line */
};

/* One leave-last-out split: training matrix, stream and a held-out item per user. */
struct split {
    uint32_t n_users;
    uint32_t n_items;
    struct shop_ml_csr r_ui;
    struct shop_ml_csr r_iu;
    struct shop_ml_touch *stream;   /* training events in time order */
    size_t n_stream;
    uint32_t *target;               /* per user, NO_TARGET when none */
    size_t *held_ptr;               /* per user, [held_ptr[u], held_ptr[u + 1]) of held: */
    uint32_t *held;                 /* the items of the held-out basket, never negatives */
};

struct metrics {
    double hr_s, ndcg_s, hr_f, ndcg_f;
    uint32_t users;
};

typedef void (*score_fn)(const void *ctx, uint32_t user, const struct shop_ml_csr *r_ui,
                         double *scores);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t user_seed(unsigned seed, uint32_t user)
{
    return (uint64_t)seed * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)user << 20);
}

/* Picks the held-out item of one user's events [b, e): one item of the last basket that
 * the earlier baskets do not contain (MovieLens: the latest rating). Returns the index
 * where the held-out basket starts, or e when the user has no usable target. */
static size_t pick_target(const struct reco_event *ev, size_t b, size_t e, unsigned seed,
                          uint32_t *target)
{
    size_t last = e;
    while (last > b && ev[last - 1].basket == ev[e - 1].basket)
        last--;
    *target = NO_TARGET;
    if (last == b)
        return e;
    uint32_t cand[256], n = 0;
    for (size_t k = last; k < e && n < 256; k++) {
        int seen = 0;
        for (size_t q = b; q < last && !seen; q++)
            seen = ev[q].item == ev[k].item;
        for (uint32_t c = 0; c < n && !seen; c++)
            seen = cand[c] == ev[k].item;
        if (!seen)
            cand[n++] = ev[k].item;
    }
    if (n == 0)
        return e;
    struct shop_ml_rand rng;
    shop_ml_rand_init(&rng, user_seed(seed, ev[b].user));
    *target = cand[shop_ml_rand_below(&rng, n)];
    return last;
}

static int cmp_touch_time(const void *a, const void *b)
{
    const struct reco_event *x = *(const struct reco_event *const *)a;
    const struct reco_event *y = *(const struct reco_event *const *)b;
    if (x->ts_ms != y->ts_ms)
        return x->ts_ms < y->ts_ms ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Strength of one training line: 1, or 2^(-age/half-life) with the age counted from the
 * user's newest training line (no look at the held-out basket or its date). */
static double line_weight(const struct reco_params *p, int64_t ts_ms, int64_t newest_ms)
{
    if (!(p->half_life_d > 0))
        return 1.0;
    return shop_ml_decay(newest_ms - ts_ms, (int64_t)(p->half_life_d * 86400000.0));
}

static void conf_apply(enum conf_kind kind, struct shop_ml_csr *m)
{
    for (size_t t = 0; t < m->nnz; t++)
        m->val[t] = kind == CONF_BINARY ? 1.0 : kind == CONF_LOG ? log1p(m->val[t]) : m->val[t];
}

/* Confidence weighting of users x items r: cap, per-user normalisation, BM25 (as the
 * implicit library's bm25_weight: rows are documents, items are terms). */
static void conf_weight(const struct reco_params *p, struct shop_ml_csr *m)
{
    double *row_sum = calloc(m->n_rows + 1, sizeof(*row_sum));
    double *df = calloc(m->n_cols + 1, sizeof(*df));
    double total = 0.0;
    uint32_t rows = 0;
    for (uint32_t u = 0; u < m->n_rows; u++)
        for (size_t t = m->row_ptr[u]; t < m->row_ptr[u + 1]; t++) {
            if (p->cap > 0 && m->val[t] > p->cap)
                m->val[t] = p->cap;
            row_sum[u] += m->val[t];
            df[m->col[t]] += 1.0;
        }
    for (uint32_t u = 0; u < m->n_rows; u++)
        if (row_sum[u] > 0) {
            total += row_sum[u];
            rows++;
        }
    double avg = rows ? total / rows : 1.0;
    for (uint32_t u = 0; u < m->n_rows; u++)
        for (size_t t = m->row_ptr[u]; t < m->row_ptr[u + 1]; t++) {
            double v = m->val[t];
            if (p->user_norm > 0)
                v *= pow(avg / row_sum[u], p->user_norm);
            if (p->bm25_k1 > 0) {
                double len = 1.0 - p->bm25_b + p->bm25_b * row_sum[u] / avg;
                v = v * (p->bm25_k1 + 1.0) / (p->bm25_k1 * len + v);
                if (p->idf)
                    v *= fmax(log((double)m->n_rows) - log1p(df[m->col[t]]), 0.01);
            }
            m->val[t] = v;
        }
    free(df);
    free(row_sum);
}

/* Global decay: each line's weight times 2^(-age/global half-life), the age counted from
 * the newest line of all training data, so items nobody buys any more fade. */
static void decay_global(const struct reco_params *p, const struct reco_event *const *kept,
                         struct shop_ml_triplet *t, size_t n)
{
    if (!(p->global_hl_d > 0))
        return;
    int64_t newest = INT64_MIN;
    for (size_t k = 0; k < n; k++)
        newest = kept[k]->ts_ms > newest ? kept[k]->ts_ms : newest;
    for (size_t k = 0; k < n; k++)
        t[k].val *= shop_ml_decay(newest - kept[k]->ts_ms, (int64_t)(p->global_hl_d * 86400000.0));
}

/* Appends the held-out basket [from, e) of user u (nothing when it has no target) and
 * counts it in held_ptr[u + 1]; split_build() turns the counts into offsets. */
static size_t hold_basket(struct split *s, const struct reco_event *ev, size_t from, size_t e,
                          uint32_t u, size_t n_held)
{
    if (s->target[u] == NO_TARGET)
        return n_held;
    for (size_t k = from; k < e; k++)
        s->held[n_held++] = ev[k].item;
    s->held_ptr[u + 1] = e - from;
    return n_held;
}

static void split_alloc(const struct reco_data *d, struct split *s)
{
    memset(s, 0, sizeof(*s));
    s->n_users = d->n_users;
    s->n_items = d->n_items;
    s->target = malloc(d->n_users * sizeof(*s->target));
    for (uint32_t u = 0; u < d->n_users; u++)
        s->target[u] = NO_TARGET;
    s->held_ptr = calloc(d->n_users + 1, sizeof(*s->held_ptr));
    s->held = malloc((d->n + 1) * sizeof(*s->held));
}

/* drop_newest > 0 removes each user's newest training events (the stale model's data). */
static void split_build(const struct reco_data *d, unsigned seed, uint32_t drop_newest,
                        const struct reco_params *p, struct split *s)
{
    split_alloc(d, s);
    const struct reco_event **kept = malloc((d->n + 1) * sizeof(*kept));
    struct shop_ml_triplet *t = malloc((d->n + 1) * sizeof(*t));
    size_t n_kept = 0, n_held = 0;
    for (size_t b = 0, e; b < d->n; b = e) {
        uint32_t u = d->ev[b].user;
        for (e = b; e < d->n && d->ev[e].user == u; e++)
            ;
        size_t end = pick_target(d->ev, b, e, seed, &s->target[u]);
        n_held = hold_basket(s, d->ev, end, e, u, n_held);
        end = end - b > drop_newest ? end - drop_newest : b;
        for (size_t k = b; k < end; k++) {
            double w = line_weight(p, d->ev[k].ts_ms, d->ev[end - 1].ts_ms);
            t[n_kept] = (struct shop_ml_triplet){u, d->ev[k].item, w};
            kept[n_kept++] = &d->ev[k];
        }
    }
    for (uint32_t u = 0; u < d->n_users; u++)
        s->held_ptr[u + 1] += s->held_ptr[u];
    decay_global(p, kept, t, n_kept);
    shop_ml_csr_build(&s->r_ui, d->n_users, d->n_items, t, n_kept, NULL);
    conf_apply(p->conf, &s->r_ui);
    conf_weight(p, &s->r_ui);
    shop_ml_csr_transpose(&s->r_ui, &s->r_iu);
    qsort(kept, n_kept, sizeof(*kept), cmp_touch_time);
    s->stream = malloc((n_kept + 1) * sizeof(*s->stream));
    for (size_t k = 0; k < n_kept; k++)
        s->stream[k] = (struct shop_ml_touch){kept[k]->user, kept[k]->item};
    s->n_stream = n_kept;
    free(t);
    free(kept);
}

/* The same events without each user's last basket. Its split holds out the basket before
 * the test one: parameters are chosen on it without looking at the test baskets. */
static void data_drop_last_basket(const struct reco_data *d, struct reco_data *v)
{
    *v = *d;
    v->ev = malloc((d->n + 1) * sizeof(*v->ev));
    v->n = 0;
    for (size_t b = 0, e; b < d->n; b = e) {
        for (e = b; e < d->n && d->ev[e].user == d->ev[b].user; e++)
            ;
        size_t last = e;
        while (last > b && d->ev[last - 1].basket == d->ev[e - 1].basket)
            last--;
        memcpy(v->ev + v->n, d->ev + b, (last - b) * sizeof(*v->ev));
        v->n += last - b;
    }
}

static void split_fini(struct split *s)
{
    shop_ml_csr_fini(&s->r_ui);
    shop_ml_csr_fini(&s->r_iu);
    free(s->stream);
    free(s->target);
    free(s->held_ptr);
    free(s->held);
}

/* Rank of the target among candidates (score descending, item id ascending). */
static uint32_t rank_of(const double *scores, uint32_t target, const uint32_t *cand, uint32_t n)
{
    struct shop_ml_scored t = {target, scores[target]};
    uint32_t rank = 0;
    for (uint32_t c = 0; c < n; c++) {
        struct shop_ml_scored o = {cand[c], scores[cand[c]]};
        rank += shop_ml_scored_before(&o, &t);
    }
    return rank;
}

static void add_hit(uint32_t rank, double *hr, double *ndcg)
{
    if (rank < TOP) {
        *hr += 1.0;
        *ndcg += 1.0 / log2(rank + 2.0);
    }
}

/* Candidates of one user: all items the user never bought (not in training, not in the
 * held-out basket), and 99 of them drawn with a per-user seed (the same for every method). */
static uint32_t candidates(const struct split *s, uint32_t u, unsigned seed, uint32_t *mark,
                           uint32_t *all, uint32_t *neg)
{
    const struct shop_ml_csr *m = &s->r_ui;
    for (size_t k = m->row_ptr[u]; k < m->row_ptr[u + 1]; k++)
        mark[m->col[k]] = u + 1;
    for (size_t k = s->held_ptr[u]; k < s->held_ptr[u + 1]; k++)
        mark[s->held[k]] = u + 1;
    mark[s->target[u]] = u + 1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_items; i++)
        if (mark[i] != u + 1)
            all[n++] = i;
    struct shop_ml_rand rng;
    shop_ml_rand_init(&rng, user_seed(seed, u) ^ 0x5bd1e995u);
    for (uint32_t k = 0; k < NEGATIVES && k < n; k++) {
        uint32_t pick = k + (uint32_t)shop_ml_rand_below(&rng, n - k);
        uint32_t tmp = all[k];
        all[k] = all[pick];
        all[pick] = tmp;
        neg[k] = all[k];
    }
    return n;
}

static void evaluate(const struct split *s, const struct shop_ml_csr *hist, score_fn fn,
                     const void *ctx, unsigned seed, struct metrics *out)
{
    uint32_t *mark = calloc(s->n_items, sizeof(*mark));
    uint32_t *all = malloc(s->n_items * sizeof(*all));
    uint32_t neg[NEGATIVES];
    double *scores = malloc(s->n_items * sizeof(*scores));
    memset(out, 0, sizeof(*out));
    for (uint32_t u = 0; u < s->n_users; u++) {
        if (s->target[u] == NO_TARGET)
            continue;
        uint32_t n_all = candidates(s, u, seed, mark, all, neg);
        fn(ctx, u, hist, scores);
        uint32_t n_neg = n_all < NEGATIVES ? n_all : NEGATIVES;
        add_hit(rank_of(scores, s->target[u], neg, n_neg), &out->hr_s, &out->ndcg_s);
        add_hit(rank_of(scores, s->target[u], all, n_all), &out->hr_f, &out->ndcg_f);
        out->users++;
    }
    out->hr_s /= out->users;
    out->ndcg_s /= out->users;
    out->hr_f /= out->users;
    out->ndcg_f /= out->users;
    free(scores);
    free(all);
    free(mark);
}

static void score_pop(const void *ctx, uint32_t u, const struct shop_ml_csr *r_ui, double *scores)
{
    const struct shop_ml_pop *pop = ctx;
    memcpy(scores, pop->score, pop->n_items * sizeof(*scores));
}

static void score_i2i(const void *ctx, uint32_t u, const struct shop_ml_csr *r_ui, double *scores)
{
    size_t at = r_ui->row_ptr[u];
    shop_ml_reco_item_scores(ctx, r_ui->col + at, NULL, r_ui->row_ptr[u + 1] - at, scores);
}

/* ALS scores, optionally plus w * log(1 + buyers): the same scores serve both metrics. */
struct als_scorer {
    const struct shop_ml_als *als;
    double w;
    double *log_pop;   /* per item */
    const struct shop_ml_similar *sim;   /* hybrid with item-to-item when not NULL */
    double w_i2i;
    int i2i_weighted;  /* history weighted by the user's (decayed) r */
    int i2i_rrf;       /* reciprocal-rank fusion instead of scaled scores */
    double *i2i;       /* per item scratch */
    struct shop_ml_scored *rank;   /* per item scratch for rrf */
};

static void scorer_init(struct als_scorer *sc, const struct shop_ml_als *als, const struct split *s,
                        double w)
{
    sc->als = als;
    sc->w = w;
    sc->sim = NULL;
    sc->w_i2i = 0.0;
    sc->i2i = malloc(s->n_items * sizeof(*sc->i2i));
    sc->i2i_weighted = 0;
    sc->i2i_rrf = 0;
    sc->rank = malloc(s->n_items * sizeof(*sc->rank));
    sc->log_pop = malloc(s->n_items * sizeof(*sc->log_pop));
    for (uint32_t i = 0; i < s->n_items; i++)
        sc->log_pop[i] = log1p((double)(s->r_iu.row_ptr[i + 1] - s->r_iu.row_ptr[i]));
}

static void scorer_fini(struct als_scorer *sc)
{
    free(sc->log_pop);
    free(sc->i2i);
    free(sc->rank);
}

static int cmp_scored(const void *a, const void *b)
{
    return shop_ml_scored_before(b, a) - shop_ml_scored_before(a, b);
}

/* v[i] becomes 1 / (60 + rank of item i in v), rank 0 the best. */
static void to_rrf(double *v, uint32_t n, struct shop_ml_scored *tmp)
{
    for (uint32_t i = 0; i < n; i++)
        tmp[i] = (struct shop_ml_scored){i, v[i]};
    qsort(tmp, n, sizeof(*tmp), cmp_scored);
    for (uint32_t r = 0; r < n; r++)
        v[tmp[r].item] = 1.0 / (60.0 + r);
}

static void score_als(const void *ctx, uint32_t u, const struct shop_ml_csr *r_ui, double *scores)
{
    const struct als_scorer *sc = ctx;
    shop_ml_als_scores(sc->als, sc->als->x + (size_t)u * sc->als->k, scores);
    if (sc->w > 0)
        for (uint32_t i = 0; i < sc->als->n_items; i++)
            scores[i] += sc->w * sc->log_pop[i];
    if (sc->sim == NULL)
        return;
    size_t at = r_ui->row_ptr[u];
    shop_ml_reco_item_scores(sc->sim, r_ui->col + at, sc->i2i_weighted ? r_ui->val + at : NULL,
                             r_ui->row_ptr[u + 1] - at, sc->i2i);
    uint32_t n = sc->als->n_items;
    if (sc->i2i_rrf) {
        to_rrf(scores, n, sc->rank);
        to_rrf(sc->i2i, n, sc->rank);
        for (uint32_t i = 0; i < n; i++)
            scores[i] += sc->w_i2i * sc->i2i[i];
        return;
    }
    double top = 0.0;
    for (uint32_t i = 0; i < sc->als->n_items; i++)
        top = fmax(top, sc->i2i[i]);
    if (top > 0)
        for (uint32_t i = 0; i < sc->als->n_items; i++)
            scores[i] += sc->w_i2i * sc->i2i[i] / top;
}

/* The hybrid row: ALS plus the item-to-item scores scaled to the user's best. */
static void evaluate_hybrid(const struct split *s, const struct shop_ml_als *als,
                            const struct shop_ml_similar *sim, double w, int weighted, int rrf,
                            unsigned seed, struct metrics *out)
{
    struct als_scorer sc;
    scorer_init(&sc, als, s, 0.0);
    sc.sim = sim;
    sc.w_i2i = w;
    sc.i2i_weighted = weighted;
    sc.i2i_rrf = rrf;
    evaluate(s, &s->r_ui, score_als, &sc, seed, out);
    scorer_fini(&sc);
}

/* Evaluates model als on split s with p's popularity blend. */
static void evaluate_als(const struct split *s, const struct shop_ml_als *als,
                         const struct reco_params *p, unsigned seed, struct metrics *out)
{
    struct als_scorer sc;
    scorer_init(&sc, als, s, p->pop_blend);
    evaluate(s, &s->r_ui, score_als, &sc, seed, out);
    scorer_fini(&sc);
}

static void print_row(const char *data, const char *method, const struct metrics *m)
{
    printf("  %-15s %-28s %6u   %6.4f   %6.4f   %6.4f   %6.4f\n", data, method, m->users, m->hr_s,
           m->ndcg_s, m->hr_f, m->ndcg_f);
}

static void als_cfg(const struct reco_params *p, unsigned seed, struct shop_ml_als_cfg *cfg)
{
    shop_ml_als_cfg_default(cfg);
    cfg->factors = p->factors;
    cfg->cg_steps = p->cg_steps;
    cfg->reg = p->reg;
    cfg->alpha = p->alpha;
    cfg->reg_exp = p->reg_exp;
    cfg->seed = seed;
}

/* Full training on a split; returns the wall time in seconds. */
static double train_als(const struct split *s, const struct reco_params *p, unsigned seed,
                        struct shop_ml_als *als)
{
    struct shop_ml_als_cfg cfg;
    als_cfg(p, seed, &cfg);
    shop_ml_als_init(als, &cfg, s->n_users, s->n_items, NULL);
    double t0 = now_s();
    shop_ml_als_train(als, &s->r_ui, &s->r_iu, p->iters, NULL);
    return now_s() - t0;
}

/* Popularity, item-to-item and ALS on one dataset; keeps the ALS model for later parts. */
static void compare_methods(const struct reco_data *d, const struct split *s,
                            const struct reco_params *p, unsigned seed, struct shop_ml_als *als,
                            double *als_s, struct metrics *m_als, struct metrics *m_pop)
{
    struct metrics m;
    struct shop_ml_pop pop;
    shop_ml_pop_init(&pop, s->n_items);
    for (uint32_t i = 0; i < s->n_items; i++)
        pop.score[i] = (double)(s->r_iu.row_ptr[i + 1] - s->r_iu.row_ptr[i]);
    evaluate(s, &s->r_ui, score_pop, &pop, seed, m_pop);
    print_row(d->name, "popularity", m_pop);
    shop_ml_pop_fini(&pop);

    struct shop_ml_cooc c;
    struct shop_ml_similar sim;
    shop_ml_cooc_init(&c, p->hist_max, NULL);
    for (size_t k = 0; k < s->n_stream; k++)
        shop_ml_cooc_add(&c, s->stream[k].user, s->stream[k].item, NULL);
    shop_ml_cooc_similar(&c, p->neighbours, &sim);
    evaluate(s, &s->r_ui, score_i2i, &sim, seed, &m);
    char name[64];
    snprintf(name, sizeof(name), "item-to-item (H=%u,K=%u)", p->hist_max, p->neighbours);
    print_row(d->name, name, &m);

    *als_s = train_als(s, p, seed, als);
    evaluate_als(s, als, p, seed, m_als);
    snprintf(name, sizeof(name), p->pop_blend > 0 ? "ALS (k=%u) + pop. term" : "ALS (k=%u)",
             p->factors);
    print_row(d->name, name, m_als);
    if (p->i2i_blend > 0) {
        evaluate_hybrid(s, als, &sim, p->i2i_blend, 1, 0, seed, &m);
        snprintf(name, sizeof(name), "hybrid ALS + %g item-to-item", p->i2i_blend);
        print_row(d->name, name, &m);
    }
    shop_ml_similar_fini(&sim);
    shop_ml_cooc_fini(&c);
}

/* Fold-in of every user's full training row against the stale model's item factors. */
static void fold_in_all(struct shop_ml_als *stale, const struct split *s)
{
    double *work = malloc(shop_ml_als_work_len(stale->k) * sizeof(*work));
    for (uint32_t u = 0; u < s->n_users; u++) {
        size_t at = s->r_ui.row_ptr[u], n = s->r_ui.row_ptr[u + 1] - at;
        shop_ml_als_fold_in(stale, s->r_ui.col + at, s->r_ui.val + at, n,
                            stale->x + (size_t)u * stale->k, work, NULL);
    }
    free(work);
}

static void incremental(const struct reco_data *d, const struct split *full,
                        const struct reco_params *p, unsigned seed, const struct metrics *m_full)
{
    struct split stale_split;
    struct shop_ml_als stale;
    struct metrics m;
    split_build(d, seed, FOLD_NEWEST, p, &stale_split);
    train_als(&stale_split, p, seed, &stale);
    evaluate_als(full, &stale, p, seed, &m);
    print_row(d->name, "stale (without newest 5)", &m);
    double t0 = now_s();
    fold_in_all(&stale, full);
    double fold_s = now_s() - t0;
    evaluate_als(full, &stale, p, seed, &m);
    print_row(d->name, "stale + fold-in", &m);
    print_row(d->name, "full retrain", m_full);
    t0 = now_s();
    shop_ml_als_train(&stale, &full->r_ui, &full->r_iu, 2, NULL);
    double warm_s = now_s() - t0;
    evaluate_als(full, &stale, p, seed, &m);
    print_row(d->name, "fold-in + 2 warm iters", &m);
    printf("  (%s: fold-in of all %u users %.3f s, 2 warm iterations %.3f s)\n", d->name,
           full->n_users, fold_s, warm_s);
    shop_ml_als_fini(&stale);
    split_fini(&stale_split);
}

/* Streams every event (not only training) and compares with the batch recount. */
static int cooc_exactness(const struct reco_data *d, uint32_t hist_max)
{
    struct shop_ml_touch *ev = malloc((d->n + 1) * sizeof(*ev));
    const struct reco_event **order = malloc((d->n + 1) * sizeof(*order));
    for (size_t k = 0; k < d->n; k++)
        order[k] = &d->ev[k];
    qsort(order, d->n, sizeof(*order), cmp_touch_time);
    for (size_t k = 0; k < d->n; k++)
        ev[k] = (struct shop_ml_touch){order[k]->user, order[k]->item};
    struct shop_ml_cooc stream, batch;
    shop_ml_cooc_init(&stream, hist_max, NULL);
    shop_ml_cooc_init(&batch, hist_max, NULL);
    size_t first = 0;
    double t0 = now_s();
    for (size_t k = 0; k < d->n; k++)
        first += shop_ml_cooc_add(&stream, ev[k].user, ev[k].item, NULL) == 1;
    double stream_s = now_s() - t0;
    shop_ml_cooc_recount(&batch, ev, d->n, NULL);
    int equal = shop_ml_cooc_counts_equal(&stream, &batch);
    printf("  %-15s H=%-4u %8zu events, %7zu first touches, %9zu pairs: streamed %s batch recount"
           " (%.2f us/event)\n",
           d->name, hist_max, d->n, first, stream.pairs.len, equal ? "==" : "!= (MISMATCH)",
           stream_s * 1e6 / (double)d->n);
    shop_ml_cooc_fini(&batch);
    shop_ml_cooc_fini(&stream);
    free(order);
    free(ev);
    return equal ? 0 : 1;
}

static double time_fold_in(const struct shop_ml_als *als, unsigned seed, uint32_t n_items,
                           uint32_t reps)
{
    uint32_t items[100];
    double r[100], *x = malloc(als->k * sizeof(*x));
    double *work = malloc(shop_ml_als_work_len(als->k) * sizeof(*work));
    struct shop_ml_rand rng;
    shop_ml_rand_init(&rng, seed);
    for (uint32_t t = 0; t < n_items; t++) {
        items[t] = (uint32_t)shop_ml_rand_below(&rng, als->n_items);
        r[t] = 1.0 + (double)shop_ml_rand_below(&rng, 3);
    }
    double t0 = now_s(), sink = 0.0;
    for (uint32_t k = 0; k < reps; k++) {
        shop_ml_als_fold_in(als, items, r, n_items, x, work, NULL);
        sink += x[k % als->k];
    }
    double us = (now_s() - t0) * 1e6 / reps;
    free(work);
    free(x);
    return isfinite(sink) ? us : -1.0;
}

/* Top-10 over 2,000 items at 64 factors, 20 bought items excluded. */
static double time_top10(unsigned seed, uint32_t reps)
{
    struct shop_ml_als_cfg cfg;
    struct shop_ml_als als;
    struct shop_ml_pop pop;
    shop_ml_als_cfg_default(&cfg);
    cfg.factors = 64;
    cfg.seed = seed;
    cfg.init_scale = 1.0;
    shop_ml_als_init(&als, &cfg, 1, 2000, NULL);
    shop_ml_pop_init(&pop, 2000);
    uint32_t bought[20];
    for (uint32_t t = 0; t < 20; t++)
        bought[t] = 37 + 97 * t;
    struct shop_ml_scored out[TOP];
    uint32_t n = 0;
    double t0 = now_s();
    for (uint32_t k = 0; k < reps; k++) {
        als.x[k % 64] += 1e-3;   /* a different query each time */
        shop_ml_reco_user(&als, als.x, &pop, bought, 20, TOP, out, &n);
    }
    double us = (now_s() - t0) * 1e6 / reps;
    shop_ml_pop_fini(&pop);
    shop_ml_als_fini(&als);
    return n == TOP ? us : -1.0;
}

static void speed(const struct reco_data *ml, const struct shop_ml_als *als, double train_s,
                  const struct reco_params *p, unsigned seed, int quick)
{
    uint32_t reps = quick ? 200 : 2000;
    printf("\nreco speed (single core, seed %u)\n", seed);
    printf("  %-52s %10s  %s\n", "operation", "figure", "target");
    if (ml != NULL) {
        struct shop_ml_cooc c;
        shop_ml_cooc_init(&c, p->hist_max, NULL);
        double t0 = now_s();
        for (size_t k = 0; k < ml->n; k++)
            shop_ml_cooc_add(&c, ml->ev[k].user, ml->ev[k].item, NULL);
        printf("  %-52s %7.2f us\n", "co-occurrence update (first touch, H as above)",
               (now_s() - t0) * 1e6 / (double)ml->n);
        shop_ml_cooc_fini(&c);
        printf("  %-52s %7.1f us  <= 200 us\n", "ALS fold-in, 100 items, 64 factors (Cholesky)",
               time_fold_in(als, seed, 100, reps));
        printf("  %-52s %7.3f s   <= 2 s\n", "full ALS training, MovieLens 100K", train_s);
        printf("  %-52s %7.3f s\n", "  per iteration", train_s / p->iters);
    }
    printf("  %-52s %7.1f us  <= 50 us\n", "top-10 over 2,000 items, 64 factors",
           time_top10(seed, reps * 5));
}

/* Prints one check line; returns 2 when it failed (bit 0 is the co-occurrence check). */
static int check_line(const char *what, int ok)
{
    printf("  %s: %s\n", what, ok ? "ok" : "FAILED");
    return ok ? 0 : 2;
}

static void params_print(const char *name, const struct reco_params *p)
{
    printf("  %-15s ALS k=%u reg=%g reg-exp=%g alpha=%g iters=%u cg_steps=%u r=%s "
           "half-life=%gd pop-term=%g; item-to-item history H=%u, neighbours K=%u; "
           "hybrid weight %g\n",
           name, p->factors, p->reg, p->reg_exp, p->alpha, p->iters, p->cg_steps,
           CONF_NAME[p->conf], p->half_life_d, p->pop_blend, p->hist_max, p->neighbours,
           p->i2i_blend);
}

/* MovieLens: chosen on a small grid (reg in 1..40, alpha in 1..20; see docs/ml.md); larger
 * reg raised ALS further but let the stale model catch up with fold-in. Online Retail:
 * the best k = 64 row of the validation grid below (ml-eval reco-tune), never the test;
 * no confidence weighting or weighted lambda beat it by more than the validation noise.
 * i2i_blend only adds the hybrid row (history weighted by r, item-to-item scaled to the
 * user's best), reported beside ALS alone. */
static const struct reco_params ML_PARAMS = {
    .factors = 64, .iters = 15, .cg_steps = 3, .reg = 20.0, .alpha = 5.0, .hist_max = 200,
    .neighbours = 200, .conf = CONF_LINES};
static const struct reco_params RETAIL_PARAMS = {
    .factors = 64, .iters = 15, .cg_steps = 3, .reg = 60.0, .alpha = 5.0, .hist_max = 200,
    .neighbours = 200, .conf = CONF_LINES, .half_life_d = 30, .i2i_blend = 0.1};

int eval_reco_run(const struct eval_opts *o)
{
    struct reco_data ml, rt;
    struct reco_params pm = ML_PARAMS, pr = RETAIL_PARAMS;
    if (o->quick)
        pm.iters = pr.iters = 5;
    printf("== reco: recommendations (seed %u) ==\n", o->seed);
    int ml_rc = o->quick ? 2 : reco_movielens_load(o->data_dir, &ml);   /* --quick: retail only */
    int rt_rc = reco_retail_load(o->data_dir, &rt);
    if (ml_rc == 2)
        printf("MovieLens 100K: skipped in --quick mode\n");
    if (ml_rc == 1)
        printf("MovieLens 100K not found under %s/movielens-100k: skipping its part\n", o->data_dir);
    if (rt_rc == 1)
        printf("Online Retail not found under %s/online-retail: skipping its part\n", o->data_dir);
    if (ml_rc < 0 || rt_rc < 0) {
        fprintf(stderr, "ml-eval: reco: could not read a dataset under %s\n", o->data_dir);
        return 1;
    }
    if (ml_rc == 0)
        params_print(ml.name, &pm);
    if (rt_rc == 0)
        params_print(rt.name, &pr);
    printf("\nleave-last-out quality (HR@10 / NDCG@10; sampled = target vs %d random unseen "
           "items, full = vs all unseen items)\n", NEGATIVES);
    printf("  %-15s %-28s %6s   %-6s   %-6s   %-6s   %-6s\n", "dataset", "method", "users",
           "HR smp", "NDCG s", "HR all", "NDCG a");
    struct split sm, sr;
    struct shop_ml_als als_m, als_r;
    struct metrics mm, mr, pop_m, pop_r;
    double train_m = 0.0, train_r = 0.0;
    int failed = 0;
    if (ml_rc == 0) {
        split_build(&ml, o->seed, 0, &pm, &sm);
        compare_methods(&ml, &sm, &pm, o->seed, &als_m, &train_m, &mm, &pop_m);
    }
    if (rt_rc == 0) {
        split_build(&rt, o->seed, 0, &pr, &sr);
        compare_methods(&rt, &sr, &pr, o->seed, &als_r, &train_r, &mr, &pop_r);
    }
    printf("\nincremental: train without each user's %d newest events, fold them in (items "
           "fixed), vs full retrain and the stale model\n", FOLD_NEWEST);
    if (ml_rc == 0)
        incremental(&ml, &sm, &pm, o->seed, &mm);
    if (rt_rc == 0)
        incremental(&rt, &sr, &pr, o->seed, &mr);
    printf("\nco-occurrence exactness (whole dataset streamed in time order)\n");
    if (ml_rc == 0)
        failed |= cooc_exactness(&ml, pm.hist_max);
    if (rt_rc == 0)
        failed |= cooc_exactness(&rt, pr.hist_max);
    speed(ml_rc == 0 ? &ml : NULL, ml_rc == 0 ? &als_m : NULL, train_m, &pm, o->seed, o->quick);
    if (rt_rc == 0)
        printf("  %-52s %7.3f s\n", "full ALS training, Online Retail", train_r);
    printf("\nchecks (ml-eval exits 1 when one fails)\n");
    if (ml_rc == 0)
        failed |= check_line("MovieLens 100K: ALS HR@10 (sampled) above popularity",
                             mm.hr_s > pop_m.hr_s);
    if (rt_rc == 0)
        failed |= check_line("Online Retail: ALS HR@10 (sampled) above popularity",
                             mr.hr_s > pop_r.hr_s);
    printf("  co-occurrence: streamed == batch recount: %s\n", failed & 1 ? "FAILED" : "ok");
    if (ml_rc == 0) {
        shop_ml_als_fini(&als_m);
        split_fini(&sm);
        reco_data_fini(&ml);
    }
    if (rt_rc == 0) {
        shop_ml_als_fini(&als_r);
        split_fini(&sr);
        reco_data_fini(&rt);
    }
    return failed;
}

/* Validation grid for Online Retail (ml-eval reco-tune): every configuration is trained
 * on the data without each customer's last invoice and scored on the invoice before it,
 * so the test invoices never choose a parameter. Rows vary RETAIL_PARAMS. */
struct tune_row {
    double reg, alpha, half_life_d;
    double bm25_k1, bm25_b;
    int idf;
    double user_norm, cap, reg_exp;
    double global_hl_d;
};

static const struct tune_row TUNE_GRID[] = {
    {60, 5, 30, 0, 0, 0, 0, 0, 0, 0},          /* the chosen row (RETAIL_PARAMS) */
    /* BM25 as implicit's bm25_weight (K1, B), with and without the idf factor */
    {60, 5, 30, 100, 0.8, 1, 0, 0, 0, 0},
    {60, 1, 30, 100, 0.8, 1, 0, 0, 0, 0},
    {60, 5, 30, 1.2, 0.75, 1, 0, 0, 0, 0},
    {60, 5, 30, 100, 0.8, 0, 0, 0, 0, 0},
    {60, 5, 30, 1.2, 0.75, 0, 0, 0, 0, 0},
    {60, 5, 30, 1.2, 0.0, 0, 0, 0, 0, 0},
    /* TF-IDF: r times idf (BM25 with K1 large, B 0) */
    {60, 1, 30, 1000, 0, 1, 0, 0, 0, 0},
    {60, 0.5, 30, 1000, 0, 1, 0, 0, 0, 0},
    /* per-user normalisation; confidence cap (wholesale customers' repeat lines) */
    {60, 5, 30, 0, 0, 0, 0.5, 0, 0, 0},
    {60, 5, 30, 0, 0, 0, 1.0, 0, 0, 0},
    {60, 5, 30, 0, 0, 0, 0, 1, 0, 0},
    {60, 5, 30, 0, 0, 0, 0, 3, 0, 0},
    /* weighted lambda: reg (1 + n)^reg_exp per user and item */
    {10, 5, 30, 0, 0, 0, 0, 0, 0.25, 0},
    {15, 5, 30, 0, 0, 0, 0, 0, 0.25, 0},
    {20, 5, 30, 0, 0, 0, 0, 0, 0.25, 0},
    {30, 5, 30, 0, 0, 0, 0, 0, 0.25, 0},
    {15, 10, 30, 0, 0, 0, 0, 0, 0.25, 0},
    {15, 5, 30, 0, 0, 0, 0, 3, 0.25, 0},
    {2, 5, 30, 0, 0, 0, 0, 0, 0.5, 0},
    {4, 5, 30, 0, 0, 0, 0, 0, 0.5, 0},
    {8, 5, 30, 0, 0, 0, 0, 0, 0.5, 0},
    {1, 5, 30, 0, 0, 0, 0, 0, 1.0, 0},
    /* global decay: lines also fade with their age from the newest training line */
    {60, 5, 30, 0, 0, 0, 0, 0, 0, 365},
    {60, 10, 30, 0, 0, 0, 0, 0, 0, 90},
    {40, 5, 30, 0, 0, 0, 0, 0, 0, 180},
};
struct tune_blend {
    double w;
    int weighted, rrf;
};
static const struct tune_blend TUNE_I2I[] = {
    {0, 0, 0}, {0.05, 0, 0}, {0.1, 1, 0}, {0.3, 1, 0}, {0.3, 1, 1}, {1.0, 1, 1},
};

static void tune_params(const struct tune_row *t, struct reco_params *p)
{
    *p = RETAIL_PARAMS;
    p->reg = t->reg;
    p->alpha = t->alpha;
    p->half_life_d = t->half_life_d;
    p->bm25_k1 = t->bm25_k1;
    p->bm25_b = t->bm25_b;
    p->idf = t->idf;
    p->user_norm = t->user_norm;
    p->cap = t->cap;
    p->reg_exp = t->reg_exp;
    p->global_hl_d = t->global_hl_d;
}

static void tune_one(const struct reco_data *v, const struct tune_row *t,
                     const struct shop_ml_similar *sim, unsigned seed, double pop_hr)
{
    struct reco_params p;
    struct split s;
    struct shop_ml_als als;
    struct metrics m;
    tune_params(t, &p);
    split_build(v, seed, 0, &p, &s);
    double sec = train_als(&s, &p, seed, &als);
    for (size_t b = 0; b < sizeof(TUNE_I2I) / sizeof(TUNE_I2I[0]); b++) {
        const struct tune_blend *bl = &TUNE_I2I[b];
        if (bl->w > 0)
            evaluate_hybrid(&s, &als, sim, bl->w, bl->weighted, bl->rrf, seed, &m);
        else
            evaluate_als(&s, &als, &p, seed, &m);
        printf("  reg=%-4g a=%-3g hl=%-3g ghl=%g bm25=%g/%g%s unorm=%g cap=%g wl=%g i2i=%-4g%s%s  "
               "%6.4f  %6.4f  %5.3fx  %6.4f  (%.1f s)\n", p.reg, p.alpha, p.half_life_d,
               p.global_hl_d, p.bm25_k1, p.bm25_b, p.idf ? "+idf" : "", p.user_norm, p.cap,
               p.reg_exp, bl->w,
               bl->weighted ? "w" : "", bl->rrf ? "rrf" : "", m.hr_s,
               m.ndcg_s, m.hr_s / pop_hr, m.hr_f, sec);
        fflush(stdout);
    }
    shop_ml_als_fini(&als);
    split_fini(&s);
}

int eval_reco_tune_run(const struct eval_opts *o)
{
    struct reco_data rt, v;
    int rc = reco_retail_load(o->data_dir, &rt);
    if (rc != 0) {
        fprintf(stderr, "ml-eval: reco-tune: Online Retail not readable under %s\n", o->data_dir);
        return rc == 1 ? 77 : 1;
    }
    data_drop_last_basket(&rt, &v);
    struct split s;
    struct shop_ml_pop pop;
    struct shop_ml_cooc c;
    struct shop_ml_similar sim;
    struct metrics m;
    split_build(&v, o->seed, 0, &RETAIL_PARAMS, &s);
    shop_ml_pop_init(&pop, s.n_items);
    for (uint32_t i = 0; i < s.n_items; i++)
        pop.score[i] = (double)(s.r_iu.row_ptr[i + 1] - s.r_iu.row_ptr[i]);
    evaluate(&s, &s.r_ui, score_pop, &pop, o->seed, &m);
    printf("== reco-tune: Online Retail validation (last invoice dropped, the one before held "
           "out; seed %u) ==\n  popularity: %u users, HR@10 sampled %.4f, full %.4f\n",
           o->seed, m.users, m.hr_s, m.hr_f);
    double pop_hr = m.hr_s;
    shop_ml_cooc_init(&c, RETAIL_PARAMS.hist_max, NULL);
    for (size_t k = 0; k < s.n_stream; k++)
        shop_ml_cooc_add(&c, s.stream[k].user, s.stream[k].item, NULL);
    shop_ml_cooc_similar(&c, RETAIL_PARAMS.neighbours, &sim);
    evaluate(&s, &s.r_ui, score_i2i, &sim, o->seed, &m);
    printf("  item-to-item: HR@10 sampled %.4f, full %.4f\n", m.hr_s, m.hr_f);
    printf("  %-78s %6s  %6s  %6s  %6s\n", "configuration (k 64, 15 iterations)", "HR smp",
           "NDCG s", "/pop", "HR all");
    shop_ml_pop_fini(&pop);
    shop_ml_cooc_fini(&c);
    split_fini(&s);
    for (size_t g = 0; g < sizeof(TUNE_GRID) / sizeof(TUNE_GRID[0]); g++)
        tune_one(&v, &TUNE_GRID[g], &sim, o->seed, pop_hr);
    shop_ml_similar_fini(&sim);
    free(v.ev);
    reco_data_fini(&rt);
    return 0;
}
