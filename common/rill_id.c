/* rill_id.c - see rill_id.h.
 *
 * The kernel's CSPRNG is read in blocks of POOL_BYTES, not 16 bytes an id:
 * at 45k jobs a second the frontend made a getrandom call per job, its most
 * frequent syscall. The unused bytes are as secret as the kernel's (they
 * live in this process only, and each byte serves one id). A child made by
 * fork() must not hand out its parent's next ids: it starts with an empty
 * pool (pthread_atfork). The pool is per thread, so no lock. */
#include "rill_id.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

enum { ID_BYTES = 16, POOL_BYTES = 16 * ID_BYTES };

static __thread uint8_t pool[POOL_BYTES];
static __thread size_t pool_left; /* unused bytes at the pool's end */
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;

static void empty_pool_in_child(void)
{
    memset(pool, 0, sizeof(pool));
    pool_left = 0;
}

static void register_fork_handler(void)
{
    /* It fails only without memory; a fork() child would then reuse the
     * parent's block, and rill forks no child that makes ids. */
    (void)pthread_atfork(NULL, NULL, empty_pool_in_child);
}

/* Fills the pool from the kernel. Returns 0, or -1 with errno set. */
static int fill_pool(void)
{
    size_t filled = 0;
    while (filled < sizeof(pool)) {
        ssize_t got = getrandom(pool + filled, sizeof(pool) - filled, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        filled += (size_t)got;
    }
    pool_left = sizeof(pool);
    return 0;
}

int rill_id_generate(char text[RILL_ID_TEXT_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    (void)pthread_once(&fork_handler_once, register_fork_handler);
    if (pool_left < ID_BYTES && fill_pool() != 0)
        return -1;
    uint8_t *random_bytes = pool + sizeof(pool) - pool_left;
    for (size_t i = 0; i < ID_BYTES; i++) {
        text[2 * i] = digits[random_bytes[i] >> 4];
        text[2 * i + 1] = digits[random_bytes[i] & 15];
    }
    text[32] = '\0';
    memset(random_bytes, 0, ID_BYTES); /* served once: not kept in memory */
    pool_left -= ID_BYTES;
    return 0;
}
