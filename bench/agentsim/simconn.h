/* simconn.h - one non-blocking HTTP/1.1 client connection for agentsim: connect from
 * a chosen loopback source address, send one request at a time over keep-alive, and
 * collect the response (Content-Length bodies only, which is all odscand sends). */
#ifndef AGENTSIM_SIMCONN_H
#define AGENTSIM_SIMCONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define SIMCONN_REQ_MAX  2048    /* one request, headers and body */
#define SIMCONN_RESP_MAX 4096    /* one response, headers and body */

enum simconn_state {
    SIMCONN_CLOSED = 0,
    SIMCONN_CONNECTING,     /* connect() in progress; the request waits in out[] */
    SIMCONN_SENDING,        /* writing out[] */
    SIMCONN_READING,        /* waiting for / reading the response */
    SIMCONN_IDLE,           /* connected, nothing in flight */
};

struct simconn {
    int                 fd;
    enum simconn_state  state;
    struct sockaddr_in  src;            /* source address (port 0) */
    const struct sockaddr_in *dst;
    char                out[SIMCONN_REQ_MAX];
    size_t              out_len, out_off;
    char               *in;             /* SIMCONN_RESP_MAX bytes, allocated on first use */
    size_t              in_len;
    /* the parsed response, valid when simconn_io returned SIMCONN_DONE */
    int                 status;
    const char         *body;           /* points into in[], NUL-terminated */
    size_t              body_len;
};

/* What simconn_io reports to its caller. */
enum simconn_event {
    SIMCONN_AGAIN = 0,      /* nothing complete yet */
    SIMCONN_DONE,           /* a response is in status/body */
    SIMCONN_FAILED,         /* the connection broke; it is closed (request lost) */
};

/* simconn_init prepares c (closed) to talk to dst from source address src. */
void simconn_init(struct simconn *c, const struct sockaddr_in *src, const struct sockaddr_in *dst);

/* simconn_request formats one request (method, path, extra header lines each ending
 * in "\r\n" or NULL, body or NULL) into c->out and starts sending it, connecting
 * first when closed. The fd is (re)registered with epfd with data.ptr = tag.
 * Returns 0, or -1 (errno set) when the request does not fit or the socket cannot
 * be made; -1 with c closed. */
int simconn_request(struct simconn *c, int epfd, void *tag, const char *method, const char *path,
    const char *host, const char *headers, const char *body);

/* simconn_io advances c after epoll reported events on it. */
enum simconn_event simconn_io(struct simconn *c, int epfd, unsigned events);

/* simconn_close closes the socket (if open) and frees the response buffer. */
void simconn_close(struct simconn *c);

#endif
