/*
 * rill_id.h - unguessable identifiers (job ids, barrier tokens, instances).
 *
 * Knowing a job's id is what lets a client subscribe to it, so ids carry 128
 * bits from the kernel's CSPRNG (getrandom, read in blocks: rill_id.c),
 * written as 32 hex digits. Safe to call from several threads and across fork().
 */
#ifndef RILL_ID_H
#define RILL_ID_H

#define RILL_ID_TEXT_SIZE 33 /* 32 hex digits + NUL */

/* Fills text with a fresh id. Returns 0, or -1 if the kernel gave no randomness. */
int rill_id_generate(char text[RILL_ID_TEXT_SIZE]);

#endif
