/* server.c - start, run and stop odscand's parts in the right order. */
#include "server.h"
#include "err.h"
#include "log.h"
#include "qps.h"
#include "scan.h"
#include "api.h"
#include "tls.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 10000
#define AUTH_WORKERS      2      /* argon2id verifications at once: ~64 MiB each */
#define SLOW_WORKERS      1      /* knowledge-base imports at once */

/* listen_host extracts the host part of "ADDR:PORT" / "[V6]:PORT" into out. */
static void
listen_host(const char *listen, char *out, size_t n)
{
    const char *colon = strrchr(listen, ':');
    size_t len = colon ? (size_t)(colon - listen) : strlen(listen);

    if (len >= 2 && listen[0] == '[' && listen[len - 1] == ']') {
        listen++;
        len -= 2;
    }
    if (len >= n)
        len = n - 1;
    memcpy(out, listen, len);
    out[len] = '\0';
}

static int
prepare_tls(struct server *s, char *err, size_t n)
{
    char cert[PATH_MAX], key[PATH_MAX], host[256], fp[128];
    int created = 0;
    int rc;

    if (s->cfg.tls_cert[0] != '\0') {
        str_copy(cert, sizeof(cert), s->cfg.tls_cert);
        str_copy(key, sizeof(key), s->cfg.tls_key);
    } else {
        listen_host(s->cfg.listen, host, sizeof(host));
        rc = tls_ensure_self_signed(s->cfg.state_dir, host, cert, key, sizeof(cert), &created);
        if (rc != 0) {
            snprintf(err, n, "cannot prepare a certificate in %s/tls: %s", s->cfg.state_dir, err_msg(rc));
            return rc;
        }
    }
    rc = tls_read_pem(cert, &s->cert_pem);
    if (rc == 0)
        rc = tls_read_pem(key, &s->key_pem);
    if (rc != 0) {
        snprintf(err, n, "cannot read TLS certificate %s or key %s: %s", cert, key, err_msg(rc));
        return rc;
    }
    if (tls_fingerprint_sha256(s->cert_pem, fp, sizeof(fp)) != 0) {
        snprintf(err, n, "%s holds no usable certificate", cert);
        return ODS_E_TLS;
    }
    log_info("%s certificate %s, SHA-256 fingerprint %s", created ? "generated self-signed" : "using",
        cert, fp);
    return ODS_E_OK;
}

/* before_commit runs on the committer thread before a batch is written: an agent
 * waiting for an asset this batch launches on gets its claim into the same
 * transaction, so the job reaches it with one fsync instead of two. */
static size_t
before_commit(void *ctx, const struct store_op *ops, size_t n, struct commit_item **extra,
    size_t cap)
{
    struct server *s = ctx;
    size_t k = 0;

    for (size_t i = 0; i < n && k < cap; i++) {
        if (ops[i].kind != STORE_OP_LAUNCH)
            continue;
        struct commit_item *claim = api_agent_checkin_take(s->hub, ops[i].u.launch.asset_id);
        if (claim != NULL)
            extra[k++] = claim;
    }
    return k;
}

/* after_commit runs on the committer thread after each committed batch: every job a
 * launch created wakes its asset's waiting agent (one not served by before_commit:
 * e.g. one that started waiting while the batch was written); every stored
 * manifest goes to the assessment thread. */
static void
after_commit(void *ctx, const struct store_op *ops, size_t n)
{
    struct server *s = ctx;

    for (size_t i = 0; i < n; i++) {
        const struct launch *l = &ops[i].u.launch;
        const struct job_update *u = &ops[i].u.update;
        if (ops[i].kind == STORE_OP_LAUNCH && ops[i].result == 0 && l->result == 0 && !l->existing)
            dispatch_notify(s->hub, l->asset_id);
        /* a manifest just stored (or confirmed by its hash): assess it off this thread */
        if (ops[i].kind == STORE_OP_JOB_FINISH && ops[i].result == 0 && !u->duplicate &&
            u->final_state == JOB_COMPLETED && u->scan_type == SCAN_VULNERABILITY &&
            u->manifest_hash != NULL)
            assessor_enqueue(s->assess, u->asset_id);
    }
}

/* on_job_event: another node committed a job for asset_id (0: maybe for any). */
static void
on_job_event(void *ctx, int64_t asset_id)
{
    struct server *s = ctx;

    if (asset_id > 0)
        dispatch_notify(s->hub, asset_id);
    else
        dispatch_notify_all(s->hub);
}

/* sweep_jobs hands out again the jobs whose lease ran out (waking their agents) and
 * expires the ones nobody picked up in time. */
static void
sweep_jobs(struct server *s)
{
    int64_t assets[256];
    size_t requeued = 0, expired = 0, nassets = 0;
    int rc = store_jobs_sweep(s->store, now_ms(), (int64_t)s->cfg.job_expiry_s * 1000,
        &requeued, &expired, assets, sizeof(assets) / sizeof(assets[0]), &nassets);

    if (rc != 0) {
        log_warn("%s: job sweep failed: %s", __func__, err_msg(rc));
        return;
    }
    if (requeued > 0 || expired > 0)
        log_info("%s: %zu job(s) handed out again after their lease ran out, %zu expired",
            __func__, requeued, expired);
    for (size_t i = 0; i < nassets; i++)
        dispatch_notify(s->hub, assets[i]);
}

void
server_audit(struct server *s, const char *user, const char *remote, const char *action,
    const char *target, const char *result, const char *detail)
{
    struct commit_item *item = calloc(1, sizeof(*item));
    struct audit_entry *a = calloc(1, sizeof(*a));

    if (item == NULL || a == NULL)
        goto fail;
    a->at_ms = now_ms();
    str_copy(a->user, sizeof(a->user), user);
    str_copy(a->remote, sizeof(a->remote), remote);
    str_copy(a->action, sizeof(a->action), action);
    str_copy(a->target, sizeof(a->target), target);
    str_copy(a->result, sizeof(a->result), result);
    str_copy(a->detail, sizeof(a->detail), detail);
    item->audit = a;
    if (committer_submit(s->committer, item) == 0)
        return;
fail:
    log_warn("%s: audit entry '%s %s' from %s dropped", __func__, action, target, remote);
    free(a);
    free(item);
}

int
server_start(struct server *s, char *err, size_t n)
{
    char db[sizeof(s->cfg.db)];
    const char *why = NULL;
    int rc;

    atomic_store(&s->refusing, false);
    atomic_store(&s->inflight, 0);
    if (mkdir(s->cfg.state_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, n, "cannot create state directory %s: %s", s->cfg.state_dir, strerror(errno));
        return ODS_E_IO;
    }
    if (s->cfg.db[0] != '\0')
        str_copy(db, sizeof(db), s->cfg.db);
    else if (snprintf(db, sizeof(db), "sqlite:%s/odscan.db", s->cfg.state_dir) >= (int)sizeof(db)) {
        snprintf(err, n, "state directory path too long");
        return ODS_E_TOOBIG;
    }
    rc = store_open(db, &s->store, &why);
    if (rc != 0) {
        snprintf(err, n, "cannot open database: %s", why ? why : err_msg(rc));
        goto fail;
    }
    if (!s->cfg.insecure_http && (rc = prepare_tls(s, err, n)) != 0)
        goto fail;
    if (s->cfg.public_url[0] != '\0')
        str_copy(s->base_url, sizeof(s->base_url), s->cfg.public_url);
    else
        snprintf(s->base_url, sizeof(s->base_url), "%s://%s",
            s->cfg.insecure_http ? "http" : "https", s->cfg.listen);
    struct auth_config ac = {
        .max_failures = s->cfg.lockout_failures,
        .window_ms = (int64_t)s->cfg.lockout_window_s * 1000,
        .lock_ms = (int64_t)s->cfg.lockout_duration_s * 1000,
        .cache_ttl_ms = (int64_t)s->cfg.auth_cache_ttl_s * 1000,
    };
    if ((rc = auth_new(s->store, &ac, &s->auth)) != 0) {
        snprintf(err, n, "cannot set up authentication: %s", err_msg(rc));
        goto fail;
    }
    struct rate_defaults rd = {
        .calls = s->cfg.rate_calls,
        .window_s = s->cfg.rate_window_s,
        .concurrency = s->cfg.rate_concurrency,
    };
    if ((rc = ratelimit_new(&rd, &s->rate)) != 0) {
        snprintf(err, n, "cannot set up rate limits: %s", err_msg(rc));
        goto fail;
    }
    if ((rc = workers_start(AUTH_WORKERS, &s->workers)) != 0) {
        snprintf(err, n, "cannot start worker threads: %s", err_msg(rc));
        goto fail;
    }
    if ((rc = workers_start(SLOW_WORKERS, &s->slow)) != 0) {
        snprintf(err, n, "cannot start worker threads: %s", err_msg(rc));
        goto fail;
    }
    if ((rc = assessor_start(s->store, &s->assess)) != 0) {
        snprintf(err, n, "cannot start the assessment thread: %s", err_msg(rc));
        goto fail;
    }
    if ((rc = dispatch_new(api_agent_checkin_wake, &s->hub)) != 0) {
        snprintf(err, n, "cannot set up dispatch: %s", err_msg(rc));
        goto fail;
    }
    if ((rc = committer_start(s->store, s->cfg.batch_max, before_commit, after_commit, s,
            &s->committer)) != 0) {
        snprintf(err, n, "cannot start the committer: %s", err_msg(rc));
        goto fail;
    }
    rc = store_watch_jobs(s->store, on_job_event, s);
    if (rc != 0 && rc != ODS_E_UNSUPPORTED) {
        snprintf(err, n, "cannot watch the database for other nodes' jobs: %s", err_msg(rc));
        goto fail;
    }
    qps_init();
    if ((rc = http_daemon_start(s, err, n)) != 0)
        goto fail;
    log_info("odscand %s listening on %s (%s), database %s", ODSCAN_VERSION, s->cfg.listen,
        s->cfg.insecure_http ? "plain HTTP" : "HTTPS", db);
    return ODS_E_OK;
fail:
    server_stop(s);
    return rc;
}

void
server_run(struct server *s, volatile sig_atomic_t *stop)
{
    const struct timespec tick = { 0, 200 * 1000 * 1000 };
    int64_t next_second = 0;

    while (!*stop) {
        nanosleep(&tick, NULL);
        int64_t now = mono_ms();
        dispatch_expire(s->hub, now);
        if (now >= next_second) {
            auth_refresh(s->auth);
            sweep_jobs(s);
            next_second = now + 1000;
        }
    }
}

void
server_stop(struct server *s)
{
    const struct timespec pause = { 0, 10 * 1000 * 1000 };

    if (s->daemon != NULL) {
        http_daemon_quiesce(s);
        /* Answer the held check-ins first: they are in flight until their hold runs
         * out, so waiting for them would take the whole grace period. */
        if (s->hub != NULL)
            dispatch_close(s->hub);
        int64_t deadline = mono_ms() + SHUTDOWN_GRACE_MS;
        while (atomic_load(&s->inflight) > 0 && mono_ms() < deadline)
            nanosleep(&pause, NULL);
        if (atomic_load(&s->inflight) > 0)
            log_warn("%s: %ld requests still in flight at shutdown", __func__, atomic_load(&s->inflight));
    }
    /* Waiting check-ins are answered (agents come back later); every operation handed
     * to the committer is committed (or failed) and its connection resumed before the
     * daemon goes away; a request still arriving on an open connection is refused
     * with 503 by the closed hub and the stopped (not yet freed) committer. */
    committer_stop(s->committer);
    workers_stop(s->workers);      /* runs what is queued: every parked request resumes */
    workers_stop(s->slow);
    http_daemon_stop(s);
    workers_free(s->workers);
    s->workers = NULL;
    workers_free(s->slow);
    s->slow = NULL;
    assessor_free(s->assess);
    s->assess = NULL;
    committer_free(s->committer);
    s->committer = NULL;
    dispatch_free(s->hub);
    s->hub = NULL;
    auth_free(s->auth);
    s->auth = NULL;
    ratelimit_free(s->rate);      /* after the daemon: completions release into it */
    s->rate = NULL;
    store_close(s->store);
    s->store = NULL;
    qps_cleanup();
    free(s->cert_pem);
    free(s->key_pem);
    s->cert_pem = s->key_pem = NULL;
}
