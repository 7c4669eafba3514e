/* agent_client.c - libcurl glue of the agent: keep-alive easy handle, Bearer header,
 * CA file, timeouts, bounded response bodies, abort on shutdown. */
#include "agent_client.h"
#include "buf.h"
#include "err.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URL_MAX    2048
#define HEADER_MAX 1200

struct agent_client {
    CURL              *curl;
    struct curl_slist *headers;
    char               base[URL_MAX];
    char               error[CURL_ERROR_SIZE];
    bool             (*should_stop)(void);
    struct buf         reply;
};

static const char *const loopback_hosts[] = { "127.0.0.1", "[::1]", "::1", "localhost" };

int
agent_client_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? ODS_E_OK : ODS_E_IO;
}

void
agent_client_global_cleanup(void)
{
    curl_global_cleanup();
}

static void
set_msg(char *err, size_t n, const char *msg, const char *arg)
{
    if (snprintf(err, n, "%s%s", msg, arg) < 0 && n > 0)
        err[0] = '\0';
}

int
agent_client_check_url(const char *url, char *err, size_t n)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = ODS_E_INVAL;

    if (u == NULL) {
        set_msg(err, n, "out of memory", "");
        return ODS_E_NOMEM;
    }
    if (strlen(url) >= URL_MAX - 64
        || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        set_msg(err, n, "--server: not a URL: ", url);
        goto out;
    }
    if (strcasecmp(scheme, "https") == 0) {
        rc = ODS_E_OK;
    } else if (strcasecmp(scheme, "http") == 0) {
        for (size_t i = 0; i < sizeof(loopback_hosts) / sizeof(loopback_hosts[0]); i++)
            if (strcasecmp(host, loopback_hosts[i]) == 0)
                rc = ODS_E_OK;
        if (rc != ODS_E_OK)
            set_msg(err, n, "--server: http:// is only allowed to a loopback address, not ", host);
    } else {
        set_msg(err, n, "--server: expects an https:// URL, not ", url);
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct buf *b = arg;

    /* Returning less than given makes curl fail the transfer (CURLE_WRITE_ERROR). */
    return buf_append(b, p, size * nmemb) == ODS_E_OK ? size * nmemb : 0;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct agent_client *c = arg;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return c->should_stop != NULL && c->should_stop() ? 1 : 0;
}

/* set_headers rebuilds the header list, with the Bearer line when auth is non-NULL. */
static int
set_headers(struct agent_client *c, const char *auth)
{
    struct curl_slist *list = NULL, *next;
    static const char *const fixed[] = {
        "Content-Type: application/json", "Accept: application/json", "Expect:",
    };

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if ((next = curl_slist_append(list, fixed[i])) == NULL)
            goto fail;
        list = next;
    }
    if (auth != NULL) {
        if ((next = curl_slist_append(list, auth)) == NULL)
            goto fail;
        list = next;
    }
    curl_slist_free_all(c->headers);
    c->headers = list;
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    return ODS_E_OK;
fail:
    curl_slist_free_all(list);
    return ODS_E_NOMEM;
}

int
agent_client_new(const char *base_url, const char *ca_file, bool (*should_stop)(void),
    agent_client_t **out)
{
    struct agent_client *c = calloc(1, sizeof(*c));
    char err[256];
    int rc = ODS_E_NOMEM;

    if (c == NULL)
        return ODS_E_NOMEM;
    buf_init(&c->reply, AGENT_CLIENT_REPLY_MAX);
    c->should_stop = should_stop;
    if (agent_client_check_url(base_url, err, sizeof(err)) != ODS_E_OK
        || str_copy(c->base, sizeof(c->base), base_url) != ODS_E_OK) {
        rc = ODS_E_INVAL;
        goto fail;
    }
    size_t len = strlen(c->base);
    while (len > 0 && c->base[len - 1] == '/')
        c->base[--len] = '\0';
    if ((c->curl = curl_easy_init()) == NULL)
        goto fail;
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->error);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, (long)AGENT_CLIENT_CONNECT_S);
    curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "odscan-agent/" ODSCAN_VERSION);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->reply);
    curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
    if (ca_file != NULL) {
        /* Trust exactly this file: without clearing CAPATH, libcurl also loads the
         * whole system store (/etc/ssl/certs), several MiB of heap kept for the
         * agent's lifetime. */
        if (curl_easy_setopt(c->curl, CURLOPT_CAINFO, ca_file) != CURLE_OK ||
            curl_easy_setopt(c->curl, CURLOPT_CAPATH, NULL) != CURLE_OK)
            goto fail;
    }
    if ((rc = set_headers(c, NULL)) != ODS_E_OK)
        goto fail;
    *out = c;
    return ODS_E_OK;
fail:
    agent_client_free(c);
    return rc;
}

void
agent_client_free(agent_client_t *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    buf_free(&c->reply);
    free(c);
}

int
agent_client_set_auth(agent_client_t *c, const char *uuid, const char *secret)
{
    char line[HEADER_MAX];
    int n = snprintf(line, sizeof(line), "Authorization: Bearer %s:%s", uuid, secret);
    int rc;

    if (n < 0 || (size_t)n >= sizeof(line))
        return ODS_E_TOOBIG;
    rc = set_headers(c, line);
    explicit_bzero(line, sizeof(line));
    return rc;
}

static int
curl_code(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK:                    return ODS_E_OK;
    case CURLE_OUT_OF_MEMORY:         return ODS_E_NOMEM;
    case CURLE_ABORTED_BY_CALLBACK:   return ODS_E_SHUTDOWN;
    case CURLE_WRITE_ERROR:           return ODS_E_TOOBIG;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:       return ODS_E_TLS;
    default:                          return ODS_E_IO;
    }
}

int
agent_client_post(agent_client_t *c, const char *path, const char *body, size_t len,
    long timeout_s, long *status, json_t **reply)
{
    char url[URL_MAX];
    int n = snprintf(url, sizeof(url), "%s%s", c->base, path);
    int rc;

    *reply = NULL;
    *status = 0;
    if (n < 0 || (size_t)n >= sizeof(url))
        return ODS_E_TOOBIG;
    buf_reset(&c->reply);
    c->error[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, timeout_s);
    CURLcode cc = curl_easy_perform(c->curl);
    if ((rc = curl_code(cc)) != ODS_E_OK) {
        if (c->error[0] == '\0')
            str_copy(c->error, sizeof(c->error), curl_easy_strerror(cc));
        return rc;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    if (c->reply.len > 0)
        *reply = json_loadb(c->reply.data, c->reply.len, 0, NULL);
    return ODS_E_OK;
}

int
agent_client_post_json(agent_client_t *c, const char *path, const json_t *body,
    long timeout_s, long *status, json_t **reply)
{
    char *text = json_dumps(body, JSON_COMPACT);
    int rc;

    *reply = NULL;
    if (text == NULL)
        return ODS_E_NOMEM;
    rc = agent_client_post(c, path, text, strlen(text), timeout_s, status, reply);
    free(text);
    return rc;
}

const char *
agent_client_error(const agent_client_t *c)
{
    return c->error;
}
