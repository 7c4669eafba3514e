/* api_module.c - activating and deactivating agent modules on assets:
 * POST /qps/rest/2.0/{activate,deactivate}/am/asset[/<id>]?module=AGENT_VM,...
 * One asset by id, or every asset a filter matches; the whole change is one
 * transaction, refused whole when any asset would break a module rule. */
#include "api.h"
#include "err.h"
#include "qps_filter.h"
#include "scope.h"
#include "server.h"
#include "util.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MODULE_BULK_MAX  10000     /* assets one filtered call may change */
#define MODULE_HINT "Give module=AGENT_VM,AGENT_PC,... (AGENT_VM, AGENT_PC, AGENT_SCA, " \
    "AGENT_SWCA, AGENT_UDC)"

/* The modules odscan knows, with the vendor's spelling; the vendor's others
 * (AGENT_FIM, AGENT_EDR, ...) are refused by name. */
static const struct {
    const char *name;
    unsigned    bit;
} module_names[] = {
    { "AGENT_VM", MOD_VM }, { "AGENT_PC", MOD_PC }, { "AGENT_SCA", MOD_SCA },
    { "AGENT_SWCA", MOD_SWCA }, { "AGENT_UDC", MOD_UDC },
};

/* parse_modules reads the `module` query argument (names matched in any case, so
 * the vendor's AGENT_SwCA is AGENT_SWCA). On failure *e is set. */
static int
parse_modules(const struct request *r, unsigned *mods, struct qps_error *e)
{
    const char *value = NULL;
    int seen = 0;

    for (size_t i = 0; i < r->nargs; i++)
        if (r->args[i].key != NULL && strcasecmp(r->args[i].key, "module") == 0) {
            value = r->args[i].value;
            seen++;
        }
    if (seen != 1 || value == NULL || *value == '\0') {
        qps_error_set(e, 400, QPS_INVALID_REQUEST, MODULE_HINT,
            seen > 1 ? "Parameter 'module' is given %d times" : "Missing parameter 'module'%.0d",
            seen);
        return ODS_E_PARSE;
    }
    *mods = 0;
    for (const char *p = value;;) {
        size_t len = strcspn(p, ",");
        size_t i;
        for (i = 0; i < sizeof(module_names) / sizeof(module_names[0]); i++)
            if (strlen(module_names[i].name) == len &&
                strncasecmp(p, module_names[i].name, len) == 0)
                break;
        if (i == sizeof(module_names) / sizeof(module_names[0])) {
            qps_error_set(e, 400, QPS_INVALID_REQUEST, MODULE_HINT,
                "Unknown or unsupported module '%.*s'", (int)(len > 64 ? 64 : len), p);
            return ODS_E_PARSE;
        }
        *mods |= module_names[i].bit;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return ODS_E_OK;
}

static void
modules_text(unsigned mods, char *dst, size_t n)
{
    size_t used = 0;

    dst[0] = '\0';
    for (size_t i = 0; i < sizeof(module_names) / sizeof(module_names[0]); i++) {
        if (!(mods & module_names[i].bit))
            continue;
        int w = snprintf(dst + used, n - used, "%s%s", used ? "," : "", module_names[i].name);
        if (w < 0 || (size_t)w >= n - used)
            return;
        used += (size_t)w;
    }
}

/* find_assets fills *ids with the assets the call names: the path's id (when visible)
 * or the filter's matches. On failure the reply is set and false returned. */
static bool
find_assets(struct request *r, int64_t **ids, size_t *n)
{
    struct qps_filter f;
    struct qps_error e;
    struct asset_query q = { 0 };
    bool more = false, ok = false;
    int rc;

    *ids = NULL;
    *n = 0;
    if (qps_filter_read(r->body.data, r->body.len, &f, &e) != ODS_E_OK) {
        http_reply_error(r, &e);
        goto out;
    }
    if (r->param != NULL) {
        uint64_t id;
        if (f.ncriteria > 0) {
            http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
                "Drop the id from the path to change the assets a filter matches.",
                "A call on one asset takes no filters");
            goto out;
        }
        if (parse_u64(r->param, INT64_MAX, &id) != 0 || id == 0) {
            http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Use a positive integer asset id.",
                "Invalid asset id '%.64s'", r->param);
            goto out;
        }
        rc = scope_asset_visible(r->srv->store, &r->who, (int64_t)id);
        if (rc == ODS_E_NOTFOUND) {
            http_reply_errorf(r, 404, QPS_NOT_FOUND, "Check the asset id.",
                "Asset %llu not found", (unsigned long long)id);
            goto out;
        }
        if (rc != ODS_E_OK || (*ids = malloc(sizeof(**ids))) == NULL) {
            http_reply_internal(r, "asset not read", rc != ODS_E_OK ? rc : ODS_E_NOMEM);
            goto out;
        }
        (*ids)[0] = (int64_t)id;
        *n = 1;
        ok = true;
        goto out;
    }
    if (f.ncriteria == 0) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "Add <filters> with at least one Criteria, or put an asset id in the path.",
            "A call by filter needs at least one criterion");
        goto out;
    }
    q.criteria = f.criteria;
    q.ncriteria = f.ncriteria;
    q.limit = MODULE_BULK_MAX;
    scope_query(&r->who, &q);
    if ((rc = store_asset_search(r->srv->store, &q, ids, n, &more)) != ODS_E_OK) {
        http_reply_internal(r, "assets not searched", rc);
        goto out;
    }
    if (more) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "Narrow the filters, e.g. id IN batches of 1000 ids.",
            "The filters match more than %d assets", MODULE_BULK_MAX);
        goto out;
    }
    ok = true;
out:
    if (!ok) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    qps_filter_free(&f);
    return ok;
}

/* change runs an activation (on) or a deactivation (off). */
static enum handler_result
change(struct request *r, bool on, const char *action)
{
    struct qps_error e;
    unsigned mods = 0;
    int64_t *ids = NULL;
    size_t n = 0;
    const char *why = NULL;
    char target[STORE_TEXT_MAX], names[96];
    json_t *data = NULL, *resp = NULL;

    if (snprintf(target, sizeof(target), "asset=%s module=%s", r->param ? r->param : "filter",
        "?") < 0)
        target[0] = '\0';
    if (parse_modules(r, &mods, &e) != ODS_E_OK) {
        server_audit(r->srv, r->who.user, r->remote, action, target, qps_code_name(e.code),
            e.message);
        http_reply_error(r, &e);
        return HANDLER_REPLY;
    }
    modules_text(mods, names, sizeof(names));
    if (snprintf(target, sizeof(target), "asset=%s module=%s", r->param ? r->param : "filter",
        names) < 0)
        target[0] = '\0';
    if (!find_assets(r, &ids, &n))
        return HANDLER_REPLY;
    int rc = n == 0 ? ODS_E_OK :
        store_asset_set_modules(r->srv->store, ids, n, on ? mods : 0, on ? 0 : mods, &why);
    if (rc == ODS_E_PERM) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "AGENT_PC and AGENT_SCA exclude each other; AGENT_SWCA needs AGENT_VM. "
            "Nothing was changed.",
            "Refused: %s", why != NULL ? why : "a module rule would break");
        server_audit(r->srv, r->who.user, r->remote, action, target, "INVALID_REQUEST",
            why != NULL ? why : "module rule");
        goto out;
    }
    if (rc == ODS_E_NOTFOUND) {     /* deleted between the search and the change */
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "Retry the call.", "An asset disappeared");
        goto out;
    }
    if (rc != ODS_E_OK) {
        http_reply_internal(r, "modules not changed", rc);
        goto out;
    }
    char detail[64];
    snprintf(detail, sizeof(detail), "assets=%zu", n);
    server_audit(r->srv, r->who.user, r->remote, action, target, "SUCCESS", detail);
    if ((data = json_array()) == NULL) {
        http_reply_internal(r, "response not built", ODS_E_NOMEM);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct asset a;
        char now[96];
        if (store_asset_get(r->srv->store, ids[i], &a) != ODS_E_OK)
            continue;
        modules_text(a.modules, now, sizeof(now));
        json_array_append_new(data, json_pack("{s:{s:I,s:s?,s:{s:s}}}", "Asset",
            "id", (json_int_t)a.id, "name", a.hostname,
            "agentInfo", "activatedModule", now));
    }
    resp = json_pack("{s:s,s:I,s:O}", "responseCode", "SUCCESS",
        "count", (json_int_t)json_array_size(data), "data", data);
    if (resp == NULL || qps_render_tree(&r->out, r->fmt, resp) != 0)
        http_reply_internal(r, "response not built", ODS_E_NOMEM);
    else
        r->status = 200;
out:
    json_decref(resp);
    json_decref(data);
    free(ids);
    return HANDLER_REPLY;
}

enum handler_result
api_module_activate(struct request *r)
{
    return change(r, true, "activate");
}

enum handler_result
api_module_deactivate(struct request *r)
{
    return change(r, false, "deactivate");
}
