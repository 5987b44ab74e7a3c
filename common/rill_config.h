/*
 * rill_config.h - the configuration file every process reads (docs/CONFIG.md).
 *
 * One JSON file holds what the operator declares: job kinds, request limits,
 * retention, deadlines, heartbeats, and the reactive pipelines of docs/CONFIG.md "Pipelines". Missing keys take the defaults below;
 * unknown keys and values out of range are refused with a reason, so a typo
 * never silently becomes a default.
 */
#ifndef RILL_CONFIG_H
#define RILL_CONFIG_H

#include "rill_config_jwt.h"
#include "rill_config_kinds.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_CONFIG_MAX_KINDS 32
#define RILL_CONFIG_MAX_ORIGINS 16
#define RILL_CONFIG_ORIGIN_MAX 256
#define RILL_CONFIG_TOKEN_MAX 256
#define RILL_CONFIG_MAX_PIPELINES 32
#define RILL_CONFIG_SOURCE_MAX 257 /* a job's source: 1 to 256 bytes */

typedef enum {
    RILL_GROUP_BY_SOURCE = 0, /* default: each source (default: the kind) is a group */
    RILL_GROUP_BY_KIND,
    RILL_GROUP_BY_NONE, /* the whole pipeline is one group */
} rill_group_by_t;

typedef enum {
    RILL_PIPELINE_ORDERED = 0, /* concat: one batch of a group in flight at a time */
    RILL_PIPELINE_PARALLEL,    /* merge: up to concurrency batches of a group in flight */
} rill_pipeline_mode_t;

/* One declared pipeline (docs/CONFIG.md "Pipelines"): the operators
 * applied to the jobs it matches on their way to workers. */
typedef struct {
    char name[RILL_CONFIG_KIND_NAME_MAX];
    char kind[RILL_CONFIG_KIND_NAME_MAX];   /* match.kind */
    char source[RILL_CONFIG_SOURCE_MAX];    /* match.source; "" = any source */
    rill_group_by_t group_by;
    uint64_t buffer_ms;   /* buffer_with_time timespan; 0 = no waiting */
    uint64_t buffer_max;  /* ... and count: a batch holds at most this many jobs */
    uint64_t debounce_ms; /* 0 = no debounce */
    rill_pipeline_mode_t mode;
    uint64_t concurrency; /* parallel: batches of a group in flight (ordered: 1) */
    int dedup;
    uint64_t retain_ms;    /* default: the top-level value */
    uint64_t retain_parts;
    uint64_t timeout_ms;
    uint64_t retries;
    uint64_t flush_ms;     /* frontend: parts of a stream within this window go as one chunk */
    uint64_t retain_bytes; /* default: the top-level value */
} rill_pipeline_config_t;
#define RILL_CONFIG_PATH_MAX 1024
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
    /* Bounds on what a peer may make a process hold (docs/PROTOCOL.md,
     * "Bounds"): every ZeroMQ socket's ZMQ_MAXMSGSIZE, and the credit the
     * broker believes of one worker. */
    uint64_t max_message_bytes;     /* default 16 MiB */
    uint64_t max_worker_credit;     /* default 64 */
    uint64_t stream_heartbeat_ms;   /* idle HTTP stream heartbeat; default 5000 */
    uint64_t busy_flush_ms;         /* while the frontend's loop is busy, a stream's bytes wait this long to
                                       leave in one write; 0 = never; default 4 (frontend/write_pacing.h) */
    uint64_t topic_retain_messages; /* a topic's last messages kept for replay; default 100 */
    uint64_t topic_retain_ms;       /* ... for at most this long; default 60000 */
    uint64_t max_topics;            /* topic records the broker keeps; idle ones evicted past it; default 100000 */
    uint64_t topic_lease_ms;        /* rill/8: a frontend numbers a topic it alone publishes to, until the topic
                                       is idle this long; 0 = never; default 10000 (broker/topic_lease.h) */
    uint64_t max_publish_keys;      /* rill/10: publish keys the broker remembers; default 100000 */
    uint64_t publish_key_ttl_ms;    /* ... a client's for this long; default 300000 (broker/publish_keys.h) */
    /* Faults (docs/PROTOCOL.md, "Worker sessions"): a job lost with its
     * worker waits retry_backoff_ms before its next dispatch, doubled per
     * loss, at most 10 s; a worker keeps each job's last worker_hold_parts
     * parts (and worker_hold_bytes in all) to send again after a re-join. */
    uint64_t retry_backoff_ms;      /* default 500 */
    uint64_t worker_hold_parts;     /* default 1000 */
    uint64_t worker_hold_bytes;     /* default 8 MiB */
    /* Slow clients (docs/DESIGN.md "Promises"), as Redis bounds pub/sub clients: a stream whose
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
    /* JWT access per topic and per job (docs/API.md "Access"); off without keys. */
    rill_config_jwt_t jwt;
    /* Declared pipelines, in order: a job takes the first that matches. */
    size_t pipeline_count;
    rill_pipeline_config_t pipelines[RILL_CONFIG_MAX_PIPELINES];
    /* Built-in kinds (docs/API.md). tail_root: the directory tail jobs' paths are
     * relative to; a relative tail_root is relative to the run directory. */
    char tail_root[RILL_CONFIG_PATH_MAX]; /* default "tail" (RUN/tail) */
    size_t exec_count;
    rill_config_exec_t exec[RILL_CONFIG_MAX_EXEC];
    size_t upstream_count;
    rill_config_upstream_t upstreams[RILL_CONFIG_MAX_UPSTREAMS];
    /* HTTPS (docs/CONFIG.md "TLS"): PEM files, read by the frontend only;
     * "" = cleartext. A relative path is relative to the config file. */
    char tls_cert[RILL_CONFIG_PATH_MAX];
    char tls_key[RILL_CONFIG_PATH_MAX];
    /* A job nobody listens to any more, whose last client did not leave a
     * live frontend (docs/PROTOCOL.md, "Interest"), is cancelled only
     * after this; default 30000. */
    uint64_t orphan_grace_ms;
    /* Bounded memory (docs/CONFIG.md): a job's retained events hold at
     * most retain_bytes of data, all jobs' together retain_total_bytes
     * (ended jobs' oldest go first); a part over max_part_bytes fails its
     * job (part_too_large); one request's demo jobs may ask for at most
     * max_request_bytes of parts (413 request_too_large). */
    uint64_t retain_bytes;       /* default 8 MiB */
    uint64_t retain_total_bytes; /* default 256 MiB */
    uint64_t max_retained_jobs;  /* ended jobs kept; past it the first to expire go early; 0 = no bound; 1000000 */
    uint64_t max_part_bytes;     /* default 1 MiB */
    uint64_t max_request_bytes;  /* default 1 GiB */
    /* The frontend's GET /readyz: 200 only with a live worker too (else a
     * broker link is enough); default 0. /healthz always needs one. */
    int ready_requires_worker;
} rill_config_t;

void rill_config_defaults(rill_config_t *config);
/* Loads path over the defaults. Returns 0, or -1 with the reason in error. */
int rill_config_load(const char *path, rill_config_t *config, char *error, size_t error_size);
int rill_config_declares_kind(const rill_config_t *config, const char *kind);
/* The first pipeline matching kind and source (source NULL = the kind), or NULL. */
const rill_pipeline_config_t *rill_config_match_pipeline(const rill_config_t *config, const char *kind,
                                                         const char *source);
/* The allowlisted command / declared upstream of that name, or NULL. */
const rill_config_exec_t *rill_config_find_exec(const rill_config_t *config, const char *name);
const rill_config_upstream_t *rill_config_find_upstream(const rill_config_t *config, const char *id);
/* SIGHUP in every process: re-reads path into *config and logs the outcome.
 * A bad file (or no path) leaves *config untouched. Returns 0 when replaced. */
int rill_config_reload(const char *path, rill_config_t *config);

#endif
