/* test_sequencer.c - one (stream, subject) pair's order: deliver, duplicate and gap;
 * live events held during a FETCH; a seq jump repaired by FETCH; the final
 * REPLAY turning what is not retained into a gap; jobs that end. No socket,
 * no h2o: a fake stream is the sink and records what it is told. */
#include "event_format.h"
#include "rill_log.h"
#include "rill_test.h"
#include "sequencer.h"

#include <stdlib.h>

/* The fake stream: what was delivered, as "seq<type>" tokens ("1p 2p g3-4
 * 5d"; a gap is g<from>-<to>), and what else the sequencer asked. */
typedef struct {
    rill_sequencer_t sequencer; /* first: the sink gets it back */
    char delivered[512];
    int open;
    int overflows;
    int ended;
    int repairs;
    uint64_t repair_after;
    int refuse_repair;
    int dropping; /* a slow client: lines are dropped, not queued */
} fake_t;

static int fake_is_open(rill_sequencer_t *sequencer)
{
    return ((fake_t *)sequencer)->open;
}

static void fake_deliver(rill_sequencer_t *sequencer, uint64_t seq, rill_event_type_t type,
                         rill_chunk_t *line)
{
    fake_t *self = (fake_t *)sequencer;
    char token[64];
    if (self->dropping) {
        rill_sequencer_dropped(sequencer, seq);
        return;
    }
    rill_sequencer_queued(sequencer, seq);
    if (type == RILL_EVENT_GAP) {
        const char *from = strstr(line->bytes, "\"from\":");
        const char *to = strstr(line->bytes, "\"to\":");
        snprintf(token, sizeof(token), "g%.*s-%.*s", (int)strcspn(from + 7, ",}"), from + 7,
                 (int)strcspn(to + 5, ",}"), to + 5);
    } else {
        char letter = type == RILL_EVENT_PART ? 'p' : type == RILL_EVENT_DONE ? 'd' : 'e';
        snprintf(token, sizeof(token), "%llu%c", (unsigned long long)seq, letter);
    }
    size_t at = strlen(self->delivered);
    snprintf(self->delivered + at, sizeof(self->delivered) - at, "%s%s", at > 0 ? " " : "", token);
}

static void fake_overflow(rill_sequencer_t *sequencer)
{
    fake_t *self = (fake_t *)sequencer;
    self->overflows++;
    self->open = 0;
}

static int fake_repair(rill_sequencer_t *sequencer, uint64_t after)
{
    fake_t *self = (fake_t *)sequencer;
    if (self->refuse_repair)
        return -1;
    self->repairs++;
    self->repair_after = after;
    return 0;
}

static void fake_ended(rill_sequencer_t *sequencer)
{
    ((fake_t *)sequencer)->ended++;
}

static const rill_sequencer_sink_t fake_sink = {
    .is_open = fake_is_open,
    .deliver = fake_deliver,
    .overflow = fake_overflow,
    .repair = fake_repair,
    .ended = fake_ended,
};

static const char job_topic[] = "j0123456789abcdef0123456789abcdef";
static const char news_topic[] = "tnews/";
static uint64_t hold_limit = 1 << 20;

static void fake_init(fake_t *self, const char *topic)
{
    memset(self, 0, sizeof(*self));
    self->open = 1;
    rill_sequencer_init(&self->sequencer, &fake_sink, topic, strlen(topic), "test", &hold_limit);
}

/* A live event from the SUB socket: formatted once, lent to the sequencer. */
static void live(fake_t *self, uint64_t seq, rill_event_type_t type)
{
    size_t length;
    const char *name = rill_sequencer_name(&self->sequencer, &length);
    rill_chunk_t *line = rill_event_format_line(rill_sequencer_is_topic(&self->sequencer), name,
                                                length, seq, rill_event_type_name(type), "1", 1);
    rill_sequencer_on_event(&self->sequencer, seq, type, line);
    rill_chunk_unref(&line);
}

static rill_frame_t frame(const char *text)
{
    rill_frame_t result = {(const uint8_t *)text, strlen(text)};
    return result;
}

/* One retained event of a REPLAY. */
static void replayed(fake_t *self, const char *seq, const char *type)
{
    rill_sequencer_on_replay(&self->sequencer, frame(type), frame(seq), frame("2"));
}

static void test_deliver_duplicate_gap(void)
{
    fake_t fake;
    fake_init(&fake, news_topic);
    rill_sequencer_t *s = &fake.sequencer;
    CHECK(rill_sequencer_is_topic(s));
    size_t length;
    CHECK(strncmp(rill_sequencer_name(s, &length), "news", 4) == 0 && length == 4);
    CHECK(s->next_seq == 1 && rill_sequencer_accept(s, 1) == RILL_ACCEPT_DELIVER);
    CHECK(rill_sequencer_accept(s, 0) == RILL_ACCEPT_DUPLICATE);
    CHECK(rill_sequencer_accept(s, 3) == RILL_ACCEPT_GAP);
    CHECK(s->next_seq == 1); /* accept decides only */

    live(&fake, 1, RILL_EVENT_PART);
    live(&fake, 2, RILL_EVENT_PART);
    live(&fake, 2, RILL_EVENT_PART); /* a duplicate is dropped */
    live(&fake, 1, RILL_EVENT_PART);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2p");
    CHECK(s->next_seq == 3);

    /* A jump with no FETCH possible: the missing seqs are a gap at once. */
    fake.refuse_repair = 1;
    live(&fake, 7, RILL_EVENT_PART);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2p g3-6 7p");
    CHECK(s->next_seq == 8 && s->fetch == NULL);
    live(&fake, 8, RILL_EVENT_PART);
    CHECK(s->next_seq == 9);

    /* A closed stream is told nothing more and nothing advances. */
    fake.open = 0;
    live(&fake, 9, RILL_EVENT_PART);
    CHECK(s->next_seq == 9 && fake.overflows == 0);
    rill_sequencer_release(s);
}

static void test_repair_by_fetch(void)
{
    fake_t fake;
    fake_init(&fake, job_topic);
    rill_sequencer_t *s = &fake.sequencer;
    live(&fake, 1, RILL_EVENT_PART);
    /* 2 and 3 were dropped by the XPUB: 4 starts a FETCH after 1 and is held. */
    live(&fake, 4, RILL_EVENT_PART);
    CHECK(fake.repairs == 1 && fake.repair_after == 1);
    CHECK(s->fetch != NULL && s->fetch->purpose == RILL_FETCH_REPAIR && s->fetch->held_count == 1);
    live(&fake, 5, RILL_EVENT_PART); /* held too, in order */
    CHECK(s->fetch->held_count == 2);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p");
    /* The replay fills the hole; 4 comes again, replayed and then held: once. */
    replayed(&fake, "2", "part");
    replayed(&fake, "3", "part");
    replayed(&fake, "4", "part");
    CHECK(rill_sequencer_fetch_finish(s, 4, 0) == RILL_FETCH_REPAIR);
    CHECK(s->fetch == NULL);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2p 3p 4p 5p");
    CHECK(s->next_seq == 6 && fake.repairs == 1);
    rill_sequencer_release(s);
}

static void test_final_replay_gap(void)
{
    fake_t fake;
    fake_init(&fake, job_topic);
    rill_sequencer_t *s = &fake.sequencer;
    live(&fake, 1, RILL_EVENT_PART);
    live(&fake, 5, RILL_EVENT_PART); /* FETCH after 1; 5 held */
    live(&fake, 9, RILL_EVENT_PART); /* held behind it: no second FETCH */
    CHECK(fake.repairs == 1 && s->fetch->held_count == 2);
    /* The broker retained from 3 on only: 2 is a gap; 3 replayed; 4 neither
     * replayed nor held: gone; then the held 5. 6..8 are missing again: the
     * held 9 starts the next FETCH, and waits for it. */
    replayed(&fake, "3", "part");
    CHECK(rill_sequencer_fetch_finish(s, 4, 0) == RILL_FETCH_REPAIR);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p g2-2 3p g4-4 5p");
    CHECK(fake.repairs == 2 && fake.repair_after == 5 && s->fetch != NULL);
    replayed(&fake, "6", "part");
    replayed(&fake, "7", "part");
    replayed(&fake, "8", "part");
    CHECK(rill_sequencer_fetch_finish(s, 9, 0) == RILL_FETCH_REPAIR);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p g2-2 3p g4-4 5p 6p 7p 8p 9p");
    CHECK(s->next_seq == 10 && s->fetch == NULL);
    rill_sequencer_release(s);

    /* Nothing retained and nothing held: everything up to last is a gap. */
    fake_init(&fake, job_topic);
    CHECK(rill_sequencer_fetch_begin(s, RILL_FETCH_JOINING, 0) != NULL);
    CHECK(rill_sequencer_fetch_begin(s, RILL_FETCH_JOINING, 0) == NULL); /* one at a time */
    CHECK(rill_sequencer_fetch_finish(s, 3, 0) == RILL_FETCH_JOINING);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "g1-3");
    CHECK(s->next_seq == 4);
    rill_sequencer_release(s);
}

static void test_hold_during_opening_fetch(void)
{
    fake_t fake;
    fake_init(&fake, job_topic);
    rill_sequencer_t *s = &fake.sequencer;
    /* Resuming after seq 2 (since): live 4 and 5 arrive before the REPLAY. */
    s->next_seq = 3;
    CHECK(rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 2) != NULL);
    live(&fake, 4, RILL_EVENT_PART);
    live(&fake, 5, RILL_EVENT_DONE);
    CHECK(fake.delivered[0] == '\0' && s->fetch->held_count == 2 && fake.repairs == 0);
    replayed(&fake, "2", "part"); /* before the resume point: not again */
    replayed(&fake, "3", "part");
    replayed(&fake, "4", "part");
    CHECK(rill_sequencer_fetch_finish(s, 5, 1) == RILL_FETCH_OPENING);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "3p 4p 5d");
    CHECK(s->ended && fake.ended == 1);
    /* An ended job takes nothing more. */
    live(&fake, 6, RILL_EVENT_PART);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "3p 4p 5d");
    rill_sequencer_release(s);

    /* A failed opening FETCH drops what it held: the request fails. */
    fake_init(&fake, job_topic);
    CHECK(rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 0) != NULL);
    live(&fake, 1, RILL_EVENT_PART);
    CHECK(rill_sequencer_fetch_failed(s, "timeout") == RILL_FETCH_OPENING);
    CHECK(s->fetch == NULL && fake.delivered[0] == '\0');
    rill_sequencer_release(s);

    /* A failed repair lets the held events go on: the jump is a gap. */
    fake_init(&fake, job_topic);
    live(&fake, 1, RILL_EVENT_PART);
    live(&fake, 3, RILL_EVENT_PART);
    live(&fake, 4, RILL_EVENT_PART);
    CHECK(rill_sequencer_fetch_failed(s, "timeout") == RILL_FETCH_REPAIR);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p g2-2 3p 4p");
    CHECK(fake.repairs == 1 && s->fetch == NULL);
    rill_sequencer_release(s);
}

static void test_topics(void)
{
    fake_t fake;
    fake_init(&fake, news_topic);
    rill_sequencer_t *s = &fake.sequencer;
    /* A topic without since starts live: its REPLAY only tells where it is. */
    rill_fetch_t *fetch = rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, RILL_FETCH_AFTER_LATEST);
    fetch->live_only = 1;
    live(&fake, 41, RILL_EVENT_PART);
    CHECK(rill_sequencer_fetch_finish(s, 40, 0) == RILL_FETCH_OPENING);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "41p");
    /* A topic never ends, done or not. */
    live(&fake, 42, RILL_EVENT_DONE);
    CHECK(!s->ended && fake.ended == 0 && s->next_seq == 43);

    /* The broker restarted: a gap with no end, and seqs start at 1 again. */
    CHECK(rill_sequencer_broker_restarted(s) == NULL);
    CHECK(s->next_seq == 1 && strstr(fake.delivered, "g43-null") != NULL);
    live(&fake, 1, RILL_EVENT_PART);
    CHECK(s->next_seq == 2);

    /* sync: the subject's last seq is 3 and 2..3 never came: FETCH them. */
    rill_sequencer_on_sync(s, 1); /* seen already: nothing */
    CHECK(fake.repairs == 0);
    rill_sequencer_on_sync(s, 3);
    CHECK(fake.repairs == 1 && fake.repair_after == 1 && s->fetch != NULL);
    rill_sequencer_release(s);
    CHECK(s->fetch == NULL);

    /* ... and when no FETCH can be sent, they are a gap at once. */
    fake_init(&fake, news_topic);
    fake.refuse_repair = 1;
    rill_sequencer_on_sync(s, 2);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "g1-2");
    CHECK(s->next_seq == 3);
    rill_sequencer_release(s);
}

/* rill/4: ?last=N, and a topic resumed past its end (reset since). */
static void test_topic_last_n_and_reset(void)
{
    fake_t fake;
    fake_init(&fake, news_topic);
    rill_sequencer_t *s = &fake.sequencer;
    /* last=3 of a topic at seq 10 that retains 4..10: 8, 9, 10, then live. */
    rill_fetch_t *fetch = rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 0);
    fetch->last_n = 3;
    live(&fake, 11, RILL_EVENT_PART); /* held */
    rill_sequencer_on_replay_header(s, 4, 10);
    CHECK(s->next_seq == 8 && fetch->last_n == 0);
    for (int seq = 4; seq <= 10; seq++) {
        char text[8];
        snprintf(text, sizeof(text), "%d", seq);
        replayed(&fake, text, "part");
    }
    rill_sequencer_on_replay_header(s, 4, 10); /* a second REPLAY header changes nothing */
    CHECK(rill_sequencer_fetch_finish(s, 10, 0) == RILL_FETCH_OPENING);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "8p 9p 10p 11p");
    rill_sequencer_release(s);

    /* More asked than retained (6..7 of a topic at 7): what is retained, no gap. */
    fake_init(&fake, news_topic);
    fetch = rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 0);
    fetch->last_n = 50;
    rill_sequencer_on_replay_header(s, 6, 7);
    replayed(&fake, "6", "part");
    replayed(&fake, "7", "part");
    rill_sequencer_fetch_finish(s, 7, 0);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "6p 7p");
    rill_sequencer_release(s);

    /* Resumed at 57 a topic whose last seq is 2: it was reset. A gap of
     * unknown end, then the topic is fetched from seq 1. */
    fake_init(&fake, news_topic);
    fetch = rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 57);
    s->next_seq = 58;
    CHECK(rill_sequencer_fetch_finish(s, 2, 0) == RILL_FETCH_OPENING);
    CHECK(strstr(fake.delivered, "g58-null") != NULL && strstr(fake.delivered, "topic_reset") == NULL);
    CHECK(s->next_seq == 1 && fake.repairs == 1 && fake.repair_after == 0 && s->fetch != NULL);
    replayed(&fake, "1", "part");
    replayed(&fake, "2", "part");
    rill_sequencer_fetch_finish(s, 2, 0);
    CHECK(strstr(fake.delivered, "1p 2p") != NULL && s->next_seq == 3);
    rill_sequencer_release(s);

    /* ... with a live event of the new topic held meanwhile: it goes on from 1. */
    fake_init(&fake, news_topic);
    fetch = rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 57);
    s->next_seq = 58;
    live(&fake, 1, RILL_EVENT_PART);
    rill_sequencer_fetch_finish(s, 0, 0);
    CHECK(strstr(fake.delivered, "g58-null 1p") != NULL && s->next_seq == 2 && fake.repairs == 0);
    rill_sequencer_release(s);

    /* rill/6: resumed at 5 in epoch aaaa0000, the topic now numbers in
     * bbbb1111 and is at 7 already (deleted and made again, or a restarted
     * broker): its 6 and 7 are not after the client's 5. A gap of unknown
     * end, nothing of that replay, then the new numbering from 1. */
    fake_init(&fake, news_topic);
    fetch = rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 5);
    s->next_seq = 6;
    memcpy(s->epoch, "aaaa0000", 9);
    rill_sequencer_on_epoch(s, "bbbb1111");
    replayed(&fake, "6", "part");
    replayed(&fake, "7", "part");
    CHECK(fake.delivered[0] == '\0');
    CHECK(rill_sequencer_fetch_finish(s, 7, 0) == RILL_FETCH_OPENING);
    CHECK(strcmp(fake.delivered, "g6-null") == 0 && strcmp(s->epoch, "bbbb1111") == 0);
    CHECK(s->next_seq == 1 && fake.repairs == 1 && fake.repair_after == 0 && s->fetch != NULL);
    rill_sequencer_on_epoch(s, "bbbb1111");
    for (int seq = 1; seq <= 7; seq++) {
        char text[8];
        snprintf(text, sizeof(text), "%d", seq);
        replayed(&fake, text, "part");
    }
    rill_sequencer_fetch_finish(s, 7, 0);
    CHECK(strcmp(fake.delivered, "g6-null 1p 2p 3p 4p 5p 6p 7p") == 0 && s->next_seq == 8);
    rill_sequencer_release(s);

    /* The same epoch: an ordinary resume. No epoch known (an old cursor): as before. */
    for (int known = 0; known <= 1; known++) {
        fake_init(&fake, news_topic);
        fetch = rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 5);
        s->next_seq = 6;
        if (known)
            memcpy(s->epoch, "bbbb1111", 9);
        rill_sequencer_on_epoch(s, "bbbb1111");
        replayed(&fake, "6", "part");
        rill_sequencer_fetch_finish(s, 6, 0);
        CHECK(strcmp(fake.delivered, "6p") == 0 && strcmp(s->epoch, "bbbb1111") == 0 && fake.repairs == 0);
        rill_sequencer_release(s);
    }
}

static void test_jobs_end(void)
{
    fake_t fake;
    fake_init(&fake, job_topic);
    rill_sequencer_t *s = &fake.sequencer;
    live(&fake, 1, RILL_EVENT_PART);
    live(&fake, 2, RILL_EVENT_ERROR);
    CHECK(s->ended && fake.ended == 1);
    CHECK(rill_sequencer_broker_restarted(s) == NULL); /* over already: nothing */
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2e");
    rill_sequencer_release(s);

    /* An unfinished job after a broker restart: fetched from the new broker
     * from its next seq, live events held; its worker re-registered it, so
     * it goes on (the parts the new broker did not get are a gap). */
    fake_init(&fake, job_topic);
    live(&fake, 1, RILL_EVENT_PART);
    rill_fetch_t *fetch = rill_sequencer_broker_restarted(s);
    CHECK(fetch != NULL && fetch->recovering && fetch->purpose == RILL_FETCH_REPAIR && fetch->after == 1);
    live(&fake, 5, RILL_EVENT_PART);
    replayed(&fake, "3", "part");
    replayed(&fake, "4", "part");
    CHECK(rill_sequencer_fetch_finish(s, 4, 0) == RILL_FETCH_REPAIR);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p g2-2 3p 4p 5p");
    CHECK(!s->ended && s->fetch == NULL && s->next_seq == 6);
    rill_sequencer_release(s);

    /* The new broker adopted the job but has none of its parts yet (its
     * worker sends what it holds after the WELCOME): its last seq is under
     * what the client has. The client's position stays; the parts sent
     * again are duplicates, then the new ones follow. */
    fake_init(&fake, job_topic);
    for (uint64_t seq = 1; seq <= 5; seq++)
        live(&fake, seq, RILL_EVENT_PART);
    CHECK(rill_sequencer_broker_restarted(s) != NULL);
    CHECK(rill_sequencer_fetch_finish(s, 0, 0) == RILL_FETCH_REPAIR);
    CHECK(s->next_seq == 6 && s->fetch == NULL);
    for (uint64_t seq = 1; seq <= 7; seq++)
        live(&fake, seq, RILL_EVENT_PART);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2p 3p 4p 5p 6p 7p");
    rill_sequencer_release(s);

    /* A repair in flight when the broker restarted is recovering too. */
    fake_init(&fake, job_topic);
    live(&fake, 1, RILL_EVENT_PART);
    live(&fake, 3, RILL_EVENT_PART);
    CHECK(fake.repairs == 1 && s->fetch != NULL && !s->fetch->recovering);
    CHECK(rill_sequencer_broker_restarted(s) == s->fetch && s->fetch->recovering && s->fetch->after == 1);
    /* The new broker does not know it: error broker_restarted, ended; the
     * held event goes with the FETCH. */
    CHECK(rill_sequencer_job_lost(s) == RILL_FETCH_REPAIR);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2e");
    CHECK(s->ended && fake.ended == 1 && s->next_seq == 3 && s->fetch == NULL);
    rill_sequencer_release(s);

    /* An opening FETCH is left to its own answer. */
    fake_init(&fake, job_topic);
    rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 0);
    CHECK(rill_sequencer_broker_restarted(s) == NULL && s->fetch != NULL && !s->fetch->recovering);
    rill_sequencer_release(s);

    /* The frontend stops: a FETCH in flight is dropped with what it held,
     * so the cursor stays at what the client has. */
    fake_init(&fake, job_topic);
    live(&fake, 1, RILL_EVENT_PART);
    live(&fake, 4, RILL_EVENT_PART);
    CHECK(s->fetch != NULL && rill_sequencer_fetch_drop(s) == RILL_FETCH_REPAIR);
    CHECK(s->fetch == NULL && s->next_seq == 2);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p");
    rill_sequencer_release(s);

    /* Resumed after the job's end: nothing new, and it is over. */
    fake_init(&fake, job_topic);
    s->next_seq = 6;
    rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 5);
    CHECK(rill_sequencer_fetch_finish(s, 5, 1) == RILL_FETCH_OPENING);
    CHECK(s->ended && fake.ended == 1 && fake.delivered[0] == '\0');
    rill_sequencer_release(s);

    /* A resume point past the end starts from the end. */
    fake_init(&fake, job_topic);
    s->next_seq = 100;
    rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 99);
    rill_sequencer_fetch_finish(s, 5, 0);
    CHECK(s->next_seq == 6 && fake.delivered[0] == '\0' && !s->ended);
    rill_sequencer_release(s);
}

static void test_hold_limit(void)
{
    fake_t fake;
    fake_init(&fake, job_topic);
    rill_sequencer_t *s = &fake.sequencer;
    uint64_t saved = hold_limit;
    hold_limit = 150; /* about two event lines */
    rill_sequencer_fetch_begin(s, RILL_FETCH_OPENING, 0);
    live(&fake, 1, RILL_EVENT_PART);
    CHECK(fake.overflows == 0);
    live(&fake, 2, RILL_EVENT_PART);
    live(&fake, 3, RILL_EVENT_PART);
    CHECK(fake.overflows == 1 && !fake.open);
    CHECK(s->fetch->held_count < 3);
    hold_limit = saved;
    rill_sequencer_release(s); /* held lines freed (ASan would tell) */
    CHECK(s->fetch == NULL);
}

static void test_slow_client_losses(void)
{
    fake_t fake;
    fake_init(&fake, news_topic);
    rill_sequencer_t *s = &fake.sequencer;
    live(&fake, 1, RILL_EVENT_PART);
    rill_sequencer_sent(s); /* 1 reached h2o */
    live(&fake, 2, RILL_EVENT_PART);
    live(&fake, 3, RILL_EVENT_PART);
    CHECK(s->queued_from == 2);
    /* The client fell behind: 2 and 3 are dropped from the queue, 4 is
     * dropped as it comes; once it reads again, one gap tells it. */
    rill_sequencer_dropped_queued(s);
    fake.dropping = 1;
    live(&fake, 4, RILL_EVENT_PART);
    fake.dropping = 0;
    CHECK(s->dropped_from == 2 && s->queued_from == 0 && s->next_seq == 5);
    rill_sequencer_report_dropped(s);
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2p 3p g2-4");
    CHECK(s->dropped_from == 0 && s->next_seq == 5);
    live(&fake, 5, RILL_EVENT_PART);
    rill_sequencer_report_dropped(s); /* nothing lost since */
    CHECK_BYTES(fake.delivered, strlen(fake.delivered), "1p 2p 3p g2-4 5p");
    rill_sequencer_release(s);
}

int main(void)
{
    rill_log_set_level(RILL_LOG_ERROR); /* the gaps and repairs are expected */
    test_deliver_duplicate_gap();
    test_repair_by_fetch();
    test_final_replay_gap();
    test_hold_during_opening_fetch();
    test_topics();
    test_topic_last_n_and_reset();
    test_jobs_end();
    test_hold_limit();
    test_slow_client_losses();
    RILL_TEST_END();
}
