/* SPDX-License-Identifier: MIT
 * shopstream-token: prints an HS256 JWT signed with SHOPSTREAM_JWT_SECRET for
 * development and tests. Shell.
 *   shopstream-token --sub U [--role admin] [--ttl-s N] [--iss I] [--aud A]
 *                    [--exp-s ABS] [--nbf-s ABS]
 */
#include <getopt.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(void)
{
    fprintf(stderr, "usage: shopstream-token --sub U [--role admin] [--ttl-s N] [--iss I] "
                    "[--aud A] [--exp-s EPOCH] [--nbf-s EPOCH]\n"
                    "signs HS256 with SHOPSTREAM_JWT_SECRET\n");
    exit(2);
}

struct opts {
    const char *sub, *role, *iss, *aud;
    long ttl_s, exp_s, nbf_s;
};

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"sub", required_argument, NULL, 's'},   {"role", required_argument, NULL, 'r'},
        {"ttl-s", required_argument, NULL, 't'}, {"iss", required_argument, NULL, 'i'},
        {"aud", required_argument, NULL, 'a'},   {"exp-s", required_argument, NULL, 'e'},
        {"nbf-s", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->sub = optarg; break;
        case 'r': o->role = optarg; break;
        case 't': o->ttl_s = strtol(optarg, NULL, 10); break;
        case 'i': o->iss = optarg; break;
        case 'a': o->aud = optarg; break;
        case 'e': o->exp_s = strtol(optarg, NULL, 10); break;
        case 'n': o->nbf_s = strtol(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (o->sub == NULL || optind != argc)
        usage();
}

int main(int argc, char **argv)
{
    struct opts o = {.ttl_s = 3600};
    parse(argc, argv, &o);
    const char *secret = getenv("SHOPSTREAM_JWT_SECRET");
    if (secret == NULL || secret[0] == '\0') {
        fprintf(stderr, "shopstream-token: SHOPSTREAM_JWT_SECRET is not set\n");
        return 2;
    }
    long now = (long)time(NULL);
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return 1;
    int rc = jwt_add_grant(jwt, "sub", o.sub);
    rc |= jwt_add_grant_int(jwt, "iat", now);
    rc |= jwt_add_grant_int(jwt, "exp", o.exp_s != 0 ? o.exp_s : now + o.ttl_s);
    if (o.nbf_s != 0)
        rc |= jwt_add_grant_int(jwt, "nbf", o.nbf_s);
    if (o.role != NULL)
        rc |= jwt_add_grant(jwt, "role", o.role);
    if (o.iss != NULL)
        rc |= jwt_add_grant(jwt, "iss", o.iss);
    if (o.aud != NULL)
        rc |= jwt_add_grant(jwt, "aud", o.aud);
    rc |= jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
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
