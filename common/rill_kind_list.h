/*
 * rill_kind_list.h - the built-in job kinds: the one list to extend when a
 * kind is added (one line; the kind itself is one file, workers/kind_<name>.c,
 * listed once more in meson.build's rill_kind_sources).
 *
 * An X-macro list: include it with RILL_KIND(name) defined and it expands
 * once per kind. librill expands it to the kinds' argument checks
 * (rill_job.c) and the default "kinds" of the config (rill_config.c), the
 * worker to the kinds it can run (workers/kinds.c), so the three can never
 * disagree. The order is the config's default "kinds" order.
 */
RILL_KIND(demo)
RILL_KIND(tail)
RILL_KIND(http)
RILL_KIND(exec)
RILL_KIND(subscribe)
