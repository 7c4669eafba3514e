/* http.h - the request as API handlers see it, and the calls they answer with.
 * http.c owns the libmicrohttpd glue: body accumulation under limits, query
 * arguments, routing, authentication, suspend/resume and sending replies. */
#ifndef ODSCAN_HTTP_H
#define ODSCAN_HTTP_H

#include "auth.h"
#include "buf.h"
#include "committer.h"
#include "qps.h"
#include "ratelimit.h"
#include "workers.h"

#include <stdbool.h>
#include <stddef.h>

#define HTTP_URL_MAX      2048   /* path bytes */
#define HTTP_ARGS_MAX     32     /* query arguments kept; more is a 400 */
#define HTTP_HEADERS_MAX  6      /* extra response headers per reply */
#define HTTP_CONN_MEMORY  (8 * 1024)   /* per-connection buffer: bounds request headers;
                                          every held long poll keeps one */
#define HTTP_SEGMENT_MAX  64     /* one variable path segment ("{}" in a route) */

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
    const char             *param;      /* the first "{}" segment of the route, or NULL */
    char                    params[2][HTTP_SEGMENT_MAX];
    size_t                  nparams;
    const struct route     *route;      /* NULL: no such path (or method) */
    char                    allow[64];  /* methods of the path when the method is wrong */
    char                    remote[STORE_ADDR_MAX];
    struct buf              body;       /* at most QPS_BODY_MAX */
    bool                    body_too_big;
    enum { PHASE_BODY = 0, PHASE_AUTH, PHASE_HANDLER } phase;
    /* a user's credentials verified on a worker (cache miss) */
    struct work             auth_work;
    int                     auth_rc;
    char                    authz[AUTH_HEADER_MAX];
    enum qps_format         fmt;        /* chosen from Accept */
    struct principal        who;        /* valid on AUTH_USER routes */
    struct rate_ticket      rate;       /* AUTH_USER routes: the limits that applied */
    struct agent            agent;      /* valid on AUTH_AGENT routes */
    struct qps_arg          args[HTTP_ARGS_MAX];
    size_t                  nargs;
    bool                    args_overflow;
    /* the reply */
    unsigned                status;
    const char             *content_type;
    struct buf              out;
    struct reply_header     headers[HTTP_HEADERS_MAX];
    size_t                  nheaders;
    /* operations waiting for their group commit */
    struct commit_item      commit;
    void                   *handler_mem;  /* a handler's allocation (e.g. a bulk launch's
                                             operations), freed when the request ends */
    int                     commit_rc;
    /* slow work (a knowledge-base import) on a worker; its reply status (0: none) */
    struct work             slow_work;
    unsigned                import_status;
    /* a check-in held in the dispatch hub */
    int                     wait_state; /* api_agent.c's */
    int64_t                 hold_deadline_ms;
    struct profile          profile;
};

/* http_reply_error renders the error in the route's style: a QPS ServiceResponse (XML
 * or JSON by Accept) or, for JSON routes, {"error": message, "resolution": ...}. */
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
/* http_peer_closed tells whether the client of a parked connection has gone (shut its
 * side or reset it), without reading; false when it cannot tell. Any thread. */
bool http_peer_closed(struct request *r);
/* http_reply_json sets a 200 JSON reply whose body the caller wrote into r->out. */
void http_reply_json(struct request *r, unsigned status);
/* http_base_url returns the server's public base URL ("https://host:port"). */
const char *http_base_url(const struct request *r);

#endif
