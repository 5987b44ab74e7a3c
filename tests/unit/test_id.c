/* test_id.c - ids are 32 lower-case hex digits and do not repeat. */
#include "rill_id.h"
#include "rill_protocol.h"
#include "rill_test.h"

#include <string.h>

int main(void)
{
    char seen[1000][RILL_ID_TEXT_SIZE];
    int repeated = 0;
    for (int i = 0; i < 1000; i++) {
        CHECK(rill_id_generate(seen[i]) == 0);
        CHECK(strlen(seen[i]) == 32 && rill_job_id_is_valid((const uint8_t *)seen[i], 32));
        for (int j = 0; j < i; j++)
            repeated += strcmp(seen[i], seen[j]) == 0;
    }
    CHECK(repeated == 0);
    RILL_TEST_END();
}
