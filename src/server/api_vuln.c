/* api_vuln.c - the JSON API of vulnerability assessment: an asset's findings, the
 * assets an advisory or CVE affects, fleet counts, and knowledge-base imports (run on
 * a worker thread, one transaction). */
#include "api.h"
#include "scope.h"
#include "err.h"
#include "kbsource.h"
#include "log.h"
#include "server.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VULN_ID_PARAM_MAX  STORE_ADVISORY_ID_MAX
#define IMPORT_REJECTS_SHOWN 100    /* rejects listed in a reply; all are counted */

/* The severities a filter may name, and the order of the summary. */
static const char *const severities[] = {
    "CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE", "UNKNOWN",
};

static const struct {
    const char          *name;
    enum finding_status  status;
} statuses[] = {
    { "all", FINDING_ANY }, { "open", FINDING_OPEN }, { "fixed", FINDING_FIXED },
};

/* arg returns the value of query argument key, NULL when absent. */
static const char *
arg(const struct request *r, const char *key)
{
    for (size_t i = 0; i < r->nargs; i++)
        if (strcmp(r->args[i].key, key) == 0)
            return r->args[i].value != NULL ? r->args[i].value : "";
    return NULL;
}

/* unscoped refuses users limited to tagged assets where a reply would aggregate over
 * assets they cannot see (the fleet summary). XXX a scoped summary. */
static bool
unscoped(struct request *r)
{
    if (r->who.scope_all)
        return true;
    http_reply_errorf(r, 403, QPS_OPERATION_NOT_PERMITTED,
        "Ask a manager; scoped users cannot read findings yet.",
        "Vulnerability findings are not available to users with an asset scope");
    return false;
}

/* reply_json serialises doc (taking it) as the 200 reply. */
static enum handler_result
reply_json(struct request *r, json_t *doc, unsigned status)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    int rc = text == NULL ? ODS_E_NOMEM : buf_puts(&r->out, text);

    if (rc == 0)
        rc = buf_puts(&r->out, "\n");
    free(text);
    json_decref(doc);
    if (rc != 0)
        http_reply_internal(r, "reply not built", rc);
    else
        http_reply_json(r, status);
    return HANDLER_REPLY;
}

static json_t *
time_json(int64_t ms)
{
    char t[32];

    if (ms == 0)
        return json_null();
    fmt_iso8601(t, sizeof(t), ms);
    return json_string(t);
}

static json_t *
aliases_json(const char *joined)
{
    json_t *arr = json_array();
    const char *p = joined;

    while (arr != NULL && *p != '\0') {
        size_t len = strcspn(p, ",");
        if (json_array_append_new(arr, json_stringn(p, len)) != 0) {
            json_decref(arr);
            return NULL;
        }
        p += len + (p[len] == ',');
    }
    return arr;
}

static json_t *
finding_json(const struct finding *f)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s?, s:s, s:o, s:s, s:o, s:o, s:o}",
        "asset_id", (json_int_t)f->asset_id, "advisory_id", f->advisory_id,
        "aliases", aliases_json(f->aliases), "package", f->package,
        "installed_version", f->installed_version,
        "fixed_version", f->fixed_version[0] != '\0' ? f->fixed_version : NULL,
        "severity", f->severity,
        "score", f->score10 >= 0 ? json_real(f->score10 / 10.0) : json_null(),
        "status", f->fixed_ms != 0 ? "fixed" : "open",
        "first_seen", time_json(f->first_seen_ms), "last_seen", time_json(f->last_seen_ms),
        "fixed", time_json(f->fixed_ms));
}

/* query_filters reads severity, package and status into q (status defaulting to dflt);
 * false with the reply set when one is invalid. */
static bool
query_filters(struct request *r, struct finding_query *q, enum finding_status dflt)
{
    const char *sev = arg(r, "severity"), *pkg = arg(r, "package"), *st = arg(r, "status");
    size_t i;

    q->status = dflt;
    if (sev != NULL) {
        for (i = 0; i < sizeof(severities) / sizeof(severities[0]); i++)
            if (strcasecmp(sev, severities[i]) == 0)
                break;
        if (i == sizeof(severities) / sizeof(severities[0])) {
            http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
                "Use CRITICAL, HIGH, MEDIUM, LOW, NONE or UNKNOWN.", "Unknown severity '%.32s'", sev);
            return false;
        }
        q->severity = severities[i];
    }
    if (pkg != NULL) {
        if (pkg[0] == '\0' || strlen(pkg) >= STORE_PACKAGE_MAX) {
            http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Name one package.",
                "Invalid package filter");
            return false;
        }
        q->package = pkg;
    }
    if (st != NULL) {
        for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
            if (strcasecmp(st, statuses[i].name) == 0)
                break;
        if (i == sizeof(statuses) / sizeof(statuses[0])) {
            http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Use open, fixed or all.",
                "Unknown status '%.32s'", st);
            return false;
        }
        q->status = statuses[i].status;
    }
    return true;
}

/* findings_reply answers {<head>..., "count", "findings": [...]} for a query. */
static enum handler_result
findings_reply(struct request *r, const struct finding_query *q, json_t *head)
{
    struct finding *f = NULL;
    size_t n = 0;
    json_t *list;
    bool visible_last = false;
    int rc = store_findings_list(r->srv->store, q, &f, &n);

    if (rc != 0) {
        json_decref(head);
        http_reply_internal(r, "findings not read", rc);
        return HANDLER_REPLY;
    }
    list = json_array();
    size_t shown = 0;
    for (size_t i = 0; list != NULL && i < n; i++) {
        /* out of the caller's scope, an asset's findings do not exist */
        if (!r->who.scope_all && (i == 0 || f[i].asset_id != f[i - 1].asset_id))
            visible_last = scope_asset_visible(r->srv->store, &r->who, f[i].asset_id) == 0;
        if (!r->who.scope_all && !visible_last)
            continue;
        if (json_array_append_new(list, finding_json(&f[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
        shown++;
    }
    free(f);
    n = shown;
    if (head == NULL || list == NULL ||
        json_object_set_new(head, "count", json_integer((json_int_t)n)) != 0 ||
        json_object_set_new(head, "findings", list) != 0) {
        json_decref(head);
        return reply_json(r, NULL, 200);
    }
    return reply_json(r, head, 200);
}

enum handler_result
api_vuln_asset(struct request *r)
{
    struct finding_query q = { 0 };
    struct asset a;
    uint64_t id;
    int64_t last = 0;
    int rc;

    if (parse_u64(r->param, INT64_MAX, &id) != 0 || id == 0) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Use a positive integer id.",
            "Invalid asset id '%s'", r->param);
        return HANDLER_REPLY;
    }
    rc = scope_asset_visible(r->srv->store, &r->who, (int64_t)id);
    if (rc == 0)
        rc = store_asset_get(r->srv->store, (int64_t)id, &a);
    if (rc != 0) {
        if (rc == ODS_E_NOTFOUND)
            http_reply_errorf(r, 404, QPS_NOT_FOUND, "Check the asset id.",
                "Asset %llu not found", (unsigned long long)id);
        else
            http_reply_internal(r, "asset not read", rc);
        return HANDLER_REPLY;
    }
    q.asset_id = (int64_t)id;
    if (!query_filters(r, &q, FINDING_ANY))
        return HANDLER_REPLY;
    rc = store_vuln_last_scan(r->srv->store, q.asset_id, &last);
    if (rc != 0 && rc != ODS_E_NOTFOUND) {
        http_reply_internal(r, "last scan not read", rc);
        return HANDLER_REPLY;
    }
    return findings_reply(r, &q, json_pack("{s:I, s:o}", "asset_id", (json_int_t)id,
        "last_vuln_scan", time_json(rc == 0 ? last : 0)));
}

enum handler_result
api_vuln_who(struct request *r)
{
    struct finding_query q = { 0 };

    if (r->param[0] == '\0' || strlen(r->param) >= VULN_ID_PARAM_MAX) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Name an advisory id or a CVE.",
            "Invalid vulnerability id");
        return HANDLER_REPLY;
    }
    q.vuln_id = r->param;
    if (!query_filters(r, &q, FINDING_OPEN))
        return HANDLER_REPLY;
    return findings_reply(r, &q, json_pack("{s:s}", "id", r->param));
}

enum handler_result
api_vuln_summary(struct request *r)
{
    struct severity_count *c = NULL;
    size_t n = 0, affected = 0, scanned = 0, advisories = 0;
    int64_t epoch = 0;
    json_t *doc, *sev;
    int rc;

    if (!unscoped(r))
        return HANDLER_REPLY;
    rc = store_findings_summary(r->srv->store, &c, &n, &affected, &scanned);
    if (rc == 0)
        rc = store_kb_count(r->srv->store, &advisories);
    if (rc == 0)
        rc = store_kb_epoch(r->srv->store, &epoch);
    if (rc != 0) {
        free(c);
        http_reply_internal(r, "summary not read", rc);
        return HANDLER_REPLY;
    }
    sev = json_object();
    for (size_t i = 0; sev != NULL && i < sizeof(severities) / sizeof(severities[0]); i++) {
        size_t open = 0, fixed = 0, assets = 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(c[k].severity, severities[i]) == 0) {
                open = c[k].open;
                fixed = c[k].fixed;
                assets = c[k].assets;
            }
        if (json_object_set_new(sev, severities[i], json_pack("{s:I, s:I, s:I}", "open",
                (json_int_t)open, "fixed", (json_int_t)fixed, "assets", (json_int_t)assets)) != 0) {
            json_decref(sev);
            sev = NULL;
        }
    }
    free(c);
    doc = json_pack("{s:I, s:I, s:I, s:I, s:o}", "assets_scanned", (json_int_t)scanned,
        "assets_affected", (json_int_t)affected, "advisories", (json_int_t)advisories,
        "kb_epoch", (json_int_t)epoch, "severities", sev);
    return reply_json(r, doc, 200);
}

/* ---- knowledge-base import ------------------------------------------------------ */

/* import_build runs the import of the request body and builds the reply into r->out
 * and r->import_status. On a worker thread. */
static void
import_build(struct request *r, bool strict)
{
    struct kb_load kb;
    struct kb_counts counts = { 0 };
    struct kb_record *recs = NULL;
    char why[KB_REJECT_WHY_MAX] = "";
    json_t *doc = NULL, *rejects;
    int rc;

    kb_load_init(&kb);
    rc = kb_load_buffer(r->body.data, r->body.len, "body", r->srv->cfg.state_dir, &kb, why,
        sizeof(why));
    if (rc == ODS_E_OK && strict && kb.nrejects > 0)
        rc = ODS_E_PARSE;
    if (rc == ODS_E_OK && kb.n > 0 && (recs = calloc(kb.n, sizeof(*recs))) == NULL)
        rc = ODS_E_NOMEM;
    for (size_t i = 0; rc == ODS_E_OK && i < kb.n; i++)
        recs[i] = (struct kb_record){ kb.docs[i].id, kb.docs[i].modified_ms, kb.docs[i].json,
            kb.docs[i].len, (const char *const *)kb.docs[i].aliases, kb.docs[i].naliases };
    if (rc == ODS_E_OK)
        rc = store_kb_import(r->srv->store, recs, kb.n, &counts);
    free(recs);

    rejects = json_array();
    for (size_t i = 0; rejects != NULL && i < kb.nrejects && i < KB_REJECTS_KEPT &&
        i < IMPORT_REJECTS_SHOWN; i++)
        json_array_append_new(rejects, json_string(kb.rejects[i].why));
    doc = json_pack("{s:b, s:I, s:I, s:I, s:I, s:o}", "imported", rc == ODS_E_OK,
        "added", (json_int_t)counts.added, "updated", (json_int_t)counts.updated,
        "skipped", (json_int_t)counts.skipped, "rejected", (json_int_t)kb.nrejects,
        "rejects", rejects != NULL ? rejects : json_array());
    if (rc != ODS_E_OK && doc != NULL) {
        const char *e = rc == ODS_E_PARSE ? "strict import refused: malformed records; nothing"
            " was imported" : why[0] != '\0' ? why : err_msg(rc);
        json_object_set_new(doc, "error", json_string(e));
    }
    r->import_status = rc == ODS_E_OK ? 200 : rc == ODS_E_PARSE ? 422 :
        rc == ODS_E_NOMEM || rc == ODS_E_STORE || rc == ODS_E_UNAVAILABLE ? 500 : 400;
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    buf_reset(&r->out);
    if (text == NULL || buf_puts(&r->out, text) != 0 || buf_puts(&r->out, "\n") != 0)
        r->import_status = 0;
    free(text);
    json_decref(doc);
    if (rc == ODS_E_OK)
        log_info("kb import by %s: %zu added, %zu updated, %zu skipped, %zu rejected", r->who.user,
            counts.added, counts.updated, counts.skipped, kb.nrejects);
    kb_load_free(&kb);
}

static void
import_on_worker(struct work *w)
{
    struct request *r = (struct request *)(void *)((char *)w - offsetof(struct request, slow_work));
    const char *strict = arg(r, "strict");

    import_build(r, strict != NULL && (strcmp(strict, "") == 0 || strcasecmp(strict, "true") == 0 ||
        strcmp(strict, "1") == 0));
    http_resume(r);
}

enum handler_result
api_kb_import(struct request *r)
{
    if (r->body.len == 0) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "Send OSV JSON, an array of it, a zip of it or the Debian tracker export.",
            "Empty body");
        return HANDLER_REPLY;
    }
    r->slow_work.run = import_on_worker;
    http_suspend(r);
    if (workers_submit(r->srv->slow, &r->slow_work) != 0) {
        r->import_status = 503;
        http_resume(r);
    }
    return HANDLER_SUSPENDED;
}

enum handler_result
api_kb_import_done(struct request *r)
{
    if (r->import_status == 503) {
        http_reply_errorf(r, 503, QPS_SERVICE_UNAVAILABLE, "Retry shortly.",
            "The server is shutting down");
        return HANDLER_REPLY;
    }
    if (r->import_status == 0) {
        http_reply_internal(r, "import reply not built", ODS_E_NOMEM);
        return HANDLER_REPLY;
    }
    http_reply_json(r, r->import_status);
    return HANDLER_REPLY;
}
