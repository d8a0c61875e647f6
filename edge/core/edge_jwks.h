/* SPDX-License-Identifier: MIT
 * RS256 verification keys from a JWKS (RFC 7517) document, chosen by a token's
 * "kid", and the keyring that lets a shell swap them while loop threads verify.
 * Pure: the document's bytes are passed in; reading and watching the file is
 * the shell's job (edge/main.c). Debian 12's libjwt (1.10) knows no JWK, so each
 * RSA key is rebuilt from its n and e with OpenSSL 3 and kept as PEM for libjwt.
 * Invariant: a key set is immutable once parsed and freed only when the last
 * verification using it has released it.
 */
#ifndef SHOP_EDGE_JWKS_H
#define SHOP_EDGE_JWKS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_b64url.h"
#include "base/shop_err.h"

#define SHOP_JWKS_KEYS_MAX 64
#define SHOP_JWKS_KID_MAX 128
#define SHOP_JWKS_RSA_BITS_MIN 2048

struct shop_jwk {
    char kid[SHOP_JWKS_KID_MAX + 1];
    char *pem;          /* SubjectPublicKeyInfo PEM, NUL-terminated */
    size_t pem_len;
    int bits;
};

struct shop_jwks {
    atomic_int refs;
    size_t n;
    size_t skipped;     /* keys of other types or uses (EC, "use":"enc", ...) left out */
    struct shop_jwk keys[];
};

/** Parses a JWKS document {"keys":[...]}. Every RSA key meant for signatures ("use"
 *  absent or "sig", "alg" absent or "RS256") needs a unique "kid" (1..128 bytes) and
 *  base64url "n" and "e" making a key of at least 2048 bits; keys of other types or uses
 *  are skipped. A document with a broken usable key, or with none, is refused whole.
 *  Returns 0 with *out (one reference, the caller's), or SHOP_EINVAL with err. */
int shop_jwks_parse(const char *json, size_t len, struct shop_jwks **out, struct shop_err *err);

/** The key with this kid, or NULL. */
const struct shop_jwk *shop_jwks_find(const struct shop_jwks *ks, const char *kid);

/** Drops one reference; the last one frees ks. NULL is ignored. Any thread. */
void shop_jwks_unref(struct shop_jwks *ks);


/** The current key set, shared by every loop thread. generation starts at 0 (no keys) and
 *  is bumped by every shop_jwt_keyring_set: see shop_jwt_key_generation in edge_jwt.h. */
struct shop_jwt_keyring {
    pthread_mutex_t mu;
    struct shop_jwks *current;   /* under mu */
    atomic_uint_fast64_t generation;
};

void shop_jwt_keyring_init(struct shop_jwt_keyring *kr);
/** Installs ks (taking the caller's reference) and bumps the generation. Any thread. */
void shop_jwt_keyring_set(struct shop_jwt_keyring *kr, struct shop_jwks *ks);
/** A new reference to the current key set (NULL before the first set); release it with
 *  shop_jwks_unref. Any thread. */
struct shop_jwks *shop_jwt_keyring_acquire(struct shop_jwt_keyring *kr);
/** Releases the current key set. */
void shop_jwt_keyring_fini(struct shop_jwt_keyring *kr);

#endif
