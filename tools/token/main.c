/* SPDX-License-Identifier: MIT
 * shopstream-token: prints a JWT for development and tests: HS256 signed with
 * SHOPSTREAM_JWT_SECRET, or RS256 signed with a private key file (--rs256-key),
 * optionally naming its key with a "kid" header (for SHOPSTREAM_JWT_JWKS_FILE). Shell.
 *   shopstream-token --sub U [--role shopper|service|admin]... [--ttl-s N] [--iss I] [--aud A]
 *                    [--exp-s ABS] [--nbf-s ABS] [--no-iat] [--claims JSON]
 *                    [--rs256-key PRIVATE.pem] [--kid KID]
 * One --role R gives the claim "role":"R"; several --role, or a comma list, give
 * "roles":[...]. Any string is signed as given: the edge ignores unknown roles.
 */
#include <getopt.h>
#include <jansson.h>
#include <jwt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(void)
{
    fprintf(stderr, "usage: shopstream-token --sub U [--role shopper|service|admin]... "
                    "[--ttl-s N] [--iss I] "
                    "[--aud A] [--exp-s EPOCH] [--nbf-s EPOCH] [--no-iat] [--claims JSON] "
                    "[--rs256-key PRIVATE.pem] [--kid KID]\n"
                    "signs HS256 with SHOPSTREAM_JWT_SECRET, or RS256 with --rs256-key;\n"
                    "one --role gives \"role\", several (or a comma list) \"roles\";\n"
                    "--claims adds or replaces claims (e.g. '{\"nbf\":\"x\"}' for tests)\n");
    exit(2);
}

#define ROLES_MAX 8

struct opts {
    const char *sub, *iss, *aud, *claims, *rs256_key, *kid;
    char *roles[ROLES_MAX];
    size_t n_roles;
    long ttl_s, exp_s, nbf_s;
    bool no_iat;
};

/* --role R or --role R1,R2: each name is one entry. */
static void add_roles(struct opts *o, const char *arg)
{
    char *copy = strdup(arg), *save = NULL;
    for (char *r = strtok_r(copy, ",", &save); r != NULL; r = strtok_r(NULL, ",", &save)) {
        if (o->n_roles == ROLES_MAX)
            usage();
        o->roles[o->n_roles++] = strdup(r);
    }
    free(copy);
}

/* "role":"R" for one role, "roles":["R1",...] for several. */
static int add_role_claims(jwt_t *jwt, const struct opts *o)
{
    if (o->n_roles == 1)
        return jwt_add_grant(jwt, "role", o->roles[0]);
    if (o->n_roles == 0)
        return 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < o->n_roles; i++)
        json_array_append_new(arr, json_string(o->roles[i]));
    json_t *obj = json_pack("{s:o}", "roles", arr);
    char *js = json_dumps(obj, JSON_COMPACT);
    int rc = js != NULL ? jwt_add_grants_json(jwt, js) : 1;
    free(js);
    json_decref(obj);
    return rc;
}

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"sub", required_argument, NULL, 's'},   {"role", required_argument, NULL, 'r'},
        {"ttl-s", required_argument, NULL, 't'}, {"iss", required_argument, NULL, 'i'},
        {"aud", required_argument, NULL, 'a'},   {"exp-s", required_argument, NULL, 'e'},
        {"nbf-s", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
        {"claims", required_argument, NULL, 'c'}, {"rs256-key", required_argument, NULL, 'k'},
        {"kid", required_argument, NULL, 'd'},    {"no-iat", no_argument, NULL, 'I'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->sub = optarg; break;
        case 'r': add_roles(o, optarg); break;
        case 't': o->ttl_s = strtol(optarg, NULL, 10); break;
        case 'i': o->iss = optarg; break;
        case 'a': o->aud = optarg; break;
        case 'e': o->exp_s = strtol(optarg, NULL, 10); break;
        case 'n': o->nbf_s = strtol(optarg, NULL, 10); break;
        case 'c': o->claims = optarg; break;
        case 'k': o->rs256_key = optarg; break;
        case 'd': o->kid = optarg; break;
        case 'I': o->no_iat = true; break;
        default: usage();
        }
    }
    if (o->sub == NULL || optind != argc)
        usage();
}

/* The signing key: the RS256 private key file, or the HS256 secret. */
static unsigned char *signing_key(const struct opts *o, int *len)
{
    if (o->rs256_key == NULL) {
        const char *secret = getenv("SHOPSTREAM_JWT_SECRET");
        if (secret == NULL || secret[0] == '\0') {
            fprintf(stderr, "shopstream-token: SHOPSTREAM_JWT_SECRET is not set\n");
            exit(2);
        }
        *len = (int)strlen(secret);
        return (unsigned char *)strdup(secret);
    }
    FILE *f = fopen(o->rs256_key, "rb");
    if (f == NULL) {
        fprintf(stderr, "shopstream-token: could not open %s\n", o->rs256_key);
        exit(2);
    }
    unsigned char *buf = calloc(1, 65537);
    *len = buf != NULL ? (int)fread(buf, 1, 65536, f) : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    struct opts o = {.ttl_s = 3600};
    parse(argc, argv, &o);
    int key_len = 0;
    unsigned char *key = signing_key(&o, &key_len);
    long now = (long)time(NULL);
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return 1;
    int rc = jwt_add_grant(jwt, "sub", o.sub);
    if (!o.no_iat)
        rc |= jwt_add_grant_int(jwt, "iat", now);
    rc |= jwt_add_grant_int(jwt, "exp", o.exp_s != 0 ? o.exp_s : now + o.ttl_s);
    if (o.nbf_s != 0)
        rc |= jwt_add_grant_int(jwt, "nbf", o.nbf_s);
    rc |= add_role_claims(jwt, &o);
    if (o.iss != NULL)
        rc |= jwt_add_grant(jwt, "iss", o.iss);
    if (o.aud != NULL)
        rc |= jwt_add_grant(jwt, "aud", o.aud);
    if (o.claims != NULL) {
        /* Replaces what is already set: libjwt refuses to add a grant twice. */
        json_t *extra = json_loads(o.claims, 0, NULL);
        const char *name;
        json_t *val;
        rc |= extra == NULL || !json_is_object(extra);
        json_object_foreach(extra, name, val)
            jwt_del_grants(jwt, name);
        json_decref(extra);
        rc |= jwt_add_grants_json(jwt, o.claims);
    }
    if (o.kid != NULL)
        rc |= jwt_add_header(jwt, "kid", o.kid);
    for (size_t i = 0; i < o.n_roles; i++)
        free(o.roles[i]);
    rc |= jwt_set_alg(jwt, o.rs256_key != NULL ? JWT_ALG_RS256 : JWT_ALG_HS256, key, key_len);
    free(key);
    char *tok = rc == 0 ? jwt_encode_str(jwt) : NULL;
    jwt_free(jwt);
    if (tok == NULL) {
        fprintf(stderr, "shopstream-token: could not sign token\n");
        return 1;
    }
    puts(tok);
    free(tok);
    return 0;
}
