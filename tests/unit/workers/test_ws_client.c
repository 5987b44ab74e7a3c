/* test_ws_client.c - a client WebSocket (workers/ws_client.c) against a
 * scripted peer in memory: the handshake checked (status, Upgrade, the
 * accept value), frames in the same read as the answer, fragments, a ping
 * answered, a close answered, a message too large, a refused handshake. */
#include "rill_test.h"
#include "ws_client.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char sent[4096]; /* what the client wrote */
    size_t sent_length;
    const char *script[8]; /* what each recv gets (NULL: end of stream), after the handshake answer */
    size_t script_lengths[8];
    size_t script_count;
    size_t next;
    int answer_given;
    const char *answer_format; /* the handshake answer; %s: the accept value */
    char messages[8][128];
    size_t message_count;
    int opened;
} peer_t;

/* The accept value for the key in the request the client sent. */
static void expected_accept(const peer_t *peer, char *out)
{
    const char *key = strstr(peer->sent, "Sec-WebSocket-Key: ");
    char joined[128] = "";
    if (key != NULL)
        snprintf(joined, sizeof(joined), "%.24s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key + 19);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(joined, strlen(joined), digest, &length, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, digest, (int)length);
}

static ssize_t peer_recv(void *argument, void *buffer, size_t length)
{
    peer_t *peer = argument;
    if (!peer->answer_given) {
        if (peer->sent_length == 0)
            return RILL_WS_AGAIN;
        char accept[64], answer[512];
        expected_accept(peer, accept);
        /* The answer with its "%s" replaced by the accept value. */
        const char *mark = strstr(peer->answer_format, "%s");
        int n = mark == NULL ? snprintf(answer, sizeof(answer), "%s", peer->answer_format)
                             : snprintf(answer, sizeof(answer), "%.*s%s%s", (int)(mark - peer->answer_format),
                                        peer->answer_format, accept, mark + 2);
        /* The first script entry comes in the same read as the answer. */
        size_t extra = peer->script_count > 0 && peer->script[0] != NULL ? peer->script_lengths[0] : 0;
        if ((size_t)n + extra > length)
            return RILL_WS_IO_ERROR;
        memcpy(buffer, answer, (size_t)n);
        if (extra > 0)
            memcpy((char *)buffer + n, peer->script[0], extra);
        peer->answer_given = 1;
        peer->next = extra > 0 ? 1 : 0;
        return (ssize_t)((size_t)n + extra);
    }
    if (peer->next >= peer->script_count)
        return RILL_WS_AGAIN;
    const char *chunk = peer->script[peer->next];
    size_t chunk_length = peer->script_lengths[peer->next];
    peer->next++;
    if (chunk == NULL)
        return 0;
    if (chunk_length > length)
        return RILL_WS_IO_ERROR;
    memcpy(buffer, chunk, chunk_length);
    return (ssize_t)chunk_length;
}

static ssize_t peer_send(void *argument, const void *buffer, size_t length)
{
    peer_t *peer = argument;
    if (peer->sent_length + length > sizeof(peer->sent) - 1)
        return RILL_WS_IO_ERROR;
    memcpy(peer->sent + peer->sent_length, buffer, length);
    peer->sent_length += length;
    peer->sent[peer->sent_length] = '\0';
    return (ssize_t)length;
}

static int peer_open(void *argument)
{
    ((peer_t *)argument)->opened = 1;
    return 0;
}

static int peer_message(void *argument, const char *data, size_t length, int binary)
{
    peer_t *peer = argument;
    if (peer->message_count < 8 && length < 100)
        snprintf(peer->messages[peer->message_count], 128, "%s%.*s", binary ? "b:" : "", (int)length, data);
    peer->message_count++;
    return 0;
}

static rill_ws_client_t *client_for(peer_t *peer, uint64_t max_message)
{
    rill_ws_callbacks_t callbacks = {peer_recv, peer_send, peer_open, peer_message, peer};
    return rill_ws_client_new("up.example:8080", "/feed?x=1", max_message, &callbacks);
}

#define GOOD_ANSWER "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nconnection: upgrade\r\n" \
                    "Sec-WebSocket-Accept: %s\r\n\r\n"

int main(void)
{
    /* A session: a text message in the answer's read, a fragmented one, a
     * binary one, a ping, then a close with 1000. */
    peer_t peer;
    memset(&peer, 0, sizeof(peer));
    peer.answer_format = GOOD_ANSWER;
    static const char first[] = "\x81\x05hello";
    static const char fragments[] = "\x01\x03{\"a\x80\x04\":1}";
    static const char binary_and_ping[] = "\x82\x02\x00\xff\x89\x02hi";
    static const char close_frame[] = "\x88\x02\x03\xe8";
    peer.script[0] = first, peer.script_lengths[0] = sizeof(first) - 1;
    peer.script[1] = fragments, peer.script_lengths[1] = sizeof(fragments) - 1;
    peer.script[2] = binary_and_ping, peer.script_lengths[2] = sizeof(binary_and_ping) - 1;
    peer.script_count = 3;
    rill_ws_client_t *client = client_for(&peer, 1024);
    CHECK(client != NULL);
    CHECK(rill_ws_client_wants_write(client));
    rill_ws_state_t state = RILL_WS_OPEN;
    for (int turn = 0; turn < 10 && state == RILL_WS_OPEN; turn++)
        state = rill_ws_client_io(client);
    CHECK(state == RILL_WS_OPEN && !rill_ws_client_wants_write(client));
    CHECK(strncmp(peer.sent, "GET /feed?x=1 HTTP/1.1\r\nHost: up.example:8080\r\nUpgrade: websocket\r\n", 66) == 0);
    CHECK(peer.opened && rill_ws_client_status(client) == 101);
    CHECK(peer.message_count == 3);
    CHECK(strcmp(peer.messages[0], "hello") == 0 && strcmp(peer.messages[1], "{\"a\":1}") == 0);
    CHECK(strncmp(peer.messages[2], "b:", 2) == 0);
    /* After the request: a masked pong "hi" (0x8a, 0x80 | 2, 4 mask bytes, 2 bytes). */
    const char *frames = strstr(peer.sent, "\r\n\r\n") + 4;
    CHECK(peer.sent + peer.sent_length - frames == 8);
    CHECK((unsigned char)frames[0] == 0x8a && (unsigned char)frames[1] == 0x82);
    CHECK(((unsigned char)frames[6] ^ (unsigned char)frames[2]) == 'h');
    /* The close: answered (a masked close, 0x88), then closed with its code. */
    peer.script[3] = close_frame, peer.script_lengths[3] = sizeof(close_frame) - 1;
    peer.script_count = 4;
    for (int turn = 0; turn < 10 && state == RILL_WS_OPEN; turn++)
        state = rill_ws_client_io(client);
    CHECK(state == RILL_WS_CLOSED && rill_ws_client_close_code(client) == 1000);
    CHECK((unsigned char)frames[8] == 0x88);
    rill_ws_client_destroy(&client);
    CHECK(client == NULL);

    /* A wrong accept value, no Upgrade header, another status: failed. */
    const char *const refusals[] = {
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: AAAA%s\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: %s\r\n\r\n",
        "HTTP/1.1 404 Not Found\r\nX-Accept: %s\r\nContent-Length: 0\r\n\r\n",
        "SSH-2.0 %s\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        memset(&peer, 0, sizeof(peer));
        peer.answer_format = refusals[i];
        client = client_for(&peer, 1024);
        state = RILL_WS_OPEN;
        for (int turn = 0; turn < 5 && state == RILL_WS_OPEN; turn++)
            state = rill_ws_client_io(client);
        CHECK(state == RILL_WS_FAILED && !peer.opened && rill_ws_client_error(client)[0] != '\0');
        CHECK((i == 2) == (rill_ws_client_status(client) == 404));
        rill_ws_client_destroy(&client);
    }

    /* A message over the limit: close 1009 sent, failed, too_large. */
    memset(&peer, 0, sizeof(peer));
    peer.answer_format = GOOD_ANSWER;
    static const char big[] = "\x81\x10" "0123456789abcdef";
    peer.script[0] = big, peer.script_lengths[0] = sizeof(big) - 1;
    peer.script_count = 1;
    client = client_for(&peer, 8);
    state = RILL_WS_OPEN;
    for (int turn = 0; turn < 5 && state == RILL_WS_OPEN; turn++)
        state = rill_ws_client_io(client);
    CHECK(state == RILL_WS_FAILED && rill_ws_client_too_large(client) && peer.message_count == 0);
    frames = strstr(peer.sent, "\r\n\r\n") + 4;
    CHECK((unsigned char)frames[0] == 0x88);
    rill_ws_client_destroy(&client);

    /* The connection ends without a close frame: failed, not closed. */
    memset(&peer, 0, sizeof(peer));
    peer.answer_format = GOOD_ANSWER;
    peer.script[0] = first, peer.script_lengths[0] = sizeof(first) - 1;
    peer.script[1] = NULL;
    peer.script_count = 2;
    client = client_for(&peer, 1024);
    state = RILL_WS_OPEN;
    for (int turn = 0; turn < 5 && state == RILL_WS_OPEN; turn++)
        state = rill_ws_client_io(client);
    CHECK(state == RILL_WS_FAILED && peer.message_count == 1 && !rill_ws_client_too_large(client));
    CHECK(strstr(rill_ws_client_error(client), "closed") != NULL);
    rill_ws_client_destroy(&client);

    RILL_TEST_END();
}
