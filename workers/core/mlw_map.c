/* SPDX-License-Identifier: MIT
 * The ML core's string -> index map: open addressing, linear probing, backward-shift
 * deletion (held orders come and go). Keyed SipHash against chosen-id flooding; no
 * result depends on the seed (nothing iterates the map). Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "workers/core/mlw_internal.h"

void mlw_map_init(struct mlw_map *mp, struct shop_hash_seed seed)
{
    memset(mp, 0, sizeof(*mp));
    mp->seed = seed;
}

void mlw_map_fini(struct mlw_map *mp)
{
    free(mp->key);
    free(mp->val);
    memset(mp, 0, sizeof(*mp));
}

static size_t slot_of(const struct mlw_map *mp, const char *key)
{
    return (size_t)shop_siphash(1, 3, mp->seed, key, strlen(key)) & (mp->cap - 1);
}

uint32_t mlw_map_get(const struct mlw_map *mp, const char *key)
{
    if (mp->cap == 0)
        return UINT32_MAX;
    for (size_t i = slot_of(mp, key);; i = (i + 1) & (mp->cap - 1)) {
        if (mp->key[i] == NULL)
            return UINT32_MAX;
        if (strcmp(mp->key[i], key) == 0)
            return mp->val[i];
    }
}

static void grow(struct mlw_map *mp)
{
    struct mlw_map old = *mp;
    mp->cap = old.cap ? old.cap * 2 : 64;
    mp->key = shop_xcalloc(mp->cap, sizeof(*mp->key));
    mp->val = shop_xcalloc(mp->cap, sizeof(*mp->val));
    mp->len = 0;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.key[i] != NULL)
            mlw_map_put(mp, old.key[i], old.val[i]);
    }
    free(old.key);
    free(old.val);
}

void mlw_map_put(struct mlw_map *mp, const char *key, uint32_t val)
{
    if ((mp->len + 1) * 4 > mp->cap * 3)
        grow(mp);
    size_t i = slot_of(mp, key);
    while (mp->key[i] != NULL) {
        if (strcmp(mp->key[i], key) == 0) {
            mp->key[i] = key;
            mp->val[i] = val;
            return;
        }
        i = (i + 1) & (mp->cap - 1);
    }
    mp->key[i] = key;
    mp->val[i] = val;
    mp->len++;
}

void mlw_map_del(struct mlw_map *mp, const char *key)
{
    if (mp->cap == 0)
        return;
    size_t mask = mp->cap - 1, i = slot_of(mp, key);
    while (mp->key[i] != NULL && strcmp(mp->key[i], key) != 0)
        i = (i + 1) & mask;
    if (mp->key[i] == NULL)
        return;
    mp->len--;
    /* Backward shift: pull later members of the run into the hole when their home slot
     * is not strictly between the hole and them. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; mp->key[j] != NULL; j = (j + 1) & mask) {
        size_t home = slot_of(mp, mp->key[j]);
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            mp->key[hole] = mp->key[j];
            mp->val[hole] = mp->val[j];
            hole = j;
        }
    }
    mp->key[hole] = NULL;
}
