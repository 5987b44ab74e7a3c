/*
 * kinds.h - the job kinds rill-worker can run: the running half of every
 * built-in kind (common/rill_kind_list.h lists them; each is one file,
 * workers/kind_<name>.c, as rill_worker_kind.h describes).
 */
#ifndef RILL_WORKER_KINDS_H
#define RILL_WORKER_KINDS_H

#include "rill_worker_kind.h"

#define RILL_KIND(name) extern const rill_worker_kind_t rill_worker_kind_##name;
#include "rill_kind_list.h"
#undef RILL_KIND

/* NULL-terminated, in rill_kind_list.h's order. */
extern const rill_worker_kind_t *const rill_worker_builtin_kinds[];

#endif
