/* api_jobs.c - the JSON API beside the QPS one: jobs with their life, an asset's jobs,
 * and what its scans found. Reads only; any authenticated user, within the user's
 * scope (a job of an asset out of scope is as missing as the asset). */
#include "api.h"
#include "err.h"
#include "scope.h"
#include "server.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* id_param parses the route's n-th "{}" segment as a positive id; on failure the
 * reply is set and 0 returned. */
static int64_t
id_param(struct request *r, size_t n, const char *what)
{
    uint64_t id;

    if (n >= r->nparams || parse_u64(r->params[n], INT64_MAX, &id) != 0 || id == 0) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Use a positive integer id.",
            "Invalid %s id '%s'", what, n < r->nparams ? r->params[n] : "");
        return 0;
    }
    return (int64_t)id;
}

/* put_time writes "key":"ISO-8601" or "key":null for 0. */
static int
put_time(struct buf *b, const char *key, int64_t ms)
{
    char t[32];

    if (ms == 0)
        return buf_printf(b, ",\"%s\":null", key);
    fmt_iso8601(t, sizeof(t), ms);
    return buf_printf(b, ",\"%s\":\"%s\"", key, t);
}

static int
put_str(struct buf *b, const char *key, const char *value)
{
    int rc = buf_printf(b, ",\"%s\":\"", key);
    if (rc == 0)
        rc = buf_json_escaped(b, value);
    if (rc == 0)
        rc = buf_puts(b, "\"");
    return rc;
}

/* render_job appends one job as a JSON object. */
static int
render_job(struct buf *b, const struct job *j)
{
    const struct scan_type_info *st = scan_type_get(j->scan_type);
    int rc = buf_printf(b, "{\"id\":%lld,\"asset_id\":%lld,\"scan_type\":\"%s\",\"module\":\"%s\","
        "\"override_cpu\":%s,\"state\":\"%s\",\"attempts\":%d",
        (long long)j->id, (long long)j->asset_id, st ? st->param : "unknown",
        st ? st->module : "unknown", j->override_cpu ? "true" : "false",
        job_state_name(j->state), j->attempts);

    if (rc == 0) rc = put_str(b, "requested_by", j->requested_by);
    if (rc == 0) rc = put_str(b, "requested_from", j->requested_from);
    if (rc == 0) rc = put_time(b, "created", j->created_ms);
    if (rc == 0) rc = put_time(b, "updated", j->updated_ms);
    if (rc == 0) rc = put_time(b, "dispatched", j->dispatched_ms);
    if (rc == 0) rc = put_time(b, "started", j->started_ms);
    if (rc == 0) rc = put_time(b, "finished", j->finished_ms);
    if (rc == 0) rc = put_time(b, "lease_deadline", j->lease_deadline_ms);
    if (rc == 0) rc = put_str(b, "cpu_applied", j->cpu_applied);
    if (rc == 0) rc = put_str(b, "reason", j->reason);
    if (rc == 0) rc = buf_puts(b, "}");
    return rc;
}

static enum handler_result
finish(struct request *r, int rc)
{
    if (rc == 0)
        rc = buf_puts(&r->out, "\n");
    if (rc != 0)
        http_reply_internal(r, "reply not built", rc);
    else
        http_reply_json(r, 200);
    return HANDLER_REPLY;
}

enum handler_result
api_jobs_get(struct request *r)
{
    struct job j;
    int64_t id = id_param(r, 0, "job");

    if (id == 0)
        return HANDLER_REPLY;
    int rc = store_job_get(r->srv->store, id, &j);
    if (rc == ODS_E_OK)
        rc = scope_asset_visible(r->srv->store, &r->who, j.asset_id);
    if (rc == ODS_E_NOTFOUND) {
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "List an asset's jobs to find job ids.",
            "Job %lld not found", (long long)id);
        return HANDLER_REPLY;
    }
    if (rc != 0) {
        http_reply_internal(r, "job not read", rc);
        return HANDLER_REPLY;
    }
    return finish(r, render_job(&r->out, &j));
}

enum handler_result
api_jobs_result(struct request *r)
{
    char *doc = NULL;
    size_t len = 0;
    struct job j;
    int64_t id = id_param(r, 0, "job");

    if (id == 0)
        return HANDLER_REPLY;
    int rc = store_job_get(r->srv->store, id, &j);
    if (rc == 0)
        rc = scope_asset_visible(r->srv->store, &r->who, j.asset_id);
    if (rc == 0)
        rc = store_result_get(r->srv->store, id, &doc, &len);
    if (rc == ODS_E_NOTFOUND) {
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "Results exist once a job is COMPLETED.",
            "No result for job %lld", (long long)id);
        return HANDLER_REPLY;
    }
    if (rc != 0) {
        http_reply_internal(r, "result not read", rc);
        return HANDLER_REPLY;
    }
    rc = buf_puts(&r->out, "{\"job\":");
    if (rc == 0)
        rc = render_job(&r->out, &j);
    if (rc == 0)
        rc = buf_puts(&r->out, ",\"result\":");
    if (rc == 0)
        rc = buf_append(&r->out, doc, len);
    if (rc == 0)
        rc = buf_puts(&r->out, "}");
    free(doc);
    return finish(r, rc);
}

/* asset_exists answers 404 (and returns false) for an unknown asset or one out of the
 * caller's scope. */
static bool
asset_exists(struct request *r, int64_t id)
{
    int rc = scope_asset_visible(r->srv->store, &r->who, id);

    if (rc == ODS_E_NOTFOUND) {
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "Check the asset id.", "Asset %lld not found",
            (long long)id);
        return false;
    }
    if (rc != 0) {
        http_reply_internal(r, "asset not read", rc);
        return false;
    }
    return true;
}

enum handler_result
api_assets_jobs(struct request *r)
{
    struct job *jobs = NULL;
    size_t n = 0;
    int64_t id = id_param(r, 0, "asset");

    if (id == 0 || !asset_exists(r, id))
        return HANDLER_REPLY;
    int rc = store_job_list(r->srv->store, id, &jobs, &n);
    if (rc != 0) {
        http_reply_internal(r, "jobs not read", rc);
        return HANDLER_REPLY;
    }
    rc = buf_printf(&r->out, "{\"asset_id\":%lld,\"count\":%zu,\"jobs\":[", (long long)id, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0)
            rc = buf_puts(&r->out, ",");
        if (rc == 0)
            rc = render_job(&r->out, &jobs[i]);
    }
    if (rc == 0)
        rc = buf_puts(&r->out, "]}");
    free(jobs);
    return finish(r, rc);
}

enum handler_result
api_assets_inventory(struct request *r)
{
    char *doc = NULL;
    size_t len = 0;
    int64_t job_id = 0, collected = 0;
    int64_t scans[32];
    size_t nscans = 0;
    int64_t id = id_param(r, 0, "asset");

    if (id == 0 || !asset_exists(r, id))
        return HANDLER_REPLY;
    int rc = store_inventory_get(r->srv->store, id, &doc, &len, &job_id, &collected);
    if (rc == ODS_E_NOTFOUND) {
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "Launch an Inventory_Scan on the asset first.",
            "No inventory for asset %lld yet", (long long)id);
        return HANDLER_REPLY;
    }
    if (rc == 0)
        rc = store_inventory_history(r->srv->store, id, scans, sizeof(scans) / sizeof(scans[0]), &nscans);
    if (rc != 0) {
        free(doc);
        http_reply_internal(r, "inventory not read", rc);
        return HANDLER_REPLY;
    }
    rc = buf_printf(&r->out, "{\"asset_id\":%lld,\"job_id\":%lld", (long long)id, (long long)job_id);
    if (rc == 0)
        rc = put_time(&r->out, "collected", collected);
    if (rc == 0)
        rc = buf_puts(&r->out, ",\"scans\":[");
    for (size_t i = 0; rc == 0 && i < nscans; i++) {
        char t[32];
        fmt_iso8601(t, sizeof(t), scans[i]);
        rc = buf_printf(&r->out, "%s\"%s\"", i ? "," : "", t);
    }
    if (rc == 0)
        rc = buf_puts(&r->out, "],\"inventory\":");
    if (rc == 0)
        rc = buf_append(&r->out, doc, len);
    if (rc == 0)
        rc = buf_puts(&r->out, "}");
    free(doc);
    return finish(r, rc);
}
