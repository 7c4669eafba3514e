/* api_ods.c - the on-demand scan resource: POST /qps/rest/1.0/ods/ca/agentasset/<id>
 * and, by filter, POST /qps/rest/1.0/ods/ca/agentasset. A launch is validated here,
 * written by the group committer (a bulk launch as one item: one transaction), and
 * answered only after its transaction is durable. */
#include "api.h"
#include "err.h"
#include "log.h"
#include "qps_filter.h"
#include "scope.h"
#include "server.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* launch_committed runs on the committer thread: keep the outcome, wake the request. */
static void
launch_committed(struct commit_item *item, int rc)
{
    struct request *r = item->ctx;

    r->commit_rc = rc;
    http_resume(r);
}

enum handler_result
api_ods_launch(struct request *r)
{
    struct launch_request lr;
    struct qps_error e;

    if (qps_parse_launch(r->param, r->args, r->nargs, &lr, &e) != 0 ||
        qps_parse_empty_request(r->body.data ? r->body.data : "", r->body.len, &e) != 0) {
        char target[STORE_TEXT_MAX];
        if (snprintf(target, sizeof(target), "asset=%s", r->param) < 0)
            target[0] = '\0';
        server_audit(r->srv, r->who.user, r->remote, "launch", target, qps_code_name(e.code), e.message);
        http_reply_error(r, &e);
        return HANDLER_REPLY;
    }
    /* out of the caller's scope is the same answer as missing */
    int vis = scope_asset_visible(r->srv->store, &r->who, lr.asset_id);
    if (vis == ODS_E_NOTFOUND) {
        server_audit(r->srv, r->who.user, r->remote, "launch", "out of scope", "NOT_FOUND", "");
        http_reply_errorf(r, 404, QPS_NOT_FOUND,
            "Check the asset id; search agents to find the ids this server knows.",
            "Asset %lld not found", (long long)lr.asset_id);
        return HANDLER_REPLY;
    }
    if (vis != ODS_E_OK) {
        http_reply_internal(r, "asset scope not read", vis);
        return HANDLER_REPLY;
    }
    r->commit.nops = 1;
    r->commit.ops[0].kind = STORE_OP_LAUNCH;
    struct launch *l = &r->commit.ops[0].u.launch;
    l->asset_id = lr.asset_id;
    l->scan_type = (int)lr.scan->type;
    l->override_cpu = lr.override_cpu;
    l->user = r->who.user;
    l->remote = r->remote;
    l->at_ms = now_ms();
    r->commit.done = launch_committed;
    r->commit.ctx = r;

    /* Suspend first: the committer may resume us before this function returns. */
    http_suspend(r);
    int rc = committer_submit(r->srv->committer, &r->commit);
    if (rc != 0) {
        http_resume(r);
        r->commit_rc = rc;
    }
    return HANDLER_SUSPENDED;
}

enum handler_result
api_ods_launch_done(struct request *r)
{
    const struct launch *l = &r->commit.ops[0].u.launch;
    const struct scan_type_info *scan = scan_type_get(l->scan_type);

    if (r->commit_rc == ODS_E_SHUTDOWN) {
        http_reply_errorf(r, 503, QPS_SERVICE_UNAVAILABLE, "Retry in a few seconds.",
            "The server is shutting down; the scan was not launched");
        return HANDLER_REPLY;
    }
    if (r->commit_rc != 0) {
        http_reply_internal(r, "the scan job could not be stored; nothing was launched", r->commit_rc);
        return HANDLER_REPLY;
    }
    if (l->result == ODS_E_NOTFOUND) {
        http_reply_errorf(r, 404, QPS_NOT_FOUND,
            "Check the asset id; search agents to find the ids this server knows.",
            "Asset %lld not found", (long long)l->asset_id);
        return HANDLER_REPLY;
    }
    if (l->result == ODS_E_PERM) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "Activate the module on the asset first, then launch again.",
            "Module %s is not activated on asset %lld; %s needs it", scan->needs_name,
            (long long)l->asset_id, scan->param);
        return HANDLER_REPLY;
    }
    if (l->result != 0) {
        http_reply_internal(r, "unexpected launch result", l->result);
        return HANDLER_REPLY;
    }
    http_add_header(r, "X-Odscan-Job-Id", "%lld", (long long)l->job_id);
    http_add_header(r, "X-Odscan-Job-Existing", "%s", l->existing ? "true" : "false");
    r->status = 200;
    if (qps_render_launch(&r->out, r->fmt, http_base_url(r), scan->module, &l->asset_id, 1) != 0)
        http_reply_internal(r, "response too large", ODS_E_TOOBIG);
    return HANDLER_REPLY;
}

/* bulk_refuse audits and answers a launch by filter refused before any job. */
static enum handler_result
bulk_refuse(struct request *r, const struct qps_error *e)
{
    server_audit(r->srv, r->who.user, r->remote, "launch", "filter", qps_code_name(e->code),
        e->message);
    http_reply_error(r, e);
    return HANDLER_REPLY;
}

enum handler_result
api_ods_launch_bulk(struct request *r)
{
    struct launch_request lr;
    struct qps_filter f;
    struct qps_error e;
    struct asset_query q = { 0 };
    int64_t *ids = NULL;
    size_t n = 0;
    bool more = false;
    int rc;

    memset(&f, 0, sizeof(f));
    if (qps_parse_launch_args(r->args, r->nargs, &lr, &e) != 0 ||
        qps_filter_read(r->body.data, r->body.len, &f, &e) != 0) {
        qps_filter_free(&f);
        return bulk_refuse(r, &e);
    }
    if (f.ncriteria == 0) {
        qps_filter_free(&f);
        qps_error_set(&e, 400, QPS_INVALID_REQUEST,
            "Add <filters> with at least one Criteria, e.g. <Criteria field=\"id\" "
            "operator=\"IN\">1,2</Criteria>; or launch on one asset with "
            "/qps/rest/1.0/ods/ca/agentasset/<id>.",
            "A launch by filter needs at least one criterion");
        return bulk_refuse(r, &e);
    }
    q.criteria = f.criteria;
    q.ncriteria = f.ncriteria;
    q.limit = ODS_BULK_MAX;
    scope_query(&r->who, &q);
    rc = store_asset_search(r->srv->store, &q, &ids, &n, &more);
    qps_filter_free(&f);
    if (rc != ODS_E_OK) {
        http_reply_internal(r, "assets not searched", rc);
        return HANDLER_REPLY;
    }
    if (more) {
        free(ids);
        qps_error_set(&e, 400, QPS_INVALID_REQUEST,
            "Narrow the filters or send the ids in batches (e.g. id IN with 1000 ids each).",
            "The filters match more than %d assets: at most %d per launch", ODS_BULK_MAX,
            ODS_BULK_MAX);
        return bulk_refuse(r, &e);
    }
    if (n == 0) {
        r->status = 200;
        if (qps_render_launch(&r->out, r->fmt, http_base_url(r), lr.scan->module, NULL, 0) != 0)
            http_reply_internal(r, "response too large", ODS_E_TOOBIG);
        return HANDLER_REPLY;
    }
    /* XXX a store_op is ~4 KiB (the claim's job array): 10,000 launches hold ~43 MB
     * until the commit. */
    struct store_op *ops = calloc(n, sizeof(*ops));
    if (ops == NULL) {
        free(ids);
        http_reply_internal(r, "out of memory", ODS_E_NOMEM);
        return HANDLER_REPLY;
    }
    int64_t at = now_ms();
    for (size_t i = 0; i < n; i++) {
        ops[i].kind = STORE_OP_LAUNCH;
        ops[i].u.launch = (struct launch){ .asset_id = ids[i], .scan_type = (int)lr.scan->type,
            .override_cpu = lr.override_cpu, .user = r->who.user, .remote = r->remote,
            .at_ms = at };
    }
    free(ids);
    r->handler_mem = ops;
    r->commit.ops = ops;
    r->commit.nops = n;
    r->commit.done = launch_committed;
    r->commit.ctx = r;
    http_suspend(r);
    rc = committer_submit(r->srv->committer, &r->commit);
    if (rc != 0) {
        http_resume(r);
        r->commit_rc = rc;
    }
    return HANDLER_SUSPENDED;
}

enum handler_result
api_ods_launch_bulk_done(struct request *r)
{
    const struct store_op *ops = r->commit.ops;
    const struct scan_type_info *scan = scan_type_get(ops[0].u.launch.scan_type);
    int64_t *ids;
    size_t n = 0;

    if (r->commit_rc == ODS_E_SHUTDOWN) {
        http_reply_errorf(r, 503, QPS_SERVICE_UNAVAILABLE, "Retry in a few seconds.",
            "The server is shutting down; no scan was launched");
        return HANDLER_REPLY;
    }
    if (r->commit_rc != 0) {
        http_reply_internal(r, "the scan jobs could not be stored; nothing was launched",
            r->commit_rc);
        return HANDLER_REPLY;
    }
    if ((ids = calloc(r->commit.nops, sizeof(*ids))) == NULL) {
        http_reply_internal(r, "out of memory after the launch", ODS_E_NOMEM);
        return HANDLER_REPLY;
    }
    /* assets without the scan's module (or deleted meanwhile) got no job: left out */
    for (size_t i = 0; i < r->commit.nops; i++)
        if (ops[i].u.launch.result == ODS_E_OK)
            ids[n++] = ops[i].u.launch.asset_id;
    r->status = 200;
    if (qps_render_launch(&r->out, r->fmt, http_base_url(r), scan->module, ids, n) != 0)
        http_reply_internal(r, "response too large", ODS_E_TOOBIG);
    free(ids);
    return HANDLER_REPLY;
}
