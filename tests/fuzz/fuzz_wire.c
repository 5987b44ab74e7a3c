/*
 * fuzz_wire.c - libFuzzer target for the wire decoders: what a peer's
 * bytes go through before anything acts on them (common/rill_protocol.h,
 * common/rill_messages.h).
 *
 * The input is split into ZeroMQ-like frames at each 0x00 0xFF pair (a
 * separator no text frame needs), each frame copied into a buffer of
 * exactly its size so ASan catches any read outside it. The frames go to
 * rill_message_parse on every channel and to rill_event_parse (a lone frame
 * to the event batch reader too, rill/4); the last
 * frame also goes to every JSON frame decoder (SUBMIT, SUBMITTED, BATCH,
 * HELLO, WELCOME, the REPLAY header) and to the PARTS entry and done frame
 * readers. Beside memory errors and leaks it
 * checks what must hold for every input: a refusal names a reason, and an
 * accepted message has no more arguments than frames.
 *
 *     build-fuzz/tests/fuzz_wire -max_total_time=600 NEW_DIR tests/fuzz/corpus/wire
 */
#include "rill_event_batch.h"
#include "rill_parts_batch.h"
#include "rill_messages.h"
#include "rill_protocol.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES (RILL_MESSAGE_MAX_FRAMES + 4)

static void decode_json_frames(const uint8_t *bytes, size_t length)
{
    char error[256];
    rill_submit_t submit;
    if (rill_submit_decode(bytes, length, &submit, error, sizeof(error)) == 0)
        rill_submit_release(&submit);
    else if (error[0] == '\0')
        abort();
    rill_submitted_t submitted;
    if (rill_submitted_decode(bytes, length, &submitted, error, sizeof(error)) == 0)
        rill_submitted_release(&submitted);
    rill_batch_t batch;
    if (rill_batch_decode(bytes, length, &batch, error, sizeof(error)) == 0)
        rill_batch_release(&batch);
    rill_hello_t hello;
    if (rill_hello_decode(bytes, length, &hello, error, sizeof(error)) == 0)
        rill_hello_release(&hello);
    rill_welcome_t welcome;
    if (rill_welcome_decode(bytes, length, &welcome, error, sizeof(error)) == 0)
        rill_welcome_release(&welcome);
    rill_replay_header_t header;
    (void)rill_replay_header_decode(bytes, length, &header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copies[MAX_FRAMES];
    rill_frame_t frames[MAX_FRAMES];
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= size && count < MAX_FRAMES; i++) {
        int end = i == size || (i + 1 < size && data[i] == 0x00 && data[i + 1] == 0xff);
        if (!end)
            continue;
        size_t length = i - start;
        copies[count] = malloc(length > 0 ? length : 1);
        if (copies[count] == NULL)
            break;
        memcpy(copies[count], data + start, length);
        frames[count].data = copies[count];
        frames[count].size = length;
        count++;
        start = i + 2;
        i++;
    }
    static const rill_channel_t channels[] = {RILL_CHANNEL_TO_BROKER_FROM_WORKER, RILL_CHANNEL_TO_WORKER,
                                              RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, RILL_CHANNEL_TO_FRONTEND};
    for (size_t c = 0; c < sizeof(channels) / sizeof(channels[0]); c++) {
        rill_message_t message;
        const char *error = NULL;
        if (rill_message_parse(channels[c], frames, count, &message, &error) == 0) {
            if (message.argument_count > count)
                abort();
        } else if (error == NULL) {
            abort();
        }
    }
    rill_event_t event;
    const char *error = NULL;
    if (rill_event_parse(frames, count, &event, &error) != 0 && error == NULL)
        abort();
    if (count == 1) {
        /* A follower's batch (rill/4): every entry stays inside the frame,
         * and no more entries come than it announced. */
        rill_event_batch_t batch;
        if (rill_event_batch_open(frames[0], &batch, &error) == 0) {
            size_t entries = 0;
            int got;
            while ((got = rill_event_batch_next(&batch, &event, &error)) != 0) {
                if (++entries > batch.count || (got < 0 && error == NULL))
                    abort();
                if (got > 0 && (event.data.data < frames[0].data ||
                                event.data.data + event.data.size > frames[0].data + frames[0].size))
                    abort();
            }
            if (entries != batch.count)
                abort();
        } else if (error == NULL) {
            abort();
        }
    }
    if (count > 0)
        decode_json_frames(frames[count - 1].data, frames[count - 1].size);
    if (count > 0) {
        /* A PARTS frame (rill/4): every entry stays inside the frame. */
        rill_frame_t last = frames[count - 1];
        size_t offset = 0, before = 0;
        rill_parts_entry_t entry;
        int got;
        while ((got = rill_parts_next(last, &offset, &entry, &error)) == 1) {
            if (offset <= before || offset > last.size || entry.data.data + entry.data.size > last.data + last.size)
                abort();
            before = offset;
        }
        if (got < 0 && error == NULL)
            abort();
        /* The same frame as a PARTS's done frame (rill/7): every id is one,
         * inside the frame, and the reading moves on. */
        rill_frame_t id;
        offset = before = 0;
        error = NULL;
        while ((got = rill_parts_next_done(last, &offset, &id, &error)) == 1) {
            if (offset <= before || offset > last.size || id.size != RILL_JOB_ID_LENGTH ||
                !rill_job_id_is_valid(id.data, id.size) || id.data + id.size > last.data + last.size)
                abort();
            before = offset;
        }
        if (got < 0 && error == NULL)
            abort();
    }
    for (size_t i = 0; i < count; i++)
        free(copies[i]);
    return 0;
}
