/*
 * check.h - `rill-broker --check`: is a broker running and answering?
 *
 * A probe for an orchestrator (Kubernetes' exec probe, deploy/kubernetes/)
 * with no wire-protocol change: it connects a DEALER to the broker's
 * control endpoint, as a frontend does, sends the PING every frontend
 * sends (docs/PROTOCOL.md, "Frontend ⇄ broker") and waits for its PONG.
 * A PING changes nothing in the broker. Not part of the running broker:
 * main.c calls it instead of starting one.
 */
#ifndef RILL_BROKER_CHECK_H
#define RILL_BROKER_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The endpoint to connect to for a bound one: a tcp:// wildcard host
 * ("*", "0.0.0.0") becomes 127.0.0.1, "[::]" becomes [::1]; anything else
 * is kept. Returns 0, or -1 when out is too small. */
int rill_broker_check_endpoint(const char *bound, char *out, size_t out_size);

/* PINGs the broker at control and waits up to timeout_ms for its PONG.
 * Writes one line: to out when it answered ("broker <id> alive: N
 * workers"), else the reason to err. Returns the exit status: 0 alive,
 * 1 not. */
int rill_broker_check_run(const char *control, uint64_t timeout_ms, uint64_t max_message_bytes, FILE *out,
                          FILE *err);

#endif
