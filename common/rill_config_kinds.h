/*
 * rill_config_kinds.h - the config's settings of two job kinds: "exec"
 * (the allowlist of commands) and "upstreams" (the HTTP origins the http
 * and subscribe kinds may reach). rill_config.h holds both in its struct
 * (a config is one plain struct); rill_config.c calls these while it reads
 * the file.
 *
 * Own file because both sections are checked field by field (names, argv,
 * URLs), which is most of what the config reader would otherwise be.
 */
#ifndef RILL_CONFIG_KINDS_H
#define RILL_CONFIG_KINDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_CONFIG_KIND_NAME_MAX 64 /* a kind, an exec command, an upstream: names clients send */
#define RILL_CONFIG_MAX_EXEC 32        /* commands in the exec allowlist */
#define RILL_CONFIG_EXEC_ARGV_MAX 8    /* fixed argv entries of one command */
#define RILL_CONFIG_EXEC_ARG_MAX 256   /* bytes of one fixed argv entry */
#define RILL_CONFIG_MAX_UPSTREAMS 32
#define RILL_CONFIG_URL_MAX 512

/* One command of the exec allowlist: clients name it, never give its path. */
typedef struct {
    char name[RILL_CONFIG_KIND_NAME_MAX];
    size_t argc;                                             /* fixed argv entries, >= 1 */
    char argv[RILL_CONFIG_EXEC_ARGV_MAX][RILL_CONFIG_EXEC_ARG_MAX]; /* argv[0]: absolute path */
    uint64_t max_args;                                       /* client args appended at most; default 0 */
} rill_config_exec_t;

/* One HTTP upstream the http kind may reach; nothing else is reachable. */
typedef struct {
    char id[RILL_CONFIG_KIND_NAME_MAX];
    char url[RILL_CONFIG_URL_MAX];      /* base: a job's "path" is appended */
    char list_url[RILL_CONFIG_URL_MAX]; /* "" or a URL with one {ids} placeholder */
} rill_config_upstream_t;

/* Each returns 0, or -1 with error filled (the section stays partly read:
 * the caller drops the whole config). */
int rill_config_load_exec(json_t *value, rill_config_exec_t *exec, size_t *count, char *error, size_t error_size);
int rill_config_load_upstreams(json_t *value, rill_config_upstream_t *upstreams, size_t *count, char *error,
                               size_t error_size);
/* A non-empty JSON string without NUL bytes, shorter than size, into out. 0, or -1. */
int rill_config_copy_text(json_t *value, char *out, size_t size);

#endif
