/* test_lines.c - raw bytes split into lines (workers/lines.c): endings, held rests, long lines. */
#include "lines.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char lines[8][64];
    size_t count;
} collected_t;

static int collect(void *argument, const char *line, size_t length)
{
    collected_t *collected = argument;
    if (collected->count < 8 && length < 64) {
        memcpy(collected->lines[collected->count], line, length);
        collected->lines[collected->count][length] = '\0';
    }
    collected->count++;
    return 0;
}

static int stop(void *argument, const char *line, size_t length)
{
    (void)argument, (void)line, (void)length;
    return 1;
}

int main(void)
{
    /* Lines: split on \n, \r\n too, the rest is held until ended or flushed. */
    rill_lines_t lines;
    rill_lines_init(&lines);
    collected_t collected;
    memset(&collected, 0, sizeof(collected));
    CHECK(rill_lines_feed(&lines, "one\ntw", 6, collect, &collected) == 0);
    CHECK(collected.count == 1 && strcmp(collected.lines[0], "one") == 0);
    CHECK(rill_lines_feed(&lines, "o\r\n\nthree", 9, collect, &collected) == 0);
    CHECK(collected.count == 3 && strcmp(collected.lines[1], "two") == 0 && collected.lines[2][0] == '\0');
    CHECK(rill_lines_flush(&lines, collect, &collected) == 0);
    CHECK(collected.count == 4 && strcmp(collected.lines[3], "three") == 0);
    CHECK(rill_lines_flush(&lines, collect, &collected) == 0 && collected.count == 4);
    CHECK(rill_lines_feed(&lines, "a\nb\n", 4, stop, NULL) == -1);

    /* A line longer than RILL_LINE_MAX comes in pieces of that size. */
    size_t long_length = RILL_LINE_MAX * 2 + 10;
    char *long_line = malloc(long_length + 1);
    CHECK(long_line != NULL);
    if (long_line != NULL) {
        memset(long_line, 'x', long_length);
        long_line[long_length] = '\n';
        memset(&collected, 0, sizeof(collected));
        rill_lines_release(&lines);
        rill_lines_init(&lines);
        CHECK(rill_lines_feed(&lines, long_line, 100, collect, &collected) == 0);
        CHECK(rill_lines_feed(&lines, long_line + 100, long_length + 1 - 100, collect, &collected) == 0);
        CHECK(collected.count == 3);
        free(long_line);
    }
    rill_lines_release(&lines);
    RILL_TEST_END();
}
