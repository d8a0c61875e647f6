/* SPDX-License-Identifier: MIT
 * The ML core's configuration: defaults (docs/configuration.md) and their bounds. Pure.
 */
#include <math.h>
#include <string.h>

#include "workers/core/mlw_internal.h"

void shop_mlw_cfg_default(struct shop_mlw_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->lateness_ms = 6 * MLW_HOUR_MS;
    cfg->retrain_every_ms = 7 * MLW_DAY_MS;
    cfg->drift_threshold = 0.25;
    cfg->swap_after_ms = MLW_HOUR_MS;
    cfg->segments = 4;
    cfg->top_n = 200;
    cfg->similar_k = 50;
    cfg->forecast_days = 28;
    cfg->min_users = 20;
    cfg->buffer_max = 1000000;
    shop_ml_als_cfg_default(&cfg->als);
    /* docs/ml.md's Online Retail row: k 64, reg 60, alpha 5, 3 CG steps. */
    cfg->als.factors = 64;
    cfg->als.reg = 60;
    cfg->als.alpha = 5;
    cfg->als.cg_steps = 3;
    cfg->als.reg_exp = 0;
    shop_ml_interact_cfg_default(&cfg->interact);
    cfg->seed = 42;
}

int shop_mlw_cfg_validate(const struct shop_mlw_cfg *cfg, struct shop_err *err)
{
    if (cfg->lateness_ms < 0 || cfg->lateness_ms > 30 * MLW_DAY_MS)
        return shop_err_set(err, SHOP_EINVAL, "lateness_ms must be 0..30 days, got %lld", (long long)cfg->lateness_ms);
    if (cfg->retrain_every_ms < MLW_HOUR_MS)
        return shop_err_set(err, SHOP_EINVAL, "retrain_every_ms must be at least an hour, got %lld",
                            (long long)cfg->retrain_every_ms);
    if (!(cfg->drift_threshold > 0) || !isfinite(cfg->drift_threshold))
        return shop_err_set(err, SHOP_EINVAL, "drift_threshold must be positive and finite");
    if (cfg->swap_after_ms < 0 || cfg->swap_after_ms > cfg->retrain_every_ms)
        return shop_err_set(err, SHOP_EINVAL, "swap_after_ms must be 0..retrain_every_ms, got %lld",
                            (long long)cfg->swap_after_ms);
    if (cfg->segments < 1 || cfg->segments > SHOP_ML_KMEANS_K_MAX)
        return shop_err_set(err, SHOP_EINVAL, "segments must be 1..%d, got %u", SHOP_ML_KMEANS_K_MAX, cfg->segments);
    if (cfg->top_n < 1 || cfg->top_n > 10000)
        return shop_err_set(err, SHOP_EINVAL, "top_n must be 1..10000, got %u", cfg->top_n);
    if (cfg->similar_k < 1 || cfg->similar_k > 10000)
        return shop_err_set(err, SHOP_EINVAL, "similar_k must be 1..10000, got %u", cfg->similar_k);
    if (cfg->forecast_days < 1 || cfg->forecast_days > 366)
        return shop_err_set(err, SHOP_EINVAL, "forecast_days must be 1..366, got %u", cfg->forecast_days);
    if (cfg->min_users < 1)
        return shop_err_set(err, SHOP_EINVAL, "min_users must be at least 1");
    if (cfg->buffer_max < 1)
        return shop_err_set(err, SHOP_EINVAL, "buffer_max must be at least 1");
    if (cfg->als.factors < 1 || cfg->als.factors > 1024)
        return shop_err_set(err, SHOP_EINVAL, "als.factors must be 1..1024, got %u", cfg->als.factors);
    if (!(cfg->als.reg >= 0) || !isfinite(cfg->als.reg) || !(cfg->als.alpha >= 0) || !isfinite(cfg->als.alpha))
        return shop_err_set(err, SHOP_EINVAL, "als.reg and als.alpha must be finite and non-negative");
    if (!(cfg->als.reg_exp >= 0 && cfg->als.reg_exp <= 2))
        return shop_err_set(err, SHOP_EINVAL, "als.reg_exp must be 0..2");
    return shop_ml_interact_cfg_validate(&cfg->interact, err);
}
