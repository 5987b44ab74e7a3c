/*
 * fuzz_jwt.c - libFuzzer target for the frontend's JWT check
 * (frontend/access_jwt.h, frontend/access_claims.h): any bytes a client
 * puts after "Authorization: Bearer " or in the JWT cookie.
 *
 * Built by meson only with clang (tests/meson.build), with
 * -fsanitize=fuzzer,address. Beside memory errors it checks: a refusal
 * always says why; an input checked twice gets the same answer (the
 * second time may come from the verified-token memory); an accepted token
 * is one whose header names HS256, the one configured key's alg, and its
 * grant answers the claim questions without trouble. The seeds include a
 * token signed with the key below, so accepted paths are reached too.
 *
 *     build-fuzz/tests/fuzz_jwt -max_total_time=600 NEW_DIR tests/fuzz/corpus/jwt
 */
#include "access_jwt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000 /* the seeds' exp is later, their nbf earlier */

static rill_config_jwt_t config;

static int check_once(const char *token, size_t size)
{
    rill_access_grant_t grant;
    const char *why = NULL;
    int result = rill_access_jwt_verify(&config, token, size, NOW, &grant, &why);
    if (result != 0 && why == NULL)
        abort();
    if (result == 0) {
        if (grant.payload == NULL || memmem(token, size, ".", 1) == NULL)
            abort();
        (void)rill_access_may_subscribe(&grant, "news", 4);
        (void)rill_access_may_publish(&grant, "alerts.*", 8);
        (void)rill_access_may_read_job_by_claim(&grant, "0123456789abcdef0123456789abcdef");
        (void)rill_access_owns(&grant, "127.0.0.1:1 sub=alice", 21);
        rill_access_grant_clear(&grant);
    }
    return result;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (config.key_count == 0) {
        rill_config_jwt_defaults(&config);
        static const char secret[] = "fuzz-secret-0123456789abcdef-0123456789";
        snprintf(config.keys[0].alg, sizeof(config.keys[0].alg), "HS256");
        memcpy(config.keys[0].key, secret, sizeof(secret) - 1);
        config.keys[0].key_length = sizeof(secret) - 1;
        config.key_count = 1;
    }
    char *copy = malloc(size > 0 ? size : 1); /* exactly the input: ASan sees any read past it */
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (check_once(copy, size) != check_once(copy, size))
        abort();
    free(copy);
    return 0;
}
