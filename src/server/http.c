/* http.c - libmicrohttpd glue. One request context per HTTP request: the body is
 * collected under QPS_BODY_MAX, the route is found, the caller authenticated, and
 * the handler runs once the body is complete. A handler that waits for the group
 * commit suspends the connection; the committer resumes it and the route's resume
 * handler builds the reply, so no HTTP thread ever waits for the disk. */
#include "http.h"
#include "err.h"
#include "log.h"
#include "router.h"
#include "server.h"
#include "util.h"
#include "workers.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define ANSWER_MAX QPS_RESPONSE_MAX

static void
request_free(struct request *r)
{
    if (r == NULL)
        return;
    buf_free(&r->body);
    buf_free(&r->out);
    free(r->handler_mem);
    free(r);
}

const char *
http_base_url(const struct request *r)
{
    return r->srv->base_url;
}

void
http_add_header(struct request *r, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (r->nheaders >= HTTP_HEADERS_MAX)
        return;
    struct reply_header *h = &r->headers[r->nheaders++];
    h->name = name;
    va_start(ap, fmt);
    int n = vsnprintf(h->value, sizeof(h->value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(h->value))
        r->nheaders--;
}

void
http_reply_error(struct request *r, const struct qps_error *e)
{
    int rc;

    buf_reset(&r->out);
    r->status = (unsigned)e->http_status;
    if (r->route != NULL && r->route->style == STYLE_JSON) {
        r->content_type = "application/json";
        rc = buf_puts(&r->out, "{\"error\":\"");
        if (rc == 0)
            rc = buf_json_escaped(&r->out, e->message);
        if (rc == 0)
            rc = buf_puts(&r->out, "\",\"resolution\":\"");
        if (rc == 0)
            rc = buf_json_escaped(&r->out, e->resolution);
        if (rc == 0)
            rc = buf_puts(&r->out, "\"}\n");
    } else {
        rc = qps_render_error(&r->out, r->fmt, r->srv->base_url, e);
    }
    if (rc != 0) {
        buf_reset(&r->out);
        r->status = 500;
    }
}

void
http_reply_json(struct request *r, unsigned status)
{
    r->status = status;
    r->content_type = "application/json";
}

void
http_reply_errorf(struct request *r, int status, enum qps_code code, const char *resolution,
    const char *fmt, ...)
{
    struct qps_error e;
    va_list ap;

    e.http_status = status;
    e.code = code;
    va_start(ap, fmt);
    int n = vsnprintf(e.message, sizeof(e.message), fmt, ap);
    va_end(ap);
    if (n < 0)
        e.message[0] = '\0';
    str_copy(e.resolution, sizeof(e.resolution), resolution);
    http_reply_error(r, &e);
}

void
http_reply_internal(struct request *r, const char *what, int rc)
{
    if (rc == ODS_E_UNAVAILABLE) {
        log_warn("%s: %s %s: %s: database unavailable", __func__, r->method, r->path, what);
        http_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        http_reply_errorf(r, 503, QPS_SERVICE_UNAVAILABLE,
            "Retry in a few seconds; the server reconnects to its database by itself.",
            "The database is unavailable: %s", what);
        return;
    }
    log_error("%s: %s %s: %s: %s", __func__, r->method, r->path, what, err_msg(rc));
    http_reply_errorf(r, 500, QPS_INTERNAL_ERROR,
        "Retry later; if the problem persists, contact the administrator of this server.",
        "Internal error: %s", what);
}

void
http_suspend(struct request *r)
{
    MHD_suspend_connection(r->conn);
}

void
http_resume(struct request *r)
{
    MHD_resume_connection(r->conn);
}

bool
http_peer_closed(struct request *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct pollfd p;

    if (ci == NULL)
        return false;
    p.fd = ci->connect_fd;
    p.events = POLLIN | POLLRDHUP;
    p.revents = 0;
    if (poll(&p, 1, 0) <= 0)
        return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct request *r = cls;

    (void)kind;
    if (r->nargs >= HTTP_ARGS_MAX) {
        r->args_overflow = true;
        return MHD_NO;
    }
    r->args[r->nargs].key = key;
    r->args[r->nargs].value = value;
    r->nargs++;
    return MHD_YES;
}

static void
remote_address(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    str_copy(out, n, "unknown");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)n);
}

/* add_rate_headers writes the limits that applied to an authenticated user's call. */
static void
add_rate_headers(struct MHD_Response *resp, const struct rate_ticket *t)
{
    const struct {
        const char *name;
        unsigned    value;
    } h[] = {
        { "X-RateLimit-Limit", t->limit },
        { "X-RateLimit-Window-Sec", t->window_s },
        { "X-RateLimit-Remaining", t->remaining },
        { "X-RateLimit-ToWait-Sec", t->admitted ? 0 : t->to_wait_s },
        { "X-Concurrency-Limit-Limit", t->concurrency },
        { "X-Concurrency-Limit-Running", t->running },
    };
    char v[16];

    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        int n = snprintf(v, sizeof(v), "%u", h[i].value);
        if (n > 0 && (size_t)n < sizeof(v))
            MHD_add_response_header(resp, h[i].name, v);
    }
}

/* send_reply hands r->out to libmicrohttpd (which frees it) with r's headers. */
static enum MHD_Result
send_reply(struct request *r)
{
    size_t len;
    char *body = buf_steal(&r->out, &len);

    if (body == NULL)
        return MHD_NO;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    const char *ctype = r->content_type;
    if (ctype == NULL)
        ctype = r->fmt == QPS_JSON ? "application/json" : "application/xml; charset=utf-8";
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    if (r->rate.known)
        add_rate_headers(resp, &r->rate);
    enum MHD_Result ret = MHD_queue_response(r->conn, r->status ? r->status : 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* user_admitted turns an authentication result into a reply (false) or applies the
 * route's role rule (true when the user may call it). */
static bool
user_admitted(struct request *r, int rc, bool had_header)
{
    if (rc == ODS_E_LOCKED) {
        http_reply_errorf(r, 401, QPS_UNAUTHORIZED,
            "Wait for the lock-out to end, or ask a manager to reset the password.",
            "Account temporarily locked after repeated failed logins");
    } else if (rc == ODS_E_AUTH) {
        http_reply_errorf(r, 401, QPS_UNAUTHORIZED,
            "Send HTTP Basic credentials of an odscan user (Authorization: Basic ...).",
            had_header ? "Invalid user name or password" : "Authentication required");
    } else if (rc == ODS_E_SHUTDOWN) {
        http_reply_errorf(r, 503, QPS_SERVICE_UNAVAILABLE, "Retry in a few seconds.",
            "The server is shutting down");
        return false;
    } else if (rc != 0) {
        http_reply_internal(r, "credential check failed", rc);
        return false;
    }
    if (rc != 0) {
        http_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"odscan\"");
        return false;
    }
    if (!(r->route->roles & ROLE_BIT(r->who.role))) {
        http_reply_errorf(r, 403, QPS_OPERATION_NOT_PERMITTED,
            "Use an account whose role allows this call (a manager can change roles).",
            "User '%s' with role %s may not call %s %s", r->who.user, role_name(r->who.role),
            r->method, r->path);
        return false;
    }
    return true;
}

/* rate_admitted counts the call against the user's limits for the route's family;
 * over a limit it sets the 409 reply (with Retry-After) and returns false. */
static bool
rate_admitted(struct request *r)
{
    ratelimit_admit(r->srv->rate, r->who.user, r->route->family, &r->who.limits, mono_ms(),
        &r->rate);
    if (r->rate.admitted)
        return true;
    http_add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "%u", r->rate.to_wait_s);
    if (r->rate.running >= r->rate.concurrency)
        http_reply_errorf(r, 409, QPS_RATE_LIMIT_EXCEEDED,
            "Wait for your running calls to finish, then retry.",
            "Concurrency limit of %u running %s calls reached for user '%s'",
            r->rate.concurrency, rate_family_name(r->route->family), r->who.user);
    else
        http_reply_errorf(r, 409, QPS_RATE_LIMIT_EXCEEDED,
            "Retry after the number of seconds in X-RateLimit-ToWait-Sec.",
            "Rate limit of %u %s calls per %u s exceeded for user '%s'", r->rate.limit,
            rate_family_name(r->route->family), r->rate.window_s, r->who.user);
    return false;
}

/* verify_on_worker runs on a worker thread: the slow argon2id path of a cache miss. */
static void
verify_on_worker(struct work *w)
{
    struct request *r = (struct request *)(void *)((char *)w - offsetof(struct request, auth_work));

    r->auth_rc = auth_basic(r->srv->auth, r->authz, r->remote, &r->who);
    http_resume(r);
}

/* authenticate_agent checks an AUTH_AGENT route's Bearer credentials. */
static bool
authenticate_agent(struct request *r)
{
    const char *hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int rc = auth_agent(r->srv->auth, hdr, r->remote, &r->agent);

    if (rc == ODS_E_AUTH) {
        http_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"odscan-agent\"");
        http_reply_errorf(r, 401, QPS_UNAUTHORIZED,
            "Enroll the agent again if its state directory was lost.",
            "Unknown agent or wrong agent secret");
        return false;
    }
    if (rc != 0) {
        http_reply_internal(r, "agent credential check failed", rc);
        return false;
    }
    return true;
}

/* run_handler starts the route's handler once the caller is admitted. */
static enum handler_result
run_handler(struct request *r)
{
    if (r->route->auth == AUTH_AGENT && !authenticate_agent(r))
        return HANDLER_REPLY;
    r->phase = PHASE_HANDLER;
    return r->route->handle(r);
}

/* dispatch runs once per request, with the whole body in hand: limits, routing and
 * authentication, then the handler. A user whose credentials are not in the cache is
 * verified on a worker thread while the connection waits, suspended. */
static enum handler_result
dispatch(struct request *r)
{
    if (strlen(r->path) > HTTP_URL_MAX) {
        http_reply_errorf(r, 414, QPS_INVALID_REQUEST, "Use a shorter URL.",
            "URL longer than %d bytes", HTTP_URL_MAX);
        return HANDLER_REPLY;
    }
    if (r->route == NULL) {
        if (r->allow[0] != '\0') {
            http_add_header(r, MHD_HTTP_HEADER_ALLOW, "%s", r->allow);
            http_reply_errorf(r, 405, QPS_INVALID_REQUEST, "Use one of the allowed methods.",
                "Method %s is not allowed on %s (allowed: %s)", r->method, r->path, r->allow);
        } else {
            http_reply_errorf(r, 404, QPS_NOT_FOUND, "Check the URL against the API documentation.",
                "No API endpoint at %s", r->path);
        }
        return HANDLER_REPLY;
    }
    if (r->body_too_big) {
        http_reply_errorf(r, 413, QPS_INVALID_REQUEST, "Send a smaller request body.",
            "Request body larger than %zu bytes", r->body.max);
        return HANDLER_REPLY;
    }
    if (r->args_overflow) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Send fewer query parameters.",
            "More than %d query parameters", HTTP_ARGS_MAX);
        return HANDLER_REPLY;
    }
    if (r->route->auth == AUTH_USER) {
        const char *hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
            MHD_HTTP_HEADER_AUTHORIZATION);
        int rc = auth_basic_cached(r->srv->auth, hdr, &r->who);
        if (rc == ODS_E_NOTFOUND) {
            str_copy(r->authz, sizeof(r->authz), hdr);   /* fits: checked by the cache */
            r->phase = PHASE_AUTH;
            r->auth_work.run = verify_on_worker;
            http_suspend(r);
            if (workers_submit(r->srv->workers, &r->auth_work) != 0) {
                r->auth_rc = ODS_E_SHUTDOWN;
                http_resume(r);
            }
            return HANDLER_SUSPENDED;
        }
        if (!user_admitted(r, rc, hdr != NULL) || !rate_admitted(r))
            return HANDLER_REPLY;
    }
    return run_handler(r);
}

/* resumed continues a request after its connection was resumed. */
static enum handler_result
resumed(struct request *r)
{
    if (r->phase == PHASE_AUTH) {
        if (!user_admitted(r, r->auth_rc, true) || !rate_admitted(r))
            return HANDLER_REPLY;
        return run_handler(r);
    }
    if (r->route->resume != NULL)
        return r->route->resume(r);
    return HANDLER_REPLY;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct server *srv = cls;
    struct request *r = *con_cls;

    (void)version;
    if (r == NULL) {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return MHD_NO;
        r->srv = srv;
        r->conn = conn;
        r->commit.ops = r->commit.own;
        r->method = method;
        r->path = url;
        r->route = router_match(method, url, r->params, &r->nparams, r->allow, sizeof(r->allow));
        r->param = r->nparams > 0 ? r->params[0] : NULL;
        buf_init(&r->body, r->route && r->route->body_max ? r->route->body_max : QPS_BODY_MAX);
        buf_init(&r->out, ANSWER_MAX);
        remote_address(conn, r->remote, sizeof(r->remote));
        r->fmt = qps_format_from_accept(
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, r);
        *con_cls = r;
        atomic_fetch_add(&srv->inflight, 1);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->body_too_big && buf_append(&r->body, upload_data, *upload_data_size) != 0)
            r->body_too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    enum handler_result res = r->phase == PHASE_BODY ? dispatch(r) : resumed(r);
    if (res == HANDLER_SUSPENDED)
        return MHD_YES;
    return send_reply(r);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct request *r = *con_cls;

    (void)conn;
    (void)toe;
    if (r == NULL)
        return;
    ratelimit_release(srv->rate, &r->rate);
    request_free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->inflight, 1);
}

/* mhd_log routes libmicrohttpd's own messages (TLS handshake failures, ...) into our
 * log, one line each. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];

    (void)cls;
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n <= 0)
        return;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    log_debug("libmicrohttpd: %s", line);
}

/* accept_policy refuses every new connection once shutdown began. */
static enum MHD_Result
accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct server *s = cls;

    (void)addr;
    (void)addrlen;
    return atomic_load(&s->refusing) ? MHD_NO : MHD_YES;
}

/* parse_listen splits "ADDR:PORT" / "[V6]:PORT" into a socket address. */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, bool *loopback)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    uint64_t port;

    if (colon == NULL || parse_u64(colon + 1, 65535, &port) != 0 || port == 0)
        return ODS_E_INVAL;
    size_t hlen = (size_t)(colon - listen);
    const char *h = listen;
    if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= sizeof(host))
        return ODS_E_INVAL;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return ODS_E_OK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return ODS_E_OK;
    }
    return ODS_E_INVAL;
}

int
http_daemon_start(struct server *s, char *err, size_t n)
{
    struct sockaddr_storage ss;
    bool loopback = false;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

    if (parse_listen(s->cfg.listen, &ss, &loopback) != 0) {
        snprintf(err, n, "--listen '%s' is not ADDR:PORT with a numeric address", s->cfg.listen);
        return ODS_E_INVAL;
    }
    if (s->cfg.insecure_http && !loopback) {
        snprintf(err, n, "--insecure-http is only allowed on a loopback address, not %s", s->cfg.listen);
        return ODS_E_INVAL;
    }
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (!s->cfg.insecure_http)
        flags |= MHD_USE_TLS;

    struct MHD_OptionItem opts[] = {
        { MHD_OPTION_SOCK_ADDR, 0, &ss },
        { MHD_OPTION_THREAD_POOL_SIZE, s->cfg.threads, NULL },
        { MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, NULL },
        { MHD_OPTION_CONNECTION_LIMIT, s->cfg.connection_limit, NULL },
        { MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL },
        { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s },
        { MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL },
        { s->cfg.insecure_http ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem },
        { MHD_OPTION_END, 0, NULL },
    };
    s->daemon = MHD_start_daemon(flags, 0, accept_policy, s, on_request, s,
        MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(err, n, "cannot listen on %s (address in use, or bad TLS certificate/key)", s->cfg.listen);
        return ODS_E_IO;
    }
    return ODS_E_OK;
}

void
http_daemon_quiesce(struct server *s)
{
    /* Not MHD_quiesce_daemon(): with epoll worker threads it races with the workers'
     * own removal of the listen socket from their epoll sets and libmicrohttpd aborts
     * the process (an open defect in 0.9.75, seen here under load). New connections
     * are refused by accept_policy instead. */
    atomic_store(&s->refusing, true);
}

void
http_daemon_stop(struct server *s)
{
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}
