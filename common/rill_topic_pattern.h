/*
 * rill_topic_pattern.h - wildcard topic subscriptions (docs/API.md,
 * "Wildcard topics"): `alerts.*` names every topic whose name starts with
 * `alerts.` and goes on (`alerts.cpu`, `alerts.cpu.high`), those that exist
 * now and those created later; not `alerts.` itself, `alertsX` nor
 * `alert.x`.
 *
 * A pattern is a valid topic name prefix ending with a dot, then `*`, and
 * nothing else: one `*`, at the end only. Its *prefix* is the pattern
 * without the `*` ("alerts."). On the wire (docs/PROTOCOL.md, "Wildcard
 * topics") a frontend subscribes its SUB socket to "t" + prefix: ZeroMQ's
 * byte-prefix filter then passes every "t<name>/" of the matched topics,
 * and the broker, which sees "t" + something ending with '.' (a topic
 * subject always ends with '/'), counts it as a pattern, not a topic.
 *
 * Shared by the broker (interest, matching) and the frontend (validation,
 * fan-out): pure functions, unit-tested (tests/unit/test_topic_pattern.c).
 */
#ifndef RILL_TOPIC_PATTERN_H
#define RILL_TOPIC_PATTERN_H

#include <stddef.h>

/* Is text (length bytes) a pattern: a valid topic name of 1..127 bytes
 * whose last byte is '.', then '*'? */
int rill_topic_pattern_is_valid(const char *text, size_t length);
/* Does text end with ".*" (whether valid or not)? Tells a pattern that is
 * malformed from a topic name that is. */
int rill_topic_pattern_looks_like(const char *text, size_t length);
/* Is prefix (a pattern without its '*', ending with '.') one of a topic
 * name? The name must go on after the prefix. */
int rill_topic_pattern_matches(const char *prefix, size_t prefix_length, const char *name,
                               size_t name_length);
/* Is text (length bytes) a pattern's prefix: a valid topic name of 1..127
 * bytes ending with '.'? */
int rill_topic_prefix_is_valid(const char *text, size_t length);

#endif
