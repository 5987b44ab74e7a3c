/* test_config_jwt.c - the config's "jwt" section: keys, key files, cookie, leeway, refusals (common/rill_config_jwt.c). */
#include "rill_config.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char folder[] = "/tmp/rill-config-jwt-XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", folder, name);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    if (file != NULL) {
        fputs(text, file);
        fclose(file);
    }
}

static int load_text(const char *text, rill_config_t *config, char *error, size_t size)
{
    char path[256];
    write_file("rill.json", text);
    snprintf(path, sizeof(path), "%s/rill.json", folder);
    return rill_config_load(path, config, error, size);
}

#define SECRET "\"0123456789abcdef0123456789abcdef\""
#define PEM "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"

int main(void)
{
    CHECK(mkdtemp(folder) != NULL);
    static rill_config_t config;
    char error[512];
    rill_config_defaults(&config);
    CHECK(config.jwt.key_count == 0); /* off by default */
    CHECK(load_text("{}", &config, error, sizeof(error)) == 0 && config.jwt.key_count == 0);

    CHECK(load_text("{\"jwt\":{\"keys\":[{\"alg\":\"HS256\",\"secret\":" SECRET "}]}}", &config, error,
                    sizeof(error)) == 0);
    CHECK(config.jwt.key_count == 1 && strcmp(config.jwt.keys[0].alg, "HS256") == 0);
    CHECK(config.jwt.keys[0].key_length == 32 && memcmp(config.jwt.keys[0].key, "0123456789abcdef", 16) == 0);
    CHECK(strcmp(config.jwt.cookie, "rill_jwt") == 0 && config.jwt.leeway_s == 5);

    /* A relative key file is the config folder's. */
    write_file("es.pem", PEM);
    CHECK(load_text("{\"jwt\":{\"keys\":[{\"alg\":\"ES256\",\"public_key_file\":\"es.pem\"},"
                    "{\"alg\":\"HS512\",\"secret\":" SECRET "}],\"cookie\":\"tok-1\",\"leeway_s\":0}}",
                    &config, error, sizeof(error)) == 0);
    CHECK(config.jwt.key_count == 2 && strcmp((const char *)config.jwt.keys[0].key, PEM) == 0);
    CHECK(strcmp(config.jwt.cookie, "tok-1") == 0 && config.jwt.leeway_s == 0);

    /* Refusals, each naming what is wrong. */
    write_file("private.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    static const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {"{\"jwt\":[]}", "\"jwt\" must be an object"},
        {"{\"jwt\":{}}", "\"keys\" is missing"},
        {"{\"jwt\":{\"keys\":[]}}", "1 to 8 keys"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"none\",\"secret\":" SECRET "}]}}", "keys[0]: an object whose \"alg\""},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"HS256\",\"secret\":\"short\"}]}}", "32 to"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"HS256\",\"public_key_file\":\"es.pem\"}]}}", "unknown field"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"RS256\",\"secret\":" SECRET "}]}}", "unknown field"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"RS256\",\"public_key_file\":\"nope.pem\"}]}}", "cannot read"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"RS256\",\"public_key_file\":\"private.pem\"}]}}", "it is a private key"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"HS256\",\"secret\":" SECRET "},{\"alg\":\"RS256\",\"public_key_file\":\"rill.json\"}]}}",
         "keys[1]"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"HS256\",\"secret\":" SECRET "}],\"cookie\":\"a b\"}}", "\"cookie\""},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"HS256\",\"secret\":" SECRET "}],\"leeway_s\":301}}", "leeway_s"},
        {"{\"jwt\":{\"keys\":[{\"alg\":\"HS256\",\"secret\":" SECRET "}],\"leeway\":1}}", "unknown setting"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int refused = load_text(bad[i].text, &config, error, sizeof(error)) == -1;
        CHECK(refused && strstr(error, bad[i].says) != NULL);
        if (!refused || strstr(error, bad[i].says) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, error);
    }
    char path[256];
    const char *names[] = {"rill.json", "es.pem", "private.pem"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", folder, names[i]);
        unlink(path);
    }
    rmdir(folder);
    RILL_TEST_END();
}
