/*
 * rill_config.h - the configuration file every process reads (docs/CONFIG.md).
 *
 * One JSON file holds what the operator declares: job kinds, request limits,
 * retention, deadlines, heartbeats. Missing keys take the defaults below;
 * unknown keys and values out of range are refused with a reason, so a typo
 * never silently becomes a default.
 */
#ifndef RILL_CONFIG_H
#define RILL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define RILL_CONFIG_MAX_KINDS 32
#define RILL_CONFIG_KIND_NAME_MAX 64
#define RILL_CONFIG_MAX_ORIGINS 16
#define RILL_CONFIG_ORIGIN_MAX 256
#define RILL_CONFIG_TOKEN_MAX 256

typedef enum {
    RILL_SLOW_CLIENT_CLOSE = 0, /* end the stream with an error event slow_client */
    RILL_SLOW_CLIENT_GAP,       /* drop what is queued, tell the client with gap events, go on */
} rill_slow_client_action_t;

typedef struct {
    size_t kind_count;
    char kinds[RILL_CONFIG_MAX_KINDS][RILL_CONFIG_KIND_NAME_MAX]; /* declared job kinds */
    uint64_t max_body_bytes;        /* 413 above; default 1 MiB */
    uint64_t max_jobs_per_request;  /* 413 above; default 1000 */
    uint64_t retain_ms;             /* keep a job's events after it ends; default 60000 */
    uint64_t retain_parts;          /* at most this many events per job; default 1000 */
    uint64_t timeout_ms;            /* job deadline from submission; default 600000; 0 = none */
    uint64_t retries;               /* re-dispatches after a worker died; default 2 */
    uint64_t heartbeat_ms;          /* process-to-process heartbeats; default 1000 */
    uint64_t stream_heartbeat_ms;   /* idle HTTP stream heartbeat; default 5000 */
    uint64_t topic_retain_messages; /* a topic's last messages kept for replay; default 100 */
    uint64_t topic_retain_ms;       /* ... for at most this long; default 60000 */
    /* Slow clients (SPEC §6), as Redis bounds pub/sub clients: a stream whose
     * unsent bytes pass the hard limit at once, or stay over the soft limit
     * for soft_ms, gets slow_client_action. */
    uint64_t slow_client_hard_bytes; /* default 8 MiB */
    uint64_t slow_client_soft_bytes; /* default 1 MiB */
    uint64_t slow_client_soft_ms;    /* default 10000 */
    rill_slow_client_action_t slow_client_action; /* default close */
    /* Browsers on other origins (CORS): exact origins, or "*"; none by default. */
    size_t cors_origin_count;
    char cors_origins[RILL_CONFIG_MAX_ORIGINS][RILL_CONFIG_ORIGIN_MAX];
    /* When set, submit, publish and cancel need "Authorization: Bearer <token>". */
    char auth_token[RILL_CONFIG_TOKEN_MAX];
} rill_config_t;

void rill_config_defaults(rill_config_t *config);
/* Loads path over the defaults. Returns 0, or -1 with the reason in error. */
int rill_config_load(const char *path, rill_config_t *config, char *error, size_t error_size);
int rill_config_declares_kind(const rill_config_t *config, const char *kind);
/* SIGHUP in every process: re-reads path into *config and logs the outcome.
 * A bad file (or no path) leaves *config untouched. Returns 0 when replaced. */
int rill_config_reload(const char *path, rill_config_t *config);

#endif
