/* SPDX-License-Identifier: MIT
 * The webhook signature, as Stripe's and GitHub's: HMAC-SHA256 (OpenSSL) keyed with the
 * endpoint's secret over "<t_ms>.<body>", hex, in "t=<t_ms>,v1=<hex>". The timestamp
 * inside the MAC lets a receiver refuse a replayed request. Pure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "workers/core/notify.h"

static void mac_hex(const char *secret, int64_t t_ms, const char *body, size_t body_len, char hex[65])
{
    char t[24];
    unsigned char mac[EVP_MAX_MD_SIZE];
    int tl = snprintf(t, sizeof(t), "%" PRId64 ".", t_ms);
    size_t mac_len = 0;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    if (ctx == NULL || !EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) ||
        !EVP_MAC_update(ctx, (const unsigned char *)t, (size_t)tl) ||
        !EVP_MAC_update(ctx, (const unsigned char *)body, body_len) || !EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)))
        abort();   /* OOM, or a libcrypto without HMAC-SHA256: nothing to sign with */
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    for (size_t i = 0; i < mac_len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    hex[64] = '\0';
}

int shop_notify_sign(const char *secret, int64_t t_ms, const char *body, size_t body_len, char *buf, size_t n)
{
    char hex[65];
    mac_hex(secret, t_ms, body, body_len, hex);
    int len = snprintf(buf, n, "t=%" PRId64 ",v1=%s", t_ms, hex);
    return len < 0 || (size_t)len >= n ? SHOP_ENOMEM : 0;
}

/* Accepts "t=<ms>" and any number of "v1=<hex>" items in any order, as receivers should
 * (a rotation may send two v1 signatures; unknown schemes are ignored). */
bool shop_notify_verify(const char *secret, const char *header, const char *body, size_t body_len,
                        int64_t now_ms, int64_t tolerance_ms)
{
    int64_t t_ms = -1;
    const char *sigs[4];
    size_t n_sigs = 0;
    for (const char *p = header; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 2 && strncmp(p, "t=", 2) == 0)
            t_ms = strtoll(p + 2, NULL, 10);
        else if (len == 67 && strncmp(p, "v1=", 3) == 0 && n_sigs < 4)
            sigs[n_sigs++] = p + 3;
        p = end != NULL ? end + 1 : NULL;
    }
    if (t_ms < 0 || n_sigs == 0 || t_ms < now_ms - tolerance_ms || t_ms > now_ms + tolerance_ms)
        return false;
    char hex[65];
    mac_hex(secret, t_ms, body, body_len, hex);
    for (size_t i = 0; i < n_sigs; i++)
        if (CRYPTO_memcmp(hex, sigs[i], 64) == 0)   /* constant time: no timing oracle */
            return true;
    return false;
}
