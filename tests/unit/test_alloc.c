/* test_alloc.c - the never-NULL allocation wrappers: sizes, copies, zeroing. */
#include "rill_alloc.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *copy = rill_xstrdup("hello");
    CHECK(strcmp(copy, "hello") == 0);
    free(copy);

    copy = rill_xstrndup("hello", 3);
    CHECK(strcmp(copy, "hel") == 0);
    free(copy);
    copy = rill_xstrndup("hi", 10);
    CHECK(strcmp(copy, "hi") == 0);
    free(copy);

    /* Bytes with no NUL of their own get one. */
    const char frame[4] = {'a', 'b', 'c', 'd'};
    copy = rill_xmemdup_text(frame, 3);
    CHECK(strcmp(copy, "abc") == 0);
    free(copy);
    copy = rill_xmemdup_text(NULL, 0);
    CHECK(copy[0] == '\0');
    free(copy);

    int *numbers = rill_xcalloc(16, sizeof(int));
    int zero = 1;
    for (int i = 0; i < 16; i++)
        zero &= numbers[i] == 0;
    CHECK(zero);
    numbers = rill_xrealloc(numbers, 1024 * sizeof(int));
    numbers[1023] = 7;
    CHECK(numbers[0] == 0 && numbers[1023] == 7);
    free(numbers);

    /* Size 0 is a real, freeable allocation, never NULL. */
    void *empty = rill_xmalloc(0);
    CHECK(empty != NULL);
    free(empty);
    RILL_TEST_END();
}
