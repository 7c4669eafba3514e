/* server.h - odscand as a whole: the store, authentication, the group committer and
 * the HTTP daemon, started and stopped together. */
#ifndef ODSCAN_SERVER_H
#define ODSCAN_SERVER_H

#include "assess.h"
#include "auth.h"
#include "committer.h"
#include "config.h"
#include "dispatch.h"
#include "ratelimit.h"
#include "workers.h"
#include "store.h"

#include <signal.h>
#include <stdatomic.h>

struct MHD_Daemon;

struct server {
    struct server_config cfg;
    store_t             *store;
    auth_t              *auth;
    ratelimit_t         *rate;            /* per-user API limits of this node */
    committer_t         *committer;
    dispatch_t          *hub;             /* check-ins waiting for a job */
    workers_t           *workers;         /* password verification off the event loops */
    workers_t           *slow;            /* knowledge-base imports off the event loops */
    assessor_t          *assess;          /* vulnerability assessment */
    struct MHD_Daemon   *daemon;
    char                 base_url[600];
    char                *cert_pem;
    char                *key_pem;
    atomic_long          inflight;        /* requests between arrival and completion */
    atomic_bool          refusing;        /* shutdown began: new connections are refused */
};

/* server_start opens the store, prepares TLS (generating a self-signed certificate on
 * first start), starts the committer and the HTTP daemon. On failure writes a one-line
 * reason into err (size n), releases what it started and returns a negative code. */
int server_start(struct server *s, char *err, size_t n);
/* server_run serves until *stop becomes non-zero (set from a signal handler), doing
 * periodic housekeeping. */
void server_run(struct server *s, volatile sig_atomic_t *stop);
/* server_stop stops accepting, lets in-flight requests finish (at most ~10 s), flushes
 * pending commits and releases everything. */
void server_stop(struct server *s);

/* server_audit queues an audit entry for the committer to write; nobody waits for it
 * and a failure is logged, not returned (the caller's request goes on). */
void server_audit(struct server *s, const char *user, const char *remote, const char *action,
    const char *target, const char *result, const char *detail);

/* http_daemon_start / http_daemon_stop are the libmicrohttpd part (http.c);
 * http_daemon_quiesce makes it refuse new connections. */
int http_daemon_start(struct server *s, char *err, size_t n);
void http_daemon_quiesce(struct server *s);
void http_daemon_stop(struct server *s);

#endif
