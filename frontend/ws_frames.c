/*
 * ws_frames.c - see ws_frames.h.
 */
#include "ws_frames.h"

int rill_ws_frame_head(const uint8_t *bytes, size_t size, rill_ws_frame_t *frame)
{
    if (size < 2)
        return 0;
    size_t header = 2;
    uint64_t payload = bytes[1] & 0x7f;
    if (payload == 126)
        header += 2;
    else if (payload == 127)
        header += 8;
    if (bytes[1] & 0x80)
        header += 4; /* the mask key */
    if (size < header)
        return 0;
    if (payload == 126) {
        payload = ((uint64_t)bytes[2] << 8) | bytes[3];
    } else if (payload == 127) {
        payload = 0;
        for (int i = 0; i < 8; i++)
            payload = (payload << 8) | bytes[2 + i];
    }
    frame->fin = (bytes[0] & 0x80) != 0;
    frame->opcode = bytes[0] & 0x0f;
    frame->length = payload > UINT64_MAX - header ? UINT64_MAX : payload + header;
    return 1;
}

int rill_ws_frame_is_data(const rill_ws_frame_t *frame)
{
    return frame->opcode < 8;
}

size_t rill_ws_frame_text_header(uint8_t out[10], uint64_t payload)
{
    out[0] = 0x81; /* fin, text */
    if (payload < 126) {
        out[1] = (uint8_t)payload;
        return 2;
    }
    if (payload < 65536) {
        out[1] = 126;
        out[2] = (uint8_t)(payload >> 8);
        out[3] = (uint8_t)payload;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(payload >> (56 - 8 * i));
    return 10;
}
