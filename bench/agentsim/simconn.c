/* simconn.c - non-blocking HTTP/1.1 client connections for agentsim (see simconn.h).
 * Deliberately small: one request in flight per connection, Content-Length bodies,
 * and a broken connection is reported to the caller, which decides whether to resend. */
#include "simconn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/tcp.h>
#include <unistd.h>

void
simconn_init(struct simconn *c, const struct sockaddr_in *src, const struct sockaddr_in *dst)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->state = SIMCONN_CLOSED;
    c->src = *src;
    c->dst = dst;
}

void
simconn_close(struct simconn *c)
{
    if (c->fd >= 0)
        close(c->fd);    /* also drops it from every epoll set */
    c->fd = -1;
    c->state = SIMCONN_CLOSED;
    c->in_len = 0;
    free(c->in);
    c->in = NULL;
}

/* open_socket starts a non-blocking connect from c->src to c->dst. */
static int
open_socket(struct simconn *c, int epfd, void *tag)
{
    int one = 1;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = tag };

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Pick the source port at connect time, per destination: many agents per
     * source address then share ports across servers. */
#ifdef IP_BIND_ADDRESS_NO_PORT
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
    if (bind(c->fd, (const struct sockaddr *)&c->src, sizeof(c->src)) != 0)
        goto fail;
    if (connect(c->fd, (const struct sockaddr *)c->dst, sizeof(*c->dst)) != 0 && errno != EINPROGRESS)
        goto fail;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        goto fail;
    c->state = SIMCONN_CONNECTING;
    return 0;
fail:
    {
        int saved = errno;
        simconn_close(c);
        errno = saved;
    }
    return -1;
}

int
simconn_request(struct simconn *c, int epfd, void *tag, const char *method, const char *path,
    const char *host, const char *headers, const char *body)
{
    size_t blen = body != NULL ? strlen(body) : 0;
    int n = snprintf(c->out, sizeof(c->out),
        "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
        method, path, host, headers != NULL ? headers : "",
        path[1] == 'q' ? "text/xml" : "application/json", blen, body != NULL ? body : "");

    if (n < 0 || (size_t)n >= sizeof(c->out)) {
        errno = EMSGSIZE;
        return -1;
    }
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->in_len = 0;
    if (c->state == SIMCONN_CLOSED)
        return open_socket(c, epfd, tag);
    c->state = SIMCONN_SENDING;
    /* Edge-triggered: the socket has been writable since the last drain, so write now. */
    if (simconn_io(c, epfd, EPOLLOUT) == SIMCONN_FAILED) {
        errno = ECONNRESET;
        return -1;
    }
    return 0;
}

/* parse_response looks for a whole response in c->in; 1 when complete, 0 when more
 * bytes are needed, -1 when malformed or too large. */
static int
parse_response(struct simconn *c)
{
    char *end, *p, *line;
    size_t clen = 0;
    bool have_len = false;

    c->in[c->in_len] = '\0';
    end = strstr(c->in, "\r\n\r\n");
    if (end == NULL)
        return c->in_len + 1 >= SIMCONN_RESP_MAX ? -1 : 0;
    if (strncmp(c->in, "HTTP/1.", 7) != 0 || c->in_len < 12)
        return -1;
    c->status = (c->in[9] - '0') * 100 + (c->in[10] - '0') * 10 + (c->in[11] - '0');
    for (line = strstr(c->in, "\r\n") + 2; line < end; line = p + 2) {
        p = strstr(line, "\r\n");
        if (strncasecmp(line, "Content-Length:", 15) == 0) {
            char *q;
            errno = 0;
            unsigned long v = strtoul(line + 15, &q, 10);
            if (errno != 0 || q == line + 15 || v >= SIMCONN_RESP_MAX)
                return -1;
            clen = v;
            have_len = true;
        }
    }
    if (!have_len && c->status != 204 && c->status != 304)
        return -1;    /* chunked or close-delimited: odscand never sends those */
    size_t head = (size_t)(end + 4 - c->in);
    if (head + clen + 1 > SIMCONN_RESP_MAX)
        return -1;
    if (c->in_len < head + clen)
        return 0;
    if (c->in_len > head + clen)
        return -1;    /* nothing was pipelined, so nothing may follow */
    c->body = c->in + head;
    c->body_len = clen;
    return 1;
}

enum simconn_event
simconn_io(struct simconn *c, int epfd, unsigned events)
{
    (void)epfd;
    if (c->fd < 0)
        return SIMCONN_AGAIN;
    if (c->state == SIMCONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return SIMCONN_AGAIN;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
            goto broken;
        c->state = SIMCONN_SENDING;
    }
    if (c->state == SIMCONN_SENDING) {
        while (c->out_off < c->out_len) {
            ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return SIMCONN_AGAIN;
            if (n <= 0)
                goto broken;
            c->out_off += (size_t)n;
        }
        c->state = SIMCONN_READING;
    }
    if (c->state == SIMCONN_READING || c->state == SIMCONN_IDLE) {
        if (c->in == NULL && (c->in = malloc(SIMCONN_RESP_MAX)) == NULL)
            goto broken;
        for (;;) {
            ssize_t n = recv(c->fd, c->in + c->in_len, SIMCONN_RESP_MAX - 1 - c->in_len, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (n <= 0)
                goto broken;    /* closed by the server, or an error */
            if (c->state == SIMCONN_IDLE)
                goto broken;    /* bytes nobody asked for */
            c->in_len += (size_t)n;
            if (c->in_len + 1 >= SIMCONN_RESP_MAX)
                break;
        }
        if (c->state == SIMCONN_IDLE)
            return SIMCONN_AGAIN;
        int rc = parse_response(c);
        if (rc < 0)
            goto broken;
        if (rc == 0)
            return SIMCONN_AGAIN;
        c->state = SIMCONN_IDLE;
        return SIMCONN_DONE;
    }
    return SIMCONN_AGAIN;
broken:
    simconn_close(c);
    return SIMCONN_FAILED;
}
