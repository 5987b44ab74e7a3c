/* test_buffer.c - the shared growable buffer: appends, printf, consume, NUL termination. */
#include "rill_buffer.h"
#include "rill_test.h"

#include <string.h>

int main(void)
{
    rill_buffer_t buffer;
    rill_buffer_init(&buffer);
    CHECK(buffer.data == NULL && buffer.length == 0 && !buffer.failed);
    CHECK(rill_buffer_append(&buffer, "", 0) == 0);
    CHECK(buffer.data != NULL && buffer.data[0] == '\0');
    CHECK(rill_buffer_append(&buffer, "abc", 3) == 0);
    CHECK(rill_buffer_printf(&buffer, "-%d-%s", 42, "x") == 0);
    CHECK(buffer.length == 8 && strcmp(buffer.data, "abc-42-x") == 0);

    /* printf longer than its small stack buffer goes straight into the buffer. */
    char long_text[1000];
    memset(long_text, 'y', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    CHECK(rill_buffer_printf(&buffer, "[%s]", long_text) == 0);
    CHECK(buffer.length == 8 + 1001 && buffer.data[buffer.length] == '\0');
    CHECK(buffer.data[8] == '[' && buffer.data[buffer.length - 1] == ']');

    rill_buffer_consume(&buffer, 4);
    CHECK(strncmp(buffer.data, "42-x[", 5) == 0 && buffer.length == 1005);
    rill_buffer_consume(&buffer, 5000);
    CHECK(buffer.length == 0 && buffer.data[0] == '\0');

    /* Many small appends grow it; the bytes survive every realloc. */
    for (int i = 0; i < 10000; i++)
        CHECK(rill_buffer_append(&buffer, "0123456789", 10) == 0);
    CHECK(buffer.length == 100000 && memcmp(buffer.data + 99990, "0123456789", 10) == 0);

    /* A failed buffer stays failed: later appends do nothing. */
    buffer.failed = 1;
    size_t before = buffer.length;
    CHECK(rill_buffer_append(&buffer, "z", 1) == -1 && buffer.length == before);
    CHECK(rill_buffer_printf(&buffer, "%d", 1) == -1 && buffer.length == before);
    rill_buffer_release(&buffer);
    CHECK(buffer.data == NULL && buffer.length == 0 && !buffer.failed);
    RILL_TEST_END();
}
