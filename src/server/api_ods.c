/* api_ods.c - the on-demand scan resource: POST /qps/rest/1.0/ods/ca/agentasset/<id>.
 * The launch is validated here, written by the group committer, and answered only
 * after its transaction is durable. */
#include "api.h"
#include "err.h"
#include "log.h"
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

enum handler_result
api_ods_launch_bulk(struct request *r)
{
    http_reply_errorf(r, 501, QPS_INVALID_REQUEST,
        "Launch on each asset with POST /qps/rest/1.0/ods/ca/agentasset/<id>.",
        "Launch by filter is not implemented in this version of odscan");
    return HANDLER_REPLY;
}
