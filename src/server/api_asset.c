/* api_asset.c - the agent (HostAsset) resource of the QPS asset-management API:
 * search by filters with paging, get one, count; XML or JSON, one document tree
 * rendered both ways (qps_render_tree). Reads only; every role; the caller's scope
 * applies (out of scope = missing). */
#include "api.h"
#include "err.h"
#include "qps_filter.h"
#include "scope.h"
#include "server.h"
#include "util.h"

#include <jansson.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A search page is cut short (hasMoreRecords true, lastId the last asset sent) when
 * its document would pass this size: software lists make HostAssets large. */
#define ASSET_PAGE_BYTES_MAX  (16u << 20)
#define ASSET_RESPONSE_MAX    (ASSET_PAGE_BYTES_MAX + (1u << 20))

/* str_json makes a JSON string of text from the database; bytes that are not UTF-8
 * (SQLite does not check) become '?'. NULL only when out of memory. */
static json_t *
str_json(const char *s)
{
    json_t *v = json_string(s != NULL ? s : "");

    if (v != NULL)
        return v;
    char *copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80 || (unsigned char)*p < 0x20)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
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

/* set adds a member, taking the reference; a NULL value (out of memory) sticks. */
static int
set(json_t *o, const char *key, json_t *v)
{
    if (v == NULL)
        return ODS_E_NOMEM;
    return json_object_set_new(o, key, v) == 0 ? ODS_E_OK : ODS_E_NOMEM;
}

/* list_wrap returns {"list": items} (the vendor's shape), taking items. */
static json_t *
list_wrap(json_t *items)
{
    return items != NULL ? json_pack("{s:o}", "list", items) : NULL;
}

/* One row {"Type": members} of a list, taking members. */
static int
list_add(json_t *items, const char *type, json_t *members)
{
    if (members == NULL)
        return ODS_E_NOMEM;
    return json_array_append_new(items, json_pack("{s:o}", type, members)) == 0 ?
        ODS_E_OK : ODS_E_NOMEM;
}

static const char *
jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : "";
}

/* inventory_lists adds software, networkInterface and openPort from the asset's
 * latest inventory document (docs/agent.md); nothing when it has none. */
static int
inventory_lists(store_t *st, int64_t id, json_t *host)
{
    char *doc = NULL;
    size_t len = 0;
    int64_t job = 0, at = 0;
    json_t *inv = NULL, *sw = json_array(), *nics = json_array(), *ports = json_array();
    int rc = store_inventory_get(st, id, &doc, &len, &job, &at);

    if (sw == NULL || nics == NULL || ports == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    if (rc == ODS_E_NOTFOUND)
        rc = ODS_E_OK;
    else if (rc == ODS_E_OK && (inv = json_loadb(doc, len, 0, NULL)) != NULL) {
        size_t i, k;
        json_t *e, *a;
        json_array_foreach(json_object_get(inv, "packages"), i, e) {
            if (rc == 0)
                rc = list_add(sw, "HostAssetSoftware", json_pack("{s:o,s:o}",
                    "name", str_json(jstr(e, "name")), "version", str_json(jstr(e, "version"))));
        }
        json_array_foreach(json_object_get(inv, "interfaces"), i, e) {
            static const char *const families[] = { "ipv4", "ipv6" };
            size_t added = 0;
            for (size_t f = 0; f < 2; f++) {
                json_array_foreach(json_object_get(e, families[f]), k, a) {
                    if (rc == 0 && json_is_string(a))
                        rc = list_add(nics, "HostAssetInterface", json_pack("{s:o,s:o,s:o}",
                            "interfaceName", str_json(jstr(e, "name")),
                            "macAddress", str_json(jstr(e, "mac")),
                            "address", str_json(json_string_value(a))));
                    added++;
                }
            }
            if (rc == 0 && added == 0)
                rc = list_add(nics, "HostAssetInterface", json_pack("{s:o,s:o}",
                    "interfaceName", str_json(jstr(e, "name")),
                    "macAddress", str_json(jstr(e, "mac"))));
        }
        json_array_foreach(json_object_get(inv, "listening"), i, e) {
            char proto[8];
            size_t p;
            const char *pr = jstr(e, "proto");
            for (p = 0; p + 1 < sizeof(proto) && pr[p] != '\0'; p++)
                proto[p] = (char)toupper((unsigned char)pr[p]);
            proto[p] = '\0';
            if (rc == 0)
                rc = list_add(ports, "HostAssetOpenPort", json_pack("{s:I,s:o,s:o}",
                    "port", (json_int_t)json_integer_value(json_object_get(e, "port")),
                    "protocol", str_json(proto), "serviceName", str_json(jstr(e, "process"))));
        }
    }
    if (rc != ODS_E_OK)
        goto out;
    rc = set(host, "software", list_wrap(sw));
    sw = NULL;
    if (rc == 0)
        rc = set(host, "networkInterface", list_wrap(nics));
    nics = NULL;
    if (rc == 0)
        rc = set(host, "openPort", list_wrap(ports));
    ports = NULL;
out:
    json_decref(inv);
    json_decref(sw);
    json_decref(nics);
    json_decref(ports);
    free(doc);
    return rc;
}

/* Activation keys by id, read once per request when an asset needs one. */
struct key_cache {
    bool           loaded;
    struct actkey *keys;
    size_t         n;
};

static const struct actkey *
key_find(store_t *st, struct key_cache *kc, int64_t id)
{
    if (id == 0)
        return NULL;
    if (!kc->loaded && store_key_list(st, &kc->keys, &kc->n) == ODS_E_OK)
        kc->loaded = true;
    for (size_t i = 0; i < kc->n; i++)
        if (kc->keys[i].id == id)
            return &kc->keys[i];
    return NULL;
}

/* modules_text writes the modules as the vendor names them: "AGENT_VM,AGENT_PC". */
static void
modules_text(unsigned mods, char *dst, size_t n)
{
    char plain[64];
    size_t used = 0;

    module_format(mods, plain, sizeof(plain));
    dst[0] = '\0';
    for (char *p = plain; *p != '\0' && used < n;) {
        size_t len = strcspn(p, ",");
        int w = snprintf(dst + used, n - used, "%sAGENT_%.*s", used ? "," : "", (int)len, p);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
        p += len + (p[len] == ',');
    }
}

/* vuln_list sets the asset's open findings as vuln/list/HostAssetVuln: `qid` holds
 * the advisory id (odscan's findings come from OSV and tracker advisories, not from
 * numbered QIDs), firstFound/lastFound the finding's first and last sighting. */
static int
vuln_list(store_t *st, int64_t asset_id, json_t *host)
{
    struct finding_query q = { .asset_id = asset_id, .status = FINDING_OPEN };
    struct finding *f = NULL;
    size_t n = 0;
    json_t *list = json_array();
    int rc = list != NULL ? store_findings_list(st, &q, &f, &n) : ODS_E_NOMEM;

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = list_add(list, "HostAssetVuln", json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
            "qid", str_json(f[i].advisory_id),
            "hostInstanceVulnId", str_json(f[i].advisory_id),
            "cve", str_json(f[i].aliases),
            "package", str_json(f[i].package),
            "severity", str_json(f[i].severity),
            "fixedVersion", str_json(f[i].fixed_version),
            "firstFound", time_json(f[i].first_seen_ms),
            "lastFound", time_json(f[i].last_seen_ms)));
    free(f);
    if (rc == 0) {
        rc = set(host, "vuln", list_wrap(list));
        list = NULL;
    }
    json_decref(list);
    return rc;
}

/* host_asset builds one HostAsset (the vendor's element names). *out: caller decrefs. */
static int
host_asset(store_t *st, const struct asset *a, struct key_cache *kc, json_t **out)
{
    struct profile prof;
    struct tag *tags = NULL;
    size_t ntags = 0;
    char os[160], mods[96];
    json_t *h = json_object(), *agent = json_object(), *tl = json_array();
    int rc = ODS_E_NOMEM;

    *out = NULL;
    if (h == NULL || agent == NULL || tl == NULL)
        goto out;
    if (a->os_name[0] != '\0')
        snprintf(os, sizeof(os), "%s%s%s", a->os_name, a->os_version[0] ? " " : "", a->os_version);
    else
        snprintf(os, sizeof(os), "%s", a->os_family);
    modules_text(a->modules, mods, sizeof(mods));
    rc = set(h, "id", json_integer(a->id));
    if (rc == 0) rc = set(h, "name", str_json(a->hostname));
    if (rc == 0) rc = set(h, "created", time_json(a->created_ms));
    if (rc == 0) rc = set(h, "modified", time_json(a->updated_ms));
    if (rc == 0) rc = set(h, "type", json_string("HOST"));
    if (rc == 0) rc = set(h, "trackingMethod", json_string("QAGENT"));
    if (rc == 0) rc = set(h, "dnsHostName", str_json(a->fqdn[0] ? a->fqdn : a->hostname));
    if (rc == 0) rc = set(h, "fqdn", str_json(a->fqdn));
    if (rc == 0) rc = set(h, "address", str_json(a->last_address));
    if (rc == 0) rc = set(h, "os", str_json(os));
    int64_t vscan = 0;
    if (rc == 0 && store_vuln_last_scan(st, a->id, &vscan) != ODS_E_OK)
        vscan = 0;
    if (rc == 0) rc = set(h, "lastVulnScan", time_json(vscan));

    if (rc == 0) rc = set(agent, "agentVersion", str_json(a->agent_version));
    if (rc == 0) rc = set(agent, "agentId", str_json(a->agent_uuid));
    if (rc == 0) rc = set(agent, "status", json_string(a->last_checkin_ms != 0 ?
        "STATUS_ACTIVE" : "STATUS_INACTIVE"));
    if (rc == 0) rc = set(agent, "lastCheckedIn", time_json(a->last_checkin_ms));
    if (rc == 0) rc = set(agent, "connectedFrom", str_json(a->last_address));
    if (rc == 0) rc = set(agent, "platform", str_json(a->os_family));
    if (rc == 0) rc = set(agent, "activatedModule", json_string(mods));
    if (rc == 0 && store_profile_for_asset(st, a->id, &prof) == ODS_E_OK)
        rc = set(agent, "agentConfiguration", json_pack("{s:I,s:o}", "id", (json_int_t)prof.id,
            "name", str_json(prof.name)));
    const struct actkey *k = key_find(st, kc, a->key_id);
    if (rc == 0 && k != NULL)
        rc = set(agent, "activationKey", json_pack("{s:o,s:o}", "activationId",
            str_json(k->token), "title", str_json(k->name)));
    if (rc == 0) {
        rc = set(h, "agentInfo", agent);
        agent = NULL;
    }
    if (rc == 0)
        rc = store_asset_tags(st, a->id, &tags, &ntags);
    for (size_t i = 0; rc == 0 && i < ntags; i++)
        rc = list_add(tl, "TagSimple", json_pack("{s:I,s:o}", "id", (json_int_t)tags[i].id,
            "name", str_json(tags[i].name)));
    if (rc == 0) {
        rc = set(h, "tags", list_wrap(tl));
        tl = NULL;
    }
    if (rc == 0)
        rc = inventory_lists(st, a->id, h);
    if (rc == 0)
        rc = vuln_list(st, a->id, h);
    if (rc == 0) {
        *out = h;
        h = NULL;
    }
out:
    free(tags);
    json_decref(h);
    json_decref(agent);
    json_decref(tl);
    return rc;
}

/* reply_tree renders response (a ServiceResponse's members) as the reply. */
static enum handler_result
reply_tree(struct request *r, json_t *response)
{
    int rc = response != NULL ? qps_render_tree(&r->out, r->fmt, response) : ODS_E_NOMEM;

    json_decref(response);
    if (rc != 0)
        http_reply_internal(r, "response not built", rc);
    else
        r->status = 200;
    return HANDLER_REPLY;
}

/* read_query parses the body's filters into *f and a scoped query over them. On
 * failure the reply is set and false returned (*f must still be freed). */
static bool
read_query(struct request *r, struct qps_filter *f, struct asset_query *q)
{
    struct qps_error e;

    if (qps_filter_read(r->body.data, r->body.len, f, &e) != ODS_E_OK) {
        http_reply_error(r, &e);
        return false;
    }
    memset(q, 0, sizeof(*q));
    q->criteria = f->criteria;
    q->ncriteria = f->ncriteria;
    scope_query(&r->who, q);
    return true;
}

enum handler_result
api_asset_search(struct request *r)
{
    struct qps_filter f;
    struct asset_query q;
    struct key_cache kc = { 0 };
    int64_t *ids = NULL, last = 0;
    size_t n = 0, sent = 0, bytes = 0;
    bool more = false;
    json_t *data = NULL, *resp = NULL;
    int rc;

    if (!read_query(r, &f, &q))
        goto out;
    q.limit = f.limit;
    q.offset = f.offset;
    if ((rc = store_asset_search(r->srv->store, &q, &ids, &n, &more)) != ODS_E_OK) {
        http_reply_internal(r, "assets not searched", rc);
        goto out;
    }
    if ((data = json_array()) == NULL) {
        http_reply_internal(r, "response not built", ODS_E_NOMEM);
        goto out;
    }
    for (sent = 0; sent < n; sent++) {
        struct asset a;
        json_t *h = NULL;
        rc = store_asset_get(r->srv->store, ids[sent], &a);
        if (rc == ODS_E_NOTFOUND)
            continue;               /* deleted since the search */
        if (rc == ODS_E_OK)
            rc = host_asset(r->srv->store, &a, &kc, &h);
        if (rc != ODS_E_OK) {
            http_reply_internal(r, "asset not read", rc);
            goto out;
        }
        /* the page stops before the asset that would make it too large */
        char *text = json_dumps(h, JSON_COMPACT);
        size_t len = text != NULL ? strlen(text) * 2 : 0;   /* XML is larger than JSON */
        free(text);
        if (sent > 0 && bytes + len > ASSET_PAGE_BYTES_MAX) {
            json_decref(h);
            more = true;
            break;
        }
        bytes += len;
        if (json_array_append_new(data, json_pack("{s:o}", "HostAsset", h)) != 0) {
            http_reply_internal(r, "response not built", ODS_E_NOMEM);
            goto out;
        }
        last = ids[sent];
    }
    r->out.max = ASSET_RESPONSE_MAX;
    resp = json_pack("{s:s,s:I,s:s}", "responseCode", "SUCCESS",
        "count", (json_int_t)json_array_size(data), "hasMoreRecords", more ? "true" : "false");
    if (resp != NULL && more)
        set(resp, "lastId", json_integer(last));
    if (resp != NULL)
        json_object_set(resp, "data", data);
    reply_tree(r, resp);
out:
    json_decref(data);
    free(ids);
    free(kc.keys);
    qps_filter_free(&f);
    return HANDLER_REPLY;
}

enum handler_result
api_asset_count(struct request *r)
{
    struct qps_filter f;
    struct asset_query q;
    size_t n = 0;
    int rc;

    if (read_query(r, &f, &q)) {
        if ((rc = store_asset_count(r->srv->store, &q, &n)) != ODS_E_OK)
            http_reply_internal(r, "assets not counted", rc);
        else
            reply_tree(r, json_pack("{s:s,s:I}", "responseCode", "SUCCESS",
                "count", (json_int_t)n));
    }
    qps_filter_free(&f);
    return HANDLER_REPLY;
}

enum handler_result
api_asset_get(struct request *r)
{
    struct key_cache kc = { 0 };
    struct asset a;
    uint64_t id = 0;
    json_t *h = NULL;
    int rc;

    if (parse_u64(r->param, INT64_MAX, &id) != 0 || id == 0) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Use a positive integer asset id.",
            "Invalid asset id '%.64s'", r->param);
        return HANDLER_REPLY;
    }
    rc = scope_asset_visible(r->srv->store, &r->who, (int64_t)id);
    if (rc == ODS_E_OK)
        rc = store_asset_get(r->srv->store, (int64_t)id, &a);
    if (rc == ODS_E_NOTFOUND) {
        http_reply_errorf(r, 404, QPS_NOT_FOUND,
            "Check the asset id; search agents to find the ids this server knows.",
            "Asset %llu not found", (unsigned long long)id);
        return HANDLER_REPLY;
    }
    if (rc == ODS_E_OK)
        rc = host_asset(r->srv->store, &a, &kc, &h);
    free(kc.keys);
    if (rc != ODS_E_OK) {
        http_reply_internal(r, "asset not read", rc);
        return HANDLER_REPLY;
    }
    return reply_tree(r, json_pack("{s:s,s:i,s:[{s:o}]}", "responseCode", "SUCCESS",
        "count", 1, "data", "HostAsset", h));
}
