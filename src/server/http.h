/* http.h - the request as API handlers see it, and the calls they answer with.
 * http.c owns the libmicrohttpd glue: body accumulation under limits, query
 * arguments, routing, authentication, suspend/resume and sending replies. */
#ifndef ODSCAN_HTTP_H
#define ODSCAN_HTTP_H

#include "auth.h"
#include "buf.h"
#include "committer.h"
#include "qps.h"

#include <stdbool.h>
#include <stddef.h>

#define HTTP_URL_MAX      2048   /* path bytes */
#define HTTP_ARGS_MAX     32     /* query arguments kept; more is a 400 */
#define HTTP_HEADERS_MAX  6      /* extra response headers per reply */
#define HTTP_CONN_MEMORY  (32 * 1024)  /* per-connection buffer: bounds request headers */

struct server;
struct MHD_Connection;

/* What a handler returns: the reply is ready, or the connection waits (suspended)
 * until http_resume() and the route's resume handler then builds the reply. */
enum handler_result { HANDLER_REPLY = 0, HANDLER_SUSPENDED };

struct reply_header {
    const char *name;      /* static string */
    char        value[96];
};

struct request {
    struct server          *srv;
    struct MHD_Connection  *conn;
    const char             *method;     /* owned by libmicrohttpd, valid until completion */
    const char             *path;
    const char             *param;      /* path segment after a route's prefix, or NULL */
    const struct route     *route;
    char                    remote[STORE_ADDR_MAX];
    struct buf              body;       /* at most QPS_BODY_MAX */
    bool                    body_too_big;
    bool                    dispatched; /* the handler has run */
    enum qps_format         fmt;        /* chosen from Accept */
    struct principal        who;        /* valid on authenticated routes */
    struct qps_arg          args[HTTP_ARGS_MAX];
    size_t                  nargs;
    bool                    args_overflow;
    /* the reply */
    unsigned                status;
    const char             *content_type;
    struct buf              out;
    struct reply_header     headers[HTTP_HEADERS_MAX];
    size_t                  nheaders;
    /* a launch waiting for its group commit */
    struct commit_item      commit;
    int                     commit_rc;
};

/* http_reply_error renders a QPS error body in the request's format. */
void http_reply_error(struct request *r, const struct qps_error *e);
/* http_reply_errorf is http_reply_error with the error built in place. */
void http_reply_errorf(struct request *r, int status, enum qps_code code,
    const char *resolution, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* http_reply_internal answers 500 INTERNAL_ERROR after a failure the client can't fix. */
void http_reply_internal(struct request *r, const char *what, int rc);
/* http_add_header adds a response header (name must be a static string); extra
 * headers past HTTP_HEADERS_MAX are dropped. */
void http_add_header(struct request *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* http_suspend parks the connection; call from a handler just before handing the
 * request to another thread, then return HANDLER_SUSPENDED. */
void http_suspend(struct request *r);
/* http_resume wakes a parked connection; safe from any thread. */
void http_resume(struct request *r);
/* http_base_url returns the server's public base URL ("https://host:port"). */
const char *http_base_url(const struct request *r);

#endif
