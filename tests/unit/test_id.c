/* test_id.c - ids are 32 lower-case hex digits and do not repeat, across
 * the refills of the block of randomness they are cut from, in another
 * thread, and in a child made by fork() (which must not repeat its
 * parent's next ids). */
#include "rill_id.h"
#include "rill_protocol.h"
#include "rill_test.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define COUNT 1000

static char seen[COUNT + 2][RILL_ID_TEXT_SIZE];

static void *generate_in_thread(void *text)
{
    return rill_id_generate(text) == 0 ? text : NULL;
}

int main(void)
{
    int repeated = 0;
    for (int i = 0; i < COUNT; i++) {
        CHECK(rill_id_generate(seen[i]) == 0);
        CHECK(strlen(seen[i]) == 32 && rill_job_id_is_valid((const uint8_t *)seen[i], 32));
    }
    /* Another thread has its own block. */
    pthread_t thread;
    void *result = NULL;
    CHECK(pthread_create(&thread, NULL, generate_in_thread, seen[COUNT]) == 0 && pthread_join(thread, &result) == 0);
    CHECK(result == seen[COUNT] && strlen(seen[COUNT]) == 32);
    /* A child's next id is not the parent's next one. */
    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    pid_t child = fork();
    if (child == 0) {
        char text[RILL_ID_TEXT_SIZE];
        int ok = rill_id_generate(text) == 0 && write(pipe_fds[1], text, 32) == 32;
        _exit(ok ? 0 : 1);
    }
    char from_child[RILL_ID_TEXT_SIZE] = "";
    CHECK(child > 0 && read(pipe_fds[0], from_child, 32) == 32);
    int status = -1;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(rill_id_generate(seen[COUNT + 1]) == 0);
    CHECKF(strcmp(from_child, seen[COUNT + 1]) != 0, "the child repeated the parent's next id %s", from_child);
    for (int i = 0; i < COUNT + 2; i++)
        for (int j = 0; j < i; j++)
            repeated += strcmp(seen[i], seen[j]) == 0;
    CHECK(repeated == 0);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    RILL_TEST_END();
}
