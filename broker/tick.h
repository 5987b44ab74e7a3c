/*
 * tick.h - what the passing of time does in the broker, every 50 ms
 * (main.c): heartbeats and sync events, silent workers, job deadlines,
 * orphan graces, barriers that waited long enough, and the expiry of ended
 * jobs, aged topic messages and old peer-log entries. Each is decided in its own file; this
 * one only keeps the schedule.
 */
#ifndef RILL_BROKER_TICK_H
#define RILL_BROKER_TICK_H

#include "broker.h"

void rill_broker_tick(rill_broker_t *self, uint64_t now_ms);

#endif
