/* test_ws_frames.c - a WebSocket frame's header read off the bytes that
 * have arrived: nothing until the whole header is there (7-bit, 16-bit and
 * 64-bit lengths, masked or not), then its length, opcode and fin; a length
 * that cannot fit saturates; control frames are not a message's. A
 * server's text frame header at each length's edge, read back the same. */
#include "rill_test.h"
#include "ws_frames.h"

#include <stdint.h>
#include <string.h>

int main(void)
{
    rill_ws_frame_t frame;

    /* A masked text frame of 5 bytes, final: 2 + 4 + 5. */
    const uint8_t text[] = {0x81, 0x85, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'};
    CHECK(rill_ws_frame_head(text, 0, &frame) == 0);
    CHECK(rill_ws_frame_head(text, 1, &frame) == 0);
    CHECK(rill_ws_frame_head(text, 5, &frame) == 0); /* the mask key is part of the header */
    CHECK(rill_ws_frame_head(text, 6, &frame) == 1 && frame.length == 11 && frame.opcode == 1 && frame.fin == 1);
    CHECK(rill_ws_frame_is_data(&frame) == 1);

    /* A first fragment of a binary message, unmasked, 16-bit length 300. */
    const uint8_t fragment[] = {0x02, 126, 0x01, 0x2c};
    CHECK(rill_ws_frame_head(fragment, 3, &frame) == 0);
    CHECK(rill_ws_frame_head(fragment, 4, &frame) == 1 && frame.length == 304 && frame.opcode == 2 &&
          frame.fin == 0);

    /* A masked continuation with a 64-bit length of 70,000. */
    const uint8_t big[] = {0x80, 0xff, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, 9, 9, 9, 9};
    CHECK(rill_ws_frame_head(big, 13, &frame) == 0);
    CHECK(rill_ws_frame_head(big, 14, &frame) == 1 && frame.length == 70000 + 14 && frame.opcode == 0 &&
          frame.fin == 1 && rill_ws_frame_is_data(&frame));

    /* A length no frame can have: saturated, for wslay to refuse. */
    const uint8_t huge[] = {0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(rill_ws_frame_head(huge, sizeof(huge), &frame) == 1 && frame.length == UINT64_MAX);

    /* Control frames: ping, pong, close, whatever their fin. */
    const uint8_t ping[] = {0x89, 0x80, 0, 0, 0, 0};
    CHECK(rill_ws_frame_head(ping, sizeof(ping), &frame) == 1 && frame.length == 6 && frame.opcode == 9 &&
          !rill_ws_frame_is_data(&frame));
    const uint8_t close_frame[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8};
    CHECK(rill_ws_frame_head(close_frame, sizeof(close_frame), &frame) == 1 && frame.length == 8 &&
          !rill_ws_frame_is_data(&frame));

    /* A server's text headers: 7-bit, 16-bit and 64-bit lengths, at their edges. */
    const uint64_t lengths[] = {0, 125, 126, 65535, 65536, 5000000000ull};
    const size_t header_lengths[] = {2, 2, 4, 4, 10, 10};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        uint8_t header[10];
        size_t length = rill_ws_frame_text_header(header, lengths[i]);
        CHECKF(length == header_lengths[i] && rill_ws_frame_head(header, length, &frame) == 1 &&
               frame.length == lengths[i] + length && frame.opcode == 1 && frame.fin == 1 && !(header[1] & 0x80),
               "a text header for %llu bytes", (unsigned long long)lengths[i]);
    }
    RILL_TEST_END();
}
