/* rill_id.c - see rill_id.h. */
#include "rill_id.h"

#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

int rill_id_generate(char text[RILL_ID_TEXT_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t random_bytes[16];
    size_t filled = 0;
    while (filled < sizeof(random_bytes)) {
        ssize_t got = getrandom(random_bytes + filled, sizeof(random_bytes) - filled, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        filled += (size_t)got;
    }
    for (size_t i = 0; i < sizeof(random_bytes); i++) {
        text[2 * i] = digits[random_bytes[i] >> 4];
        text[2 * i + 1] = digits[random_bytes[i] & 15];
    }
    text[32] = '\0';
    return 0;
}
