/* api_agent.c - the agent protocol (docs/agent.md): enrollment, the long-poll
 * check-in held in the dispatch hub, and the job's start, heartbeat and result.
 * Every write goes through the group committer, so agents share its transactions
 * with launches; the reply is built once the write is durable. */
#include "api.h"
#include "err.h"
#include "log.h"
#include "manifest.h"
#include "server.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define AGENT_JSON_DEPTH_MAX 64
#define RUNNING_MAX          16

/* Where a check-in is in its life (request.wait_state). */
enum checkin_state {
    CHECKIN_CLAIMING = 0,   /* a claim is with the committer */
    CHECKIN_WAITING,        /* held in the hub until a launch, the hold time or shutdown */
    CHECKIN_ANSWER,         /* resumed: build the reply */
};

static void
reply_bad(struct request *r, const char *what)
{
    http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "See docs/agent.md for the protocol.",
        "Malformed agent request: %s", what);
}

/* body_json parses the request body as a JSON object. Returns NULL (reply set) when it
 * is not one. Caller frees with json_decref. */
static json_t *
body_json(struct request *r)
{
    json_error_t jerr;
    json_t *doc;

    if (r->body.len == 0) {
        reply_bad(r, "empty body");
        return NULL;
    }
    doc = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL || !json_is_object(doc)) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Send a JSON object.",
            "Malformed JSON body: %s", doc == NULL ? jerr.text : "not an object");
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* str_field returns the string member `key` (or `dflt` when absent or null); NULL when
 * it is not a string or longer than max - 1. */
static const char *
str_field(json_t *obj, const char *key, const char *dflt, size_t max)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))     /* agents send null for facts they lack */
        return dflt;
    if (!json_is_string(v) || json_string_length(v) >= max)
        return NULL;
    return json_string_value(v);
}

static int
render_profile(struct buf *b, const struct profile *p)
{
    int rc = buf_puts(b, "{\"id\":");
    if (rc == 0)
        rc = buf_printf(b, "%lld,\"name\":\"", (long long)p->id);
    if (rc == 0)
        rc = buf_json_escaped(b, p->name);
    if (rc == 0)
        rc = buf_printf(b, "\",\"cpu_limit\":%d,\"cpu_throttle\":%d,\"checkin_hold_s\":%d,"
            "\"lease_s\":%d,\"max_concurrent\":%d}", p->cpu_limit, p->cpu_throttle,
            p->checkin_hold_s, p->lease_s, p->max_concurrent);
    return rc;
}

/* --- enrollment ----------------------------------------------------------------- */

enum handler_result
api_agent_enroll(struct request *r)
{
    struct enrollment e = { 0 };
    struct asset asset;
    struct profile prof;
    char uuid[STORE_UUID_MAX], secret[AGENT_SECRET_LEN + 1], hash[65];
    const char *why = NULL;
    json_t *doc = body_json(r);

    if (doc == NULL)
        return HANDLER_REPLY;
    e.key_token = str_field(doc, "activation_key", NULL, STORE_KEY_MAX);
    e.hostname = str_field(doc, "hostname", "", STORE_HOST_MAX);
    e.fqdn = str_field(doc, "fqdn", "", STORE_HOST_MAX);
    e.os_family = str_field(doc, "os_family", "linux", STORE_OS_MAX);
    e.os_name = str_field(doc, "os_name", "", 64);
    e.os_version = str_field(doc, "os_version", "", 64);
    e.arch = str_field(doc, "arch", "", 32);
    e.machine_id = str_field(doc, "machine_id", "", 64);
    e.agent_version = str_field(doc, "agent_version", "", 32);
    if (e.key_token == NULL || e.hostname == NULL || e.fqdn == NULL || e.os_family == NULL ||
        e.os_name == NULL || e.os_version == NULL || e.arch == NULL || e.machine_id == NULL ||
        e.agent_version == NULL) {
        reply_bad(r, "activation_key missing, or a field not a string or too long");
        goto out;
    }
    if (strcmp(e.os_family, "linux") != 0 && strcmp(e.os_family, "windows") != 0 &&
        strcmp(e.os_family, "macos") != 0 && strcmp(e.os_family, "unix") != 0) {
        reply_bad(r, "os_family must be linux, windows, macos or unix");
        goto out;
    }
    auth_uuid_new(uuid);
    if (auth_agent_secret_new(secret, sizeof(secret), hash) != 0) {
        http_reply_internal(r, "cannot make an agent secret", ODS_E_NOMEM);
        goto out;
    }
    e.uuid = uuid;
    e.secret_hash = hash;
    e.remote = r->remote;
    e.now_ms = now_ms();
    int rc = store_enroll(r->srv->store, &e, &asset, &why);
    if (rc == ODS_E_NOTFOUND || rc == ODS_E_PERM) {
        log_warn("%s: enrollment from %s refused: %s", __func__, r->remote,
            rc == ODS_E_NOTFOUND ? "unknown activation key" : why);
        server_audit(r->srv, "", r->remote, "enroll", e.hostname, "OPERATION_NOT_PERMITTED",
            rc == ODS_E_NOTFOUND ? "unknown activation key" : why);
        http_reply_errorf(r, 403, QPS_OPERATION_NOT_PERMITTED,
            "Ask a manager for a valid activation key (odscanctl key create).",
            "Enrollment refused: %s", rc == ODS_E_NOTFOUND ? "unknown activation key" : why);
        goto out;
    }
    if (rc == 0)
        rc = store_profile_for_asset(r->srv->store, asset.id, &prof);
    if (rc != 0) {
        http_reply_internal(r, "enrollment not stored", rc);
        goto out;
    }
    char detail[STORE_TEXT_MAX];
    snprintf(detail, sizeof(detail), "asset=%lld agent=%s", (long long)asset.id, uuid);
    server_audit(r->srv, "", r->remote, "enroll", e.hostname, "SUCCESS", detail);
    log_info("%s: agent %s on %s enrolled as asset %lld from %s", __func__, uuid, e.hostname,
        (long long)asset.id, r->remote);
    rc = buf_printf(&r->out, "{\"asset_id\":%lld,\"agent_uuid\":\"%s\",\"agent_secret\":\"%s\",\"profile\":",
        (long long)asset.id, uuid, secret);
    if (rc == 0)
        rc = render_profile(&r->out, &prof);
    if (rc == 0)
        rc = buf_puts(&r->out, "}\n");
    http_reply_json(r, 200);
out:
    json_decref(doc);
    return HANDLER_REPLY;
}

/* --- check-in: the long poll ---------------------------------------------------- */

static void checkin_claimed(struct commit_item *item, int rc);

/* claim_item readies the check-in's commit item for another claim. */
static struct commit_item *
claim_item(struct request *r)
{
    struct commit_item *it = &r->commit;
    struct store_op *claim = &it->ops[it->nops - 1];

    claim->u.claim.now_ms = now_ms();
    claim->u.claim.n = 0;
    r->wait_state = CHECKIN_CLAIMING;
    it->done = checkin_claimed;
    it->ctx = r;
    return it;
}

/* submit_claim hands the check-in's claim (and, first time, its check-in record) to
 * the committer; on refusal (shutdown) the request is answered at once. Runs on an
 * HTTP thread (first time) or the committer/timer thread (after a wake-up). */
static void
submit_claim(struct request *r)
{
    if (committer_submit(r->srv->committer, claim_item(r)) != 0) {
        r->commit_rc = ODS_E_SHUTDOWN;
        r->wait_state = CHECKIN_ANSWER;
        http_resume(r);
    }
}

/* checkin_claimed runs on the committer thread after the claim committed. */
static void
checkin_claimed(struct commit_item *item, int rc)
{
    struct request *r = item->ctx;
    const struct claim *c = &item->ops[item->nops - 1].u.claim;

    r->commit_rc = rc;
    if (rc != 0 || c->n > 0 || mono_ms() >= r->hold_deadline_ms) {
        r->wait_state = CHECKIN_ANSWER;
        http_resume(r);
        return;
    }
    /* Nothing to hand out: wait in the hub. From now on the check-in record is done;
     * a wake-up only claims again. */
    item->ops[0] = item->ops[item->nops - 1];
    item->nops = 1;
    r->wait_state = CHECKIN_WAITING;
    if (dispatch_wait(r->srv->hub, r->agent.asset_id, r, r->hold_deadline_ms) != 0) {
        r->wait_state = CHECKIN_ANSWER;
        http_resume(r);
    }
}

void
api_agent_checkin_wake(void *waiter, enum wake_reason why)
{
    struct request *r = waiter;

    /* An agent that went away while held (stopped, crashed) must not be handed the
     * job: it would sit DISPATCHED until its lease ran out. */
    if (why == WAKE_JOB && !http_peer_closed(r)) {
        submit_claim(r);
        return;
    }
    r->wait_state = CHECKIN_ANSWER;
    http_resume(r);
}

struct commit_item *
api_agent_checkin_take(dispatch_t *hub, int64_t asset_id)
{
    struct request *r = dispatch_take(hub, asset_id);

    if (r == NULL)
        return NULL;
    if (http_peer_closed(r)) {          /* gone: answer it, hand it nothing */
        r->wait_state = CHECKIN_ANSWER;
        http_resume(r);
        return NULL;
    }
    return claim_item(r);
}

/* busy_types turns the running job ids the agent reports into the scan types it is
 * busy with; ids that are not this asset's are ignored. */
static unsigned
busy_types(struct request *r, json_t *running, unsigned *count)
{
    unsigned types = 0;
    size_t i;
    json_t *v;
    struct job job;

    *count = 0;
    json_array_foreach(running, i, v) {
        if (!json_is_integer(v) || i >= RUNNING_MAX)
            continue;
        if (store_job_get(r->srv->store, (int64_t)json_integer_value(v), &job) != 0 ||
            job.asset_id != r->agent.asset_id)
            continue;
        types |= 1u << job.scan_type;
        (*count)++;
    }
    return types;
}

enum handler_result
api_agent_checkin(struct request *r)
{
    json_t *doc = body_json(r);
    unsigned nrunning = 0;

    if (doc == NULL)
        return HANDLER_REPLY;
    const char *version = str_field(doc, "agent_version", "", 32);
    json_t *running = json_object_get(doc, "running");
    if (version == NULL || (running != NULL && !json_is_array(running))) {
        reply_bad(r, "agent_version must be a short string and running an array of job ids");
        json_decref(doc);
        return HANDLER_REPLY;
    }
    int rc = store_profile_for_asset(r->srv->store, r->agent.asset_id, &r->profile);
    if (rc != 0) {
        json_decref(doc);
        http_reply_internal(r, "no profile for the agent's asset", rc);
        return HANDLER_REPLY;
    }
    unsigned busy = running ? busy_types(r, running, &nrunning) : 0;

    struct commit_item *it = &r->commit;
    it->nops = 2;
    it->ops[0].kind = STORE_OP_CHECKIN;
    it->ops[0].u.checkin.asset_id = r->agent.asset_id;
    it->ops[0].u.checkin.now_ms = now_ms();
    /* the strings must outlive the body: keep copies in the request */
    str_copy(r->params[0], sizeof(r->params[0]), version);
    it->ops[0].u.checkin.agent_version = r->params[0];
    it->ops[0].u.checkin.remote = r->remote;
    it->ops[1].kind = STORE_OP_CLAIM;
    struct claim *c = &it->ops[1].u.claim;
    c->asset_id = r->agent.asset_id;
    c->lease_ms = (int64_t)r->profile.lease_s * 1000;
    c->max_jobs = (unsigned)r->profile.max_concurrent > nrunning ?
        (unsigned)r->profile.max_concurrent - nrunning : 0;
    if (c->max_jobs > STORE_CLAIM_MAX)
        c->max_jobs = STORE_CLAIM_MAX;
    c->busy_types = busy;
    r->hold_deadline_ms = mono_ms() + (int64_t)r->profile.checkin_hold_s * 1000;
    json_decref(doc);

    http_suspend(r);
    submit_claim(r);
    return HANDLER_SUSPENDED;
}

enum handler_result
api_agent_checkin_done(struct request *r)
{
    const struct claim *c = &r->commit.ops[r->commit.nops - 1].u.claim;
    int rc = 0;

    if (r->commit_rc == ODS_E_SHUTDOWN) {
        http_reply_errorf(r, 503, QPS_SERVICE_UNAVAILABLE, "Check in again shortly.",
            "The server is shutting down");
        return HANDLER_REPLY;
    }
    if (r->commit_rc != 0) {
        http_reply_internal(r, "check-in not stored", r->commit_rc);
        return HANDLER_REPLY;
    }
    rc = buf_puts(&r->out, "{\"profile\":");
    if (rc == 0)
        rc = render_profile(&r->out, &r->profile);
    if (rc == 0)
        rc = buf_puts(&r->out, ",\"jobs\":[");
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        const struct scan_type_info *st = scan_type_get(c->jobs[i].scan_type);
        rc = buf_printf(&r->out, "%s{\"id\":%lld,\"scan_type\":\"%s\",\"override_cpu\":%s,\"lease_s\":%d}",
            i ? "," : "", (long long)c->jobs[i].id, st ? st->param : "unknown",
            c->jobs[i].override_cpu ? "true" : "false", r->profile.lease_s);
    }
    if (rc == 0)
        rc = buf_puts(&r->out, "]}\n");
    if (rc != 0)
        http_reply_internal(r, "reply too large", rc);
    else
        http_reply_json(r, 200);
    return HANDLER_REPLY;
}

/* --- the job's start, heartbeat and result -------------------------------------- */

static void
job_updated(struct commit_item *item, int rc)
{
    struct request *r = item->ctx;

    r->commit_rc = rc;
    http_resume(r);
}

/* submit_update fills the common part of a job update and hands it to the committer. */
static enum handler_result
submit_update(struct request *r, enum store_op_kind kind)
{
    uint64_t id;

    if (parse_u64(r->param, INT64_MAX, &id) != 0 || id == 0) {
        reply_bad(r, "job id is not a positive integer");
        return HANDLER_REPLY;
    }
    struct commit_item *it = &r->commit;
    struct job_update *u = &it->ops[0].u.update;
    it->nops = 1;
    it->ops[0].kind = kind;
    u->asset_id = r->agent.asset_id;
    u->job_id = (int64_t)id;
    u->now_ms = now_ms();
    it->done = job_updated;
    it->ctx = r;
    if (u->lease_ms == 0) {
        struct profile p;
        u->lease_ms = store_profile_for_asset(r->srv->store, r->agent.asset_id, &p) == 0 ?
            (int64_t)p.lease_s * 1000 : 300000;
    }
    http_suspend(r);
    if (committer_submit(r->srv->committer, it) != 0) {
        r->commit_rc = ODS_E_SHUTDOWN;
        http_resume(r);
    }
    return HANDLER_SUSPENDED;
}

enum handler_result
api_agent_job_start(struct request *r)
{
    json_t *doc = body_json(r);

    if (doc == NULL)
        return HANDLER_REPLY;
    json_t *lim = json_object_get(doc, "cpu_limit");
    json_t *thr = json_object_get(doc, "cpu_throttle");
    json_t *unt = json_object_get(doc, "unthrottled");
    /* the text lives in the request, not in the body document */
    char *applied = r->params[1];
    if (unt != NULL && json_is_true(unt))
        snprintf(applied, HTTP_SEGMENT_MAX, "unthrottled");
    else if (json_is_integer(lim) && json_is_integer(thr))
        snprintf(applied, HTTP_SEGMENT_MAX, "limit=%lld throttle=%lld",
            (long long)json_integer_value(lim), (long long)json_integer_value(thr));
    else {
        json_decref(doc);
        reply_bad(r, "start needs cpu_limit and cpu_throttle, or unthrottled=true");
        return HANDLER_REPLY;
    }
    json_decref(doc);
    r->commit.ops[0].u.update.cpu_applied = applied;
    return submit_update(r, STORE_OP_JOB_START);
}

enum handler_result
api_agent_job_heartbeat(struct request *r)
{
    return submit_update(r, STORE_OP_JOB_HEARTBEAT);
}

/* manifest_check: a result carrying "manifest_hash" is a package manifest. A full one
 * must hash to what it claims (the agent and the server share manifest_hash), so a
 * later hash-only upload can stand for it. Fills hash ("" for other documents) and
 * *hash_only; false with the reply set when the manifest is malformed. */
static bool
manifest_check(struct request *r, const json_t *result, char hash[MANIFEST_HASH_LEN],
    bool *hash_only)
{
    struct manifest m;
    char why[160], actual[MANIFEST_HASH_LEN];
    int rc;

    if (result == NULL || json_object_get(result, "manifest_hash") == NULL)
        return true;
    if ((rc = manifest_read(result, &m, why, sizeof(why))) != ODS_E_OK) {
        http_reply_errorf(r, rc == ODS_E_NOMEM ? 500 : 400, QPS_INVALID_REQUEST,
            "See docs/agent.md for the manifest.", "Malformed manifest: %s", why);
        return false;
    }
    if (!m.hash_only && (rc = manifest_hash(&m, actual)) != ODS_E_OK) {
        manifest_free(&m);
        http_reply_internal(r, "manifest hash", rc);
        return false;
    }
    if (!m.hash_only && strcmp(actual, m.hash) != 0) {
        manifest_free(&m);
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Hash the canonical form in docs/agent.md.",
            "manifest_hash does not match the manifest's content");
        return false;
    }
    str_copy(hash, MANIFEST_HASH_LEN, m.hash);
    *hash_only = m.hash_only;
    manifest_free(&m);
    return true;
}

enum handler_result
api_agent_job_result(struct request *r)
{
    json_t *doc = body_json(r);
    struct job_update *u = &r->commit.ops[0].u.update;

    if (doc == NULL)
        return HANDLER_REPLY;
    const char *status = str_field(doc, "status", NULL, 16);
    const char *reason = str_field(doc, "reason", "", 4096);
    json_t *result = json_object_get(doc, "result");
    if (status == NULL || reason == NULL || (result != NULL && !json_is_object(result))) {
        json_decref(doc);
        reply_bad(r, "result needs status COMPLETED or FAILED, a string reason, an object result");
        return HANDLER_REPLY;
    }
    if (strcmp(status, "COMPLETED") == 0) {
        u->final_state = JOB_COMPLETED;
    } else if (strcmp(status, "FAILED") == 0) {
        u->final_state = JOB_FAILED;
    } else {
        json_decref(doc);
        reply_bad(r, "status must be COMPLETED or FAILED");
        return HANDLER_REPLY;
    }
    /* A package manifest (a Vulnerability_Scan's document) must carry the hash of
     * its content; the store keeps it, or matches a hash-only upload against it. */
    char hash[MANIFEST_HASH_LEN] = "";
    bool hash_only = false;
    if (u->final_state == JOB_COMPLETED && !manifest_check(r, result, hash, &hash_only)) {
        json_decref(doc);
        return HANDLER_REPLY;
    }
    /* Keep the reason, the result document and the manifest hash in r->out (the reply
     * is built later, from scratch), each NUL-terminated. */
    buf_reset(&r->out);
    int rc = buf_append(&r->out, reason, strlen(reason) + 1);
    size_t doc_at = r->out.len, doc_len = 0;
    if (rc == 0 && result != NULL) {
        char *text = json_dumps(result, JSON_COMPACT);
        rc = text == NULL ? ODS_E_NOMEM : buf_append(&r->out, text, strlen(text) + 1);
        doc_len = text != NULL ? strlen(text) : 0;
        free(text);
    }
    size_t hash_at = r->out.len;
    if (rc == 0)
        rc = buf_append(&r->out, hash, strlen(hash) + 1);
    json_decref(doc);
    if (rc != 0) {
        http_reply_internal(r, "result too large", rc);
        return HANDLER_REPLY;
    }
    u->reason = r->out.data;
    u->result_json = result != NULL ? r->out.data + doc_at : NULL;
    u->result_len = result != NULL ? doc_len : 0;
    u->manifest_hash = hash[0] != '\0' ? r->out.data + hash_at : NULL;
    u->manifest_hash_only = hash_only;
    return submit_update(r, STORE_OP_JOB_FINISH);
}

enum handler_result
api_agent_job_done(struct request *r)
{
    const struct store_op *op = &r->commit.ops[0];

    buf_reset(&r->out);
    if (r->commit_rc == ODS_E_SHUTDOWN) {
        http_reply_errorf(r, 503, QPS_SERVICE_UNAVAILABLE, "Retry shortly.", "The server is shutting down");
        return HANDLER_REPLY;
    }
    if (r->commit_rc != 0) {
        http_reply_internal(r, "job update not stored", r->commit_rc);
        return HANDLER_REPLY;
    }
    if (op->result == ODS_E_NOTFOUND) {
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "Report only jobs this agent was given.",
            "Job %s not found", r->param);
        return HANDLER_REPLY;
    }
    if (op->result == ODS_E_BUSY) {
        http_reply_errorf(r, 409, QPS_INVALID_REQUEST,
            "Check in again to get the jobs this agent should run.",
            "Job %s is not in a state that allows this", r->param);
        return HANDLER_REPLY;
    }
    if (op->result == ODS_E_CONFLICT) {
        http_reply_errorf(r, 409, QPS_INVALID_REQUEST,
            "Upload the same result again with the whole manifest.",
            "manifest unknown: send it in full");
        return HANDLER_REPLY;
    }
    if (op->result != 0) {
        http_reply_internal(r, "job update failed", op->result);
        return HANDLER_REPLY;
    }
    if (buf_printf(&r->out, "{\"job_id\":%s,\"duplicate\":%s}\n", r->param,
            op->kind == STORE_OP_JOB_FINISH && op->u.update.duplicate ? "true" : "false") != 0)
        http_reply_internal(r, "reply too large", ODS_E_TOOBIG);
    else
        http_reply_json(r, 200);
    return HANDLER_REPLY;
}
