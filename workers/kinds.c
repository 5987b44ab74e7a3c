/* kinds.c - the table of the kinds rill-worker can run. See kinds.h. */
#include "kinds.h"

const rill_worker_kind_t *const rill_worker_builtin_kinds[] = {
#define RILL_KIND(name) &rill_worker_kind_##name,
#include "rill_kind_list.h"
#undef RILL_KIND
    NULL,
};
