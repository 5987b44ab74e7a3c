/* test_subject_registry.c - SUB refcounting per subject, one subscription per stream. */
#include "rill_test.h"
#include "subject_registry.h"

static int subscribed, unsubscribed, refuse;
static char last_topic[256];

static int on_subscribe(void *context, const char *topic, size_t length)
{
    (void)context;
    if (refuse)
        return -1;
    subscribed++;
    snprintf(last_topic, sizeof(last_topic), "%.*s", (int)length, topic);
    return 0;
}

static void on_unsubscribe(void *context, const char *topic, size_t length)
{
    (void)context;
    unsubscribed++;
    snprintf(last_topic, sizeof(last_topic), "%.*s", (int)length, topic);
}

static size_t list_length(rill_subject_t *subject)
{
    size_t count = 0;
    for (rill_subscription_t *s = subject->head; s != NULL; s = s->next)
        count++;
    return count;
}

int main(void)
{
    int stream_a, stream_b;
    rill_subject_registry_t *registry = rill_subject_registry_new(on_subscribe, on_unsubscribe, NULL);
    CHECK(registry != NULL);

    const char topic[] = "j0123456789abcdef0123456789abcdef";
    rill_subscription_t *a = rill_subject_registry_add(registry, topic, 33, &stream_a);
    CHECK(a != NULL && subscribed == 1 && strcmp(last_topic, topic) == 0);
    rill_subscription_t *b = rill_subject_registry_add(registry, topic, 33, &stream_b);
    CHECK(b != NULL && subscribed == 1); /* second local stream: no second SUB subscribe */
    CHECK(rill_subject_registry_size(registry) == 1);
    rill_subject_t *subject = rill_subject_registry_find(registry, topic, 33);
    CHECK(subject != NULL && subject->count == 2 && list_length(subject) == 2);
    CHECK(a->owner == &stream_a && b->owner == &stream_b && a->subject == subject);
    /* Exact match only: a prefix or a longer topic is another subject. */
    CHECK(rill_subject_registry_find(registry, topic, 32) == NULL);
    CHECK(rill_subject_registry_find(registry, "j0123", 5) == NULL);
    CHECK(rill_subject_registry_find(registry, "x\0y", 3) == NULL);

    rill_subject_registry_remove(registry, &a);
    CHECK(a == NULL && unsubscribed == 0 && subject->count == 1 && list_length(subject) == 1);
    rill_subject_registry_remove(registry, &b);
    CHECK(b == NULL && unsubscribed == 1 && strcmp(last_topic, topic) == 0);
    CHECK(rill_subject_registry_size(registry) == 0);
    CHECK(rill_subject_registry_find(registry, topic, 33) == NULL);

    /* rill/4: a followed job is not subscribed, on add nor on removal; a
     * second stream of it changes nothing; a broker restart subscribes it. */
    rill_subscription_t *f = rill_subject_registry_add_followed(registry, topic, 33, &stream_a);
    CHECK(f != NULL && f->subject->followed == 1 && subscribed == 1 && unsubscribed == 1);
    rill_subscription_t *g = rill_subject_registry_add(registry, topic, 33, &stream_b);
    CHECK(g != NULL && g->subject == f->subject && subscribed == 1);
    rill_subject_registry_remove(registry, &g);
    rill_subject_registry_remove(registry, &f);
    CHECK(subscribed == 1 && unsubscribed == 1 && rill_subject_registry_size(registry) == 0);
    f = rill_subject_registry_add_followed(registry, topic, 33, &stream_a);
    CHECK(rill_subject_registry_subscribe_followed(registry) == 1 && subscribed == 2 && !f->subject->followed);
    CHECK(rill_subject_registry_subscribe_followed(registry) == 0 && subscribed == 2);
    rill_subject_registry_remove(registry, &f);
    CHECK(unsubscribed == 2 && strcmp(last_topic, topic) == 0);
    /* A subscribed subject stays subscribed when a followed stream joins. */
    a = rill_subject_registry_add(registry, topic, 33, &stream_a);
    f = rill_subject_registry_add_followed(registry, topic, 33, &stream_b);
    CHECK(subscribed == 3 && !f->subject->followed);
    rill_subject_registry_remove(registry, &a);
    rill_subject_registry_remove(registry, &f);
    CHECK(unsubscribed == 3);
    /* A switch to a standby broker subscribes it too, and keeps it marked
     * refollowed (its owner still UNFOLLOWs it); a restart does not. */
    f = rill_subject_registry_add_followed(registry, topic, 33, &stream_a);
    CHECK(rill_subject_registry_subscribe_followed_too(registry) == 1 && subscribed == 4);
    CHECK(!f->subject->followed && f->subject->refollowed);
    CHECK(rill_subject_registry_subscribe_followed_too(registry) == 0 && subscribed == 4);
    rill_subject_registry_remove(registry, &f);
    CHECK(unsubscribed == 4);
    f = rill_subject_registry_add_followed(registry, topic, 33, &stream_a);
    CHECK(rill_subject_registry_subscribe_followed(registry) == 1 && !f->subject->refollowed);
    rill_subject_registry_remove(registry, &f);
    CHECK(subscribed == 5 && unsubscribed == 5);

    /* A refused SUB subscribe leaves nothing behind. */
    refuse = 1;
    CHECK(rill_subject_registry_add(registry, "tnews/", 6, &stream_a) == NULL);
    CHECK(rill_subject_registry_size(registry) == 0);
    refuse = 0;
    CHECK(rill_subject_registry_add(registry, "", 0, &stream_a) == NULL);

    /* A topic subject (the seq a stream expects is the sequencer's:
     * test_sequencer.c). */
    rill_subscription_t *s = rill_subject_registry_add(registry, "tnews/", 6, &stream_a);
    CHECK(s != NULL && s->owner == &stream_a && strcmp(s->subject->topic, "tnews/") == 0);

    /* Many subjects, removed in another order. */
    rill_subscription_t *many[100];
    char name[64];
    for (int i = 0; i < 100; i++) {
        int length = snprintf(name, sizeof(name), "tt%d/", i);
        many[i] = rill_subject_registry_add(registry, name, (size_t)length, &stream_b);
        CHECK(many[i] != NULL);
    }
    CHECK(rill_subject_registry_size(registry) == 101);
    for (int i = 99; i >= 0; i -= 2)
        rill_subject_registry_remove(registry, &many[i]);
    CHECK(rill_subject_registry_size(registry) == 51);
    int before = unsubscribed;
    for (int i = 0; i < 100; i += 2)
        rill_subject_registry_remove(registry, &many[i]);
    CHECK(unsubscribed == before + 50);
    rill_subject_registry_remove(registry, &s);
    CHECK(rill_subject_registry_size(registry) == 0);

    /* Destroy with subscriptions left frees them (no leak under ASan). */
    CHECK(rill_subject_registry_add(registry, topic, 33, &stream_a) != NULL);
    rill_subject_registry_destroy(&registry);
    CHECK(registry == NULL);
    RILL_TEST_END();
}
