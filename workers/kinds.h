/*
 * kinds.h - the job kinds compiled into rill-worker.
 *
 * Adding a kind: write workers/kind_<name>.c exporting a rill_worker_kind_t,
 * declare it here and list it in kinds.c. Nothing else changes.
 */
#ifndef RILL_WORKER_KINDS_H
#define RILL_WORKER_KINDS_H

#include "rill_worker_kind.h"

extern const rill_worker_kind_t rill_kind_demo;
extern const rill_worker_kind_t rill_kind_tail;
extern const rill_worker_kind_t rill_kind_http;
extern const rill_worker_kind_t rill_kind_exec;

/* NULL-terminated list of every built-in kind. */
extern const rill_worker_kind_t *const rill_worker_builtin_kinds[];

const rill_worker_kind_t *rill_worker_kinds_find(const char *name);

#endif
