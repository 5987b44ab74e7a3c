/*
 * fuzz_json_check.c - libFuzzer target for rill_json_check, the scanner
 * that decides which worker parts reach clients (common/rill_json_check.h).
 *
 * Built by meson only with clang (tests/meson.build), with
 * -fsanitize=fuzzer,address: ASan catches any read outside the input (the
 * input is copied into a buffer of exactly its size). Beside memory
 * errors it checks what must hold for every input: a refusal names a
 * reason and an offset within the input; an accepted value stays
 * accepted with whitespace around it and is refused with a byte after it.
 *
 *     build-fuzz/tests/fuzz_json_check -max_total_time=600 NEW_DIR tests/fuzz/corpus/json_check
 */
#include "rill_json_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size + 2 > 0 ? size + 2 : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    rill_json_check_error_t error = {0, NULL};
    int accepted = rill_json_check(copy, size, &error) == 0;
    if (!accepted && (error.reason == NULL || error.offset > size))
        abort();
    if (accepted) {
        /* Whitespace around it changes nothing... */
        memmove(copy + 1, copy, size);
        copy[0] = '\n';
        copy[size + 1] = ' ';
        if (rill_json_check(copy, size + 2, NULL) != 0)
            abort();
        /* ...a second value after it is refused. */
        copy[size + 1] = '0';
        if (size > 0 && rill_json_check(copy, size + 2, NULL) == 0 && copy[size] != '-' &&
            !(copy[size] >= '0' && copy[size] <= '9') && copy[size] != '.' && copy[size] != 'e' &&
            copy[size] != 'E')
            abort();
    }
    free(copy);
    return 0;
}
