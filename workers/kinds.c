/* kinds.c - the registry of built-in job kinds. See kinds.h. */
#include "kinds.h"

#include <string.h>

const rill_worker_kind_t *const rill_worker_builtin_kinds[] = {
    &rill_kind_demo,
    &rill_kind_tail,
    &rill_kind_http,
    &rill_kind_exec,
    NULL,
};

const rill_worker_kind_t *rill_worker_kinds_find(const char *name)
{
    for (size_t i = 0; rill_worker_builtin_kinds[i] != NULL; i++) {
        if (strcmp(rill_worker_builtin_kinds[i]->name, name) == 0)
            return rill_worker_builtin_kinds[i];
    }
    return NULL;
}
