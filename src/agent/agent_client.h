/* agent_client.h - the agent's HTTPS JSON client for /agent/v1/: one libcurl easy
 * handle reused for keep-alive, a trust anchor, the Bearer credentials, timeouts and
 * bounded response bodies. Not thread-safe; one per agent. */
#ifndef ODSCAN_AGENT_CLIENT_H
#define ODSCAN_AGENT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define AGENT_CLIENT_REPLY_MAX   (4u * 1024 * 1024)  /* largest response body read */
#define AGENT_CLIENT_CONNECT_S   10

typedef struct agent_client agent_client_t;

/* agent_client_global_init initialises libcurl once per process, before any other
 * thread exists. Returns 0 or ODS_E_IO. */
int agent_client_global_init(void);
/* agent_client_global_cleanup undoes it at exit. */
void agent_client_global_cleanup(void);

/* agent_client_check_url accepts https://HOST[:PORT][/prefix], and http:// only to a
 * loopback host (127.0.0.1, ::1, localhost), where odscand may serve plain HTTP.
 * Returns 0 or ODS_E_INVAL with a one-line reason in err (size n). */
int agent_client_check_url(const char *url, char *err, size_t n);

/* agent_client_new makes a client for base_url (checked as above), trusting ca_file
 * (PEM) when non-NULL, else the system store. should_stop, when non-NULL, is polled
 * during transfers and aborts them. Caller frees *out with agent_client_free.
 * Returns 0, ODS_E_NOMEM or ODS_E_IO. */
int agent_client_new(const char *base_url, const char *ca_file, bool (*should_stop)(void),
    agent_client_t **out);
/* agent_client_free releases the client. NULL-safe. */
void agent_client_free(agent_client_t *c);
/* agent_client_set_auth makes every later request carry
 * "Authorization: Bearer <uuid>:<secret>". Returns 0, ODS_E_TOOBIG or ODS_E_NOMEM. */
int agent_client_set_auth(agent_client_t *c, const char *uuid, const char *secret);

/* agent_client_post sends body (len bytes of JSON) to base_url + path and waits at
 * most timeout_s seconds in all (connecting at most AGENT_CLIENT_CONNECT_S). On 0,
 * *status is the HTTP status and *reply the parsed JSON body (NULL when empty or not
 * JSON; caller decrefs). Returns 0, ODS_E_IO (network), ODS_E_TLS (TLS handshake or
 * verification), ODS_E_TOOBIG (reply above AGENT_CLIENT_REPLY_MAX), ODS_E_SHUTDOWN
 * (aborted by should_stop) or ODS_E_NOMEM; agent_client_error tells more. */
int agent_client_post(agent_client_t *c, const char *path, const char *body, size_t len,
    long timeout_s, long *status, json_t **reply);
/* agent_client_post_json is agent_client_post with body serialised from a JSON value. */
int agent_client_post_json(agent_client_t *c, const char *path, const json_t *body,
    long timeout_s, long *status, json_t **reply);
/* agent_client_error describes the last failure of c (libcurl's words); never NULL. */
const char *agent_client_error(const agent_client_t *c);

#endif
