/*
 * test_pair.c - the Binary Star state machine of a standby pair (pair.h):
 * every transition, and the cases that must NOT make a broker active.
 */
#include "pair.h"
#include "rill_test.h"

#define HB 1000

static void test_start(void)
{
    rill_pair_t primary, backup;
    rill_pair_init(&primary, 1, HB, 100);
    rill_pair_init(&backup, 0, HB, 100);
    CHECK(primary.state == RILL_PAIR_PRIMARY && !rill_pair_serves(&primary));
    CHECK(backup.state == RILL_PAIR_BACKUP && !rill_pair_serves(&backup));
    /* The primary hears the backup: active; the backup hears it: passive. */
    CHECK(rill_pair_peer_state(&primary, RILL_PAIR_BACKUP, 200) == 1);
    CHECK(primary.state == RILL_PAIR_ACTIVE && rill_pair_serves(&primary));
    CHECK(rill_pair_peer_state(&backup, RILL_PAIR_ACTIVE, 200) == 1);
    CHECK(backup.state == RILL_PAIR_PASSIVE);
    /* Hearing the same again changes nothing. */
    CHECK(rill_pair_peer_state(&primary, RILL_PAIR_PASSIVE, 300) == 0 && primary.state == RILL_PAIR_ACTIVE);
    CHECK(rill_pair_peer_state(&backup, RILL_PAIR_ACTIVE, 300) == 0 && backup.state == RILL_PAIR_PASSIVE);
    /* A backup that hears the primary starting waits for it to be active. */
    rill_pair_t waiting;
    rill_pair_init(&waiting, 0, HB, 0);
    CHECK(rill_pair_peer_state(&waiting, RILL_PAIR_PRIMARY, 10) == 0 && waiting.state == RILL_PAIR_BACKUP);
}

static void test_passive_needs_loss_and_client(void)
{
    rill_pair_t backup;
    rill_pair_init(&backup, 0, HB, 0);
    (void)rill_pair_peer_state(&backup, RILL_PAIR_ACTIVE, 1000);
    /* A client alone, with the peer heard: nothing. */
    rill_pair_client(&backup, 1500);
    CHECK(rill_pair_tick(&backup, 1600) == 0 && backup.state == RILL_PAIR_PASSIVE);
    /* The peer silent for 2 heartbeats, but no client within 2 heartbeats: a cut alone. */
    CHECK(rill_pair_peer_lost(&backup, 3000));
    CHECK(!rill_pair_peer_lost(&backup, 2999));
    CHECK(rill_pair_tick(&backup, 3600) == 0 && backup.state == RILL_PAIR_PASSIVE);
    /* A client comes: active. */
    rill_pair_client(&backup, 3700);
    CHECK(rill_pair_tick(&backup, 3700) == 1 && backup.state == RILL_PAIR_ACTIVE);
}

static void test_client_before_the_loss(void)
{
    rill_pair_t backup;
    rill_pair_init(&backup, 0, HB, 0);
    (void)rill_pair_peer_state(&backup, RILL_PAIR_ACTIVE, 1000);
    rill_pair_client(&backup, 1900);
    CHECK(rill_pair_tick(&backup, 1950) == 0);
    /* The connection closes a moment after the client came: active at once. */
    rill_pair_peer_closed(&backup);
    CHECK(rill_pair_peer_lost(&backup, 2000));
    CHECK(rill_pair_tick(&backup, 2000) == 1 && backup.state == RILL_PAIR_ACTIVE);
    /* A STATE clears the closed mark. */
    rill_pair_t other;
    rill_pair_init(&other, 0, HB, 0);
    rill_pair_peer_closed(&other);
    (void)rill_pair_peer_state(&other, RILL_PAIR_ACTIVE, 10);
    CHECK(!rill_pair_peer_lost(&other, 20));
}

static void test_lonely_primary_waits(void)
{
    rill_pair_t primary;
    rill_pair_init(&primary, 1, HB, 0);
    rill_pair_client(&primary, 100);
    /* It hears nothing: it could be a primary back while its backup serves. */
    CHECK(rill_pair_tick(&primary, 1000) == 0 && primary.state == RILL_PAIR_PRIMARY);
    rill_pair_client(&primary, 1900);
    CHECK(rill_pair_tick(&primary, 2000) == 1 && primary.state == RILL_PAIR_ACTIVE);
    /* One that hears an active peer instead goes passive. */
    rill_pair_t back;
    rill_pair_init(&back, 1, HB, 0);
    CHECK(rill_pair_peer_state(&back, RILL_PAIR_ACTIVE, 100) == 1 && back.state == RILL_PAIR_PASSIVE);
    rill_pair_client(&back, 150);
    CHECK(rill_pair_tick(&back, 200) == 0 && back.state == RILL_PAIR_PASSIVE);
}

static void test_two_actives_and_restarts(void)
{
    rill_pair_t primary, backup;
    rill_pair_init(&primary, 1, HB, 0);
    rill_pair_init(&backup, 0, HB, 0);
    primary.state = RILL_PAIR_ACTIVE;
    backup.state = RILL_PAIR_ACTIVE;
    /* A healed partition: the backup yields, the primary stays. */
    CHECK(rill_pair_peer_state(&primary, RILL_PAIR_ACTIVE, 10) == 0 && primary.state == RILL_PAIR_ACTIVE);
    CHECK(rill_pair_peer_state(&backup, RILL_PAIR_ACTIVE, 10) == 1 && backup.state == RILL_PAIR_PASSIVE);
    /* A passive whose peer starts over takes over. */
    CHECK(rill_pair_peer_state(&backup, RILL_PAIR_PRIMARY, 20) == 1 && backup.state == RILL_PAIR_ACTIVE);
    /* Two passives: the primary serves. */
    rill_pair_t p1, b1;
    rill_pair_init(&p1, 1, HB, 0);
    rill_pair_init(&b1, 0, HB, 0);
    p1.state = b1.state = RILL_PAIR_PASSIVE;
    CHECK(rill_pair_peer_state(&b1, RILL_PAIR_PASSIVE, 10) == 0 && b1.state == RILL_PAIR_PASSIVE);
    CHECK(rill_pair_peer_state(&p1, RILL_PAIR_PASSIVE, 10) == 1 && p1.state == RILL_PAIR_ACTIVE);
    /* An active stays active, peer lost or not. */
    CHECK(rill_pair_tick(&p1, 100000) == 0 && p1.state == RILL_PAIR_ACTIVE);
}

static void test_names(void)
{
    CHECK(rill_pair_state_from_name("active", 6) == RILL_PAIR_ACTIVE);
    CHECK(rill_pair_state_from_name("passive", 7) == RILL_PAIR_PASSIVE);
    CHECK(rill_pair_state_from_name("primary", 7) == RILL_PAIR_PRIMARY);
    CHECK(rill_pair_state_from_name("backup", 6) == RILL_PAIR_BACKUP);
    CHECK(rill_pair_state_from_name("none", 4) == RILL_PAIR_NONE);
    CHECK(rill_pair_state_from_name("activ", 5) == RILL_PAIR_NONE);
}

int main(void)
{
    test_start();
    test_passive_needs_loss_and_client();
    test_client_before_the_loss();
    test_lonely_primary_waits();
    test_two_actives_and_restarts();
    test_names();
    RILL_TEST_END();
}
