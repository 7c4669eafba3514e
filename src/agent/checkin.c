/* checkin.c - the check-in loop: spool flush, long poll, job start/heartbeat/result,
 * with exponential backoff (full jitter) on network errors and 5xx answers. */
#include "checkin.h"
#include "enroll.h"
#include "err.h"
#include "log.h"
#include "manifest.h"
#include "profile.h"
#include "runner.h"
#include "scan.h"
#include "scans/scans.h"
#include "signals.h"
#include "spool.h"
#include "statefile.h"
#include "util.h"

#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALL_TIMEOUT_S      30    /* start, heartbeat */
#define RESULT_TIMEOUT_S    120   /* a result may be 16 MiB */
#define JOBS_MAX            64    /* jobs taken from one check-in answer */
#define IDLE_MIN_MS         1000  /* an empty answer sooner than this: wait the rest */
#define SCAN_TYPE_MAX       64
/* In the state directory: the hash of the last manifest the server accepted in full. */
#define MANIFEST_STATE      "vuln_manifest.sha256"
/* How the server's 409 asking for a whole manifest begins. */
#define MANIFEST_UNKNOWN    "manifest unknown"

struct job {
    uint64_t id;
    char     scan_type[SCAN_TYPE_MAX];
    bool     override_cpu;
    unsigned lease_s;
};

struct loop {
    struct checkin_config *cfg;
    struct profile         profile;
    char                   spool_dir[PATH_MAX];
    unsigned               failures;   /* consecutive; drives the backoff */
};

/* Heartbeat state while a job's scan runs. */
struct beat {
    struct loop    *lp;
    const struct job *job;
    int64_t         every_ms;
    int64_t         next_ms;
};

int64_t
checkin_backoff_ms(unsigned attempt)
{
    int64_t ceiling = CHECKIN_BACKOFF_BASE_MS;

    for (unsigned i = 0; i < attempt && ceiling < CHECKIN_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > CHECKIN_BACKOFF_CAP_MS)
        ceiling = CHECKIN_BACKOFF_CAP_MS;
    return (int64_t)randombytes_uniform((uint32_t)ceiling + 1);
}

/* back_off sleeps before the next attempt; false when a stop cut the sleep short. */
static bool
back_off(struct loop *lp)
{
    int64_t ms = checkin_backoff_ms(lp->failures);

    if (lp->failures < 32)
        lp->failures++;
    log_debug("%s: retrying in %" PRId64 " ms", __func__, ms);
    return signals_sleep_ms(ms);
}

static void
job_path(char *dst, size_t n, uint64_t id, const char *verb)
{
    if (snprintf(dst, n, "/agent/v1/jobs/%" PRIu64 "/%s", id, verb) < 0 && n > 0)
        dst[0] = '\0';
}

/* post logs a failed call once; returns the client's code. */
static int
post(struct loop *lp, const char *path, const json_t *body, long timeout_s, long *status,
    json_t **reply)
{
    int rc = agent_client_post_json(lp->cfg->client, path, body, timeout_s, status, reply);

    if (rc != ODS_E_OK && rc != ODS_E_SHUTDOWN)
        log_warn("%s: POST %s: %s (%s)", __func__, path, err_msg(rc),
            agent_client_error(lp->cfg->client));
    return rc;
}

/* ---- results ---------------------------------------------------------------------- */

/* upload_verdict says what an answer to a result upload means for the spooled copy. */
enum verdict { KEEP, DONE, DROP };

static enum verdict
upload_verdict(long status)
{
    static const long hopeless[] = { 400, 404, 409, 410, 413, 422 };

    if (status == 200)
        return DONE;
    for (size_t i = 0; i < sizeof(hopeless) / sizeof(hopeless[0]); i++)
        if (status == hopeless[i])
            return DROP;
    return KEEP;   /* 401, 408, 429, 5xx...: the server may take it later */
}

/* post_result sends one result body. On 0, *status is the HTTP status and *manifest_unknown
 * tells whether a 409 asks for the whole manifest. */
static int
post_result(struct loop *lp, uint64_t job_id, const char *body, size_t len, long *status,
    bool *manifest_unknown)
{
    char path[128];
    json_t *reply = NULL;

    job_path(path, sizeof(path), job_id, "result");
    int rc = agent_client_post(lp->cfg->client, path, body, len, RESULT_TIMEOUT_S, status, &reply);
    const char *error = json_string_value(json_object_get(reply, "error"));
    *manifest_unknown = rc == ODS_E_OK && *status == 409 && error != NULL &&
        strncmp(error, MANIFEST_UNKNOWN, strlen(MANIFEST_UNKNOWN)) == 0;
    json_decref(reply);
    return rc;
}

/* manifest_of returns the manifest hash of a COMPLETED Vulnerability_Scan body (a
 * full manifest), or NULL; caller frees. */
static char *
manifest_of(const char *body, size_t len)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    json_t *result = json_object_get(doc, "result");
    const char *hash = json_string_value(json_object_get(result, "manifest_hash"));
    char *copy = NULL;

    if (hash != NULL && json_is_array(json_object_get(result, "packages")))
        copy = strdup(hash);
    json_decref(doc);
    return copy;
}

/* accepted_hash reads the hash of the last manifest the server accepted in full. */
static bool
accepted_hash(const struct loop *lp, char out[MANIFEST_HASH_LEN])
{
    char path[PATH_MAX], *data = NULL;
    size_t len = 0;

    if (snprintf(path, sizeof(path), "%s/%s", lp->cfg->state_dir, MANIFEST_STATE) >= (int)sizeof(path)
        || statefile_read(path, MANIFEST_HASH_LEN, &data, &len) != ODS_E_OK)
        return false;
    bool ok = len == MANIFEST_HASH_LEN - 1 && str_copy(out, MANIFEST_HASH_LEN, data) == 0;
    free(data);
    return ok;
}

/* send_result uploads a result; a full manifest the server already holds goes as its
 * hash only, and whole again when the server answers that it does not know the hash.
 * After a 200 for a whole manifest its hash is remembered. */
static int
send_result(struct loop *lp, uint64_t job_id, const char *body, size_t len, long *status)
{
    char *hash = manifest_of(body, len), accepted[MANIFEST_HASH_LEN];
    bool unknown = false;
    int rc;

    if (hash != NULL && accepted_hash(lp, accepted) && strcmp(hash, accepted) == 0) {
        json_t *small = json_pack("{s:s, s:{s:s, s:b}}", "status", "COMPLETED", "result",
            "manifest_hash", hash, "unchanged", 1);
        char *text = small != NULL ? json_dumps(small, JSON_COMPACT) : NULL;
        json_decref(small);
        if (text == NULL) {
            free(hash);
            return ODS_E_NOMEM;
        }
        rc = post_result(lp, job_id, text, strlen(text), status, &unknown);
        free(text);
        if (rc != ODS_E_OK || !unknown) {
            if (rc == ODS_E_OK && *status == 200)
                log_info("job %" PRIu64 ": manifest unchanged; sent its hash only", job_id);
            free(hash);
            return rc;
        }
        log_info("job %" PRIu64 ": the server does not hold manifest %.12s; sending it in full",
            job_id, hash);
    }
    rc = post_result(lp, job_id, body, len, status, &unknown);
    if (rc == ODS_E_OK && *status == 200 && hash != NULL &&
        statefile_write(lp->cfg->state_dir, MANIFEST_STATE, hash, strlen(hash), 0600) != ODS_E_OK)
        log_warn("%s: cannot save %s/%s: %m", __func__, lp->cfg->state_dir, MANIFEST_STATE);
    free(hash);
    return rc;
}

/* upload sends a spooled result body. Returns 0 when the spool entry is settled
 * (acknowledged or hopeless), ODS_E_BUSY when it must be retried later. */
static int
upload(struct loop *lp, uint64_t job_id, const char *body, size_t len)
{
    long status = 0;
    int rc = send_result(lp, job_id, body, len, &status);

    if (rc == ODS_E_SHUTDOWN)
        return rc;
    if (rc != ODS_E_OK) {
        log_warn("%s: job %" PRIu64 ": %s (%s); kept in the spool", __func__, job_id, err_msg(rc),
            agent_client_error(lp->cfg->client));
        return ODS_E_BUSY;
    }
    switch (upload_verdict(status)) {
    case DONE:
        log_info("job %" PRIu64 ": result delivered", job_id);
        break;
    case DROP:
        log_warn("job %" PRIu64 ": server refused the result with HTTP %ld; dropped", job_id, status);
        break;
    case KEEP:
        log_warn("job %" PRIu64 ": server answered HTTP %ld; result kept in the spool", job_id, status);
        return ODS_E_BUSY;
    }
    if (spool_remove(lp->spool_dir, job_id) != ODS_E_OK)
        log_warn("%s: cannot remove spooled result of job %" PRIu64 ": %m", __func__, job_id);
    return ODS_E_OK;
}

/* spool_flush uploads every spooled result, oldest first; stops at the first one
 * that must wait. Returns 0 when the spool is empty afterwards. */
static int
flush_spool(struct loop *lp)
{
    uint64_t *ids = NULL;
    size_t n = 0;
    int rc = spool_list(lp->spool_dir, &ids, &n);

    if (rc != ODS_E_OK) {
        log_error("%s: cannot list %s: %s", __func__, lp->spool_dir, err_msg(rc));
        return rc;
    }
    for (size_t i = 0; i < n && rc == ODS_E_OK; i++) {
        char *body = NULL;
        size_t len = 0;
        int got = spool_get(lp->spool_dir, ids[i], &body, &len);
        if (got == ODS_E_NOTFOUND)
            continue;
        if (got != ODS_E_OK) {
            log_error("%s: spooled result of job %" PRIu64 " unreadable (%s); dropped", __func__,
                ids[i], err_msg(got));
            spool_remove(lp->spool_dir, ids[i]);
            continue;
        }
        rc = upload(lp, ids[i], body, len);
        free(body);
    }
    free(ids);
    return rc;
}

/* deliver spools the result body first (so nothing is lost to a crash), then
 * uploads it; a failed upload leaves it for the next flush. */
static int
deliver(struct loop *lp, uint64_t job_id, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    int rc;

    if (text == NULL)
        return ODS_E_NOMEM;
    rc = spool_put(lp->spool_dir, job_id, text, strlen(text));
    if (rc != ODS_E_OK)
        log_error("%s: cannot spool the result of job %" PRIu64 " (%s); uploading directly",
            __func__, job_id, err_msg(rc));
    rc = upload(lp, job_id, text, strlen(text));
    free(text);
    return rc;
}

/* ---- jobs ----------------------------------------------------------------------- */

static void
heartbeat(void *arg)
{
    struct beat *b = arg;
    char path[128];
    json_t *body, *reply = NULL;
    long status = 0;

    if (mono_ms() < b->next_ms)
        return;
    b->next_ms = mono_ms() + b->every_ms;
    job_path(path, sizeof(path), b->job->id, "heartbeat");
    if ((body = json_object()) == NULL)
        return;
    if (post(b->lp, path, body, CALL_TIMEOUT_S, &status, &reply) == ODS_E_OK && status != 200)
        log_warn("job %" PRIu64 ": heartbeat answered HTTP %ld", b->job->id, status);
    json_decref(reply);
    json_decref(body);
}

/* start tells the server what the agent applies. Returns 0 to run the job,
 * ODS_E_NOTFOUND to skip it (no longer ours), or a failure (back off). */
static int
start(struct loop *lp, const struct job *job, unsigned limit, unsigned throttle)
{
    char path[128];
    json_t *reply = NULL;
    long status = 0;
    json_t *body = json_pack("{s:i, s:i, s:b}", "cpu_limit", (int)limit, "cpu_throttle",
        (int)throttle, "unthrottled", job->override_cpu);
    int rc;

    if (body == NULL)
        return ODS_E_NOMEM;
    job_path(path, sizeof(path), job->id, "start");
    rc = post(lp, path, body, CALL_TIMEOUT_S, &status, &reply);
    json_decref(body);
    json_decref(reply);
    if (rc != ODS_E_OK)
        return rc;
    if (status == 200)
        return ODS_E_OK;
    if (status == 404 || status == 409) {
        log_warn("job %" PRIu64 ": start answered HTTP %ld; skipped", job->id, status);
        return ODS_E_NOTFOUND;
    }
    log_warn("job %" PRIu64 ": start answered HTTP %ld", job->id, status);
    return ODS_E_BUSY;
}

/* scan runs the job's scan and builds the result body. Returns 0 with *body set,
 * ODS_E_SHUTDOWN, or ODS_E_NOMEM. */
static int
scan(struct loop *lp, const struct job *job, unsigned limit, unsigned throttle, json_t **body)
{
    const struct scan_type_info *info = scan_type_parse(job->scan_type);
    struct beat beat = { lp, job, (int64_t)job->lease_s * 1000 / 3, 0 };
    struct runner_outcome out;
    char reason[SCAN_REASON_MAX];
    struct runner_task task = {
        .run = info != NULL ? scans_find(info->type) : NULL,
        .ctx = { .root = "" },
        .cpu_limit = limit, .cpu_throttle = throttle, .allow_cgroup = true,
        .tick = heartbeat, .tick_arg = &beat, .should_stop = signals_stop_requested,
    };

    beat.next_ms = mono_ms() + beat.every_ms;
    if (task.run == NULL) {
        scans_unsupported_reason(info != NULL ? info->param : job->scan_type, reason, sizeof(reason));
        *body = json_pack("{s:s, s:s}", "status", "FAILED", "reason", reason);
        return *body != NULL ? ODS_E_OK : ODS_E_NOMEM;
    }
    int rc = runner_run(&task, &out);
    if (rc == ODS_E_SHUTDOWN)
        return rc;
    if (rc != ODS_E_OK) {
        if (snprintf(out.reason, sizeof(out.reason), "cannot run the scan: %s", err_msg(rc)) < 0)
            out.reason[0] = '\0';
        out.completed = false;
    }
    log_info("job %" PRIu64 ": %s %s in %.1f s (cpu %.1f s, limit %u%% via %s, throttle %u)",
        job->id, job->scan_type, out.completed ? "completed" : "failed", out.wall_s, out.cpu_s,
        limit, cpu_method_name(out.method), throttle);
    if (out.completed)
        *body = json_pack("{s:s, s:o}", "status", "COMPLETED", "result", out.result);
    else
        *body = json_pack("{s:s, s:s}", "status", "FAILED", "reason", out.reason);
    return *body != NULL ? ODS_E_OK : ODS_E_NOMEM;
}

/* run_job: start, scan, deliver. Returns 0 (also for a skipped job), ODS_E_SHUTDOWN,
 * or a failure that calls for backing off. */
static int
run_job(struct loop *lp, const struct job *job)
{
    unsigned limit = job->override_cpu ? CPU_LIMIT_MAX : lp->profile.cpu_limit;
    unsigned throttle = job->override_cpu ? 0 : lp->profile.cpu_throttle;
    json_t *body = NULL;
    int rc;

    log_info("job %" PRIu64 ": %s handed out%s", job->id, job->scan_type,
        job->override_cpu ? " (override_cpu)" : "");
    rc = start(lp, job, limit, throttle);
    if (rc == ODS_E_NOTFOUND)
        return ODS_E_OK;
    if (rc != ODS_E_OK)
        return rc;
    if ((rc = scan(lp, job, limit, throttle, &body)) != ODS_E_OK) {
        if (rc == ODS_E_SHUTDOWN)
            log_info("job %" PRIu64 ": scan killed by the stop; the lease will expire", job->id);
        return rc;
    }
    rc = deliver(lp, job->id, body);
    json_decref(body);
    /* A result that could not be uploaded waits in the spool; the next round's flush
     * retries it (and backs off if the server still fails). Go on with the jobs. */
    return rc == ODS_E_BUSY ? ODS_E_OK : rc;
}

/* take_jobs reads the "jobs" array of a check-in answer; malformed entries are
 * skipped (the server will hand them out again after their lease). */
static size_t
take_jobs(struct loop *lp, json_t *reply, struct job *jobs, size_t max)
{
    json_t *arr = json_object_get(reply, "jobs"), *o;
    size_t i, n = 0;

    json_array_foreach(arr, i, o) {
        json_t *id = json_object_get(o, "id");
        const char *type = json_string_value(json_object_get(o, "scan_type"));
        json_t *lease = json_object_get(o, "lease_s");
        if (n == max)
            break;
        if (!json_is_integer(id) || json_integer_value(id) <= 0 || type == NULL
            || str_copy(jobs[n].scan_type, sizeof(jobs[n].scan_type), type) != ODS_E_OK) {
            log_warn("%s: malformed job entry %zu ignored", __func__, i);
            continue;
        }
        jobs[n].id = (uint64_t)json_integer_value(id);
        jobs[n].override_cpu = json_is_true(json_object_get(o, "override_cpu"));
        jobs[n].lease_s = json_is_integer(lease) && json_integer_value(lease) >= 3
            && json_integer_value(lease) <= 86400 ? (unsigned)json_integer_value(lease)
            : lp->profile.lease_s;
        n++;
    }
    return n;
}

/* check_in long-polls once. Returns 0 with *njobs set, or a failure. */
static int
check_in(struct loop *lp, struct job *jobs, size_t *njobs)
{
    json_t *reply = NULL;
    long status = 0;
    json_t *body = json_pack("{s:s, s:[]}", "agent_version", ODSCAN_VERSION, "running");
    int rc;

    *njobs = 0;
    if (body == NULL)
        return ODS_E_NOMEM;
    rc = post(lp, "/agent/v1/checkin", body,
        (long)lp->profile.checkin_hold_s + CHECKIN_HOLD_MARGIN_S, &status, &reply);
    json_decref(body);
    if (rc != ODS_E_OK)
        goto out;
    if (status != 200) {
        const char *why = json_string_value(json_object_get(reply, "error"));
        if (status == 401 || status == 403)
            log_error("check-in refused (HTTP %ld%s%s): the server does not know this agent; "
                "remove the identity file to enroll again", status, why ? ": " : "", why ? why : "");
        else
            log_warn("check-in answered HTTP %ld%s%s", status, why ? ": " : "", why ? why : "");
        rc = ODS_E_BUSY;
        goto out;
    }
    profile_update(&lp->profile, json_object_get(reply, "profile"));
    *njobs = take_jobs(lp, reply, jobs, JOBS_MAX);
out:
    json_decref(reply);
    return rc;
}

/* ---- enrollment and the loop ------------------------------------------------------ */

static int
enroll(struct loop *lp)
{
    struct checkin_config *cfg = lp->cfg;
    long status = 0;
    int rc;

    while (!signals_stop_requested()) {
        rc = enroll_once(cfg->client, cfg->server, cfg->activation_key, &cfg->identity,
            &lp->profile, &status);
        if (rc == ODS_E_AUTH) {
            log_error("enrollment refused: the activation key is unknown, revoked, expired or used up");
            return rc;
        }
        if (rc == ODS_E_OK) {
            if ((rc = identity_save(cfg->state_dir, &cfg->identity)) != ODS_E_OK) {
                log_error("%s: cannot save %s/%s: %s (%m)", __func__, cfg->state_dir,
                    IDENTITY_FILE, err_msg(rc));
                return ODS_E_IO;
            }
            cfg->enrolled = true;
            log_info("enrolled as asset %" PRIu64, cfg->identity.asset_id);
            return ODS_E_OK;
        }
        if (rc == ODS_E_BUSY)
            log_warn("enrollment answered HTTP %ld", status);
        else if (rc != ODS_E_SHUTDOWN)
            log_warn("enrollment failed: %s (%s)", err_msg(rc), agent_client_error(cfg->client));
        back_off(lp);
    }
    return ODS_E_SHUTDOWN;
}

/* one_round: flush, check in, run what was handed out. Returns 0 or a failure. */
static int
one_round(struct loop *lp, struct job *jobs)
{
    size_t njobs = 0;
    int64_t began = mono_ms();
    int rc;

    if ((rc = flush_spool(lp)) != ODS_E_OK || (rc = check_in(lp, jobs, &njobs)) != ODS_E_OK)
        return rc;
    lp->failures = 0;
    /* Handed out beyond what runs at once: still started, in order, one at a time. */
    for (size_t i = 0; i < njobs && rc == ODS_E_OK; i++)
        rc = run_job(lp, &jobs[i]);
    if (rc == ODS_E_OK && njobs == 0 && mono_ms() - began < IDLE_MIN_MS)
        signals_sleep_ms(IDLE_MIN_MS - (mono_ms() - began));
    return rc;
}

int
checkin_run(struct checkin_config *cfg)
{
    struct loop lp = { .cfg = cfg };
    struct job *jobs = NULL;
    int rc = ODS_E_OK;
    int n = snprintf(lp.spool_dir, sizeof(lp.spool_dir), "%s/%s", cfg->state_dir, SPOOL_DIR_NAME);

    if (n < 0 || (size_t)n >= sizeof(lp.spool_dir))
        return ODS_E_TOOBIG;
    profile_defaults(&lp.profile);
    if (!cfg->enrolled && (rc = enroll(&lp)) != ODS_E_OK)
        return rc == ODS_E_SHUTDOWN ? ODS_E_OK : rc;
    if ((rc = agent_client_set_auth(cfg->client, cfg->identity.agent_uuid,
             cfg->identity.agent_secret)) != ODS_E_OK)
        return rc;
    if ((jobs = calloc(JOBS_MAX, sizeof(*jobs))) == NULL)
        return ODS_E_NOMEM;
    while (!signals_stop_requested()) {
        rc = one_round(&lp, jobs);
        if (rc != ODS_E_OK && rc != ODS_E_SHUTDOWN)
            back_off(&lp);
    }
    free(jobs);
    log_info("stopping");
    return ODS_E_OK;
}
