/* api_keys.c - activation keys over the QPS API
 * (/qps/rest/1.0/{create,search,get,update,delete}/ca/agentactkey[/<id>]): the same
 * keys as `odscanctl key`. The type is not stored: it follows from the use count and
 * the expiry (UNLIMITED, COUNT_LIMITED, TIME_LIMITED, COUNT_TIME_LIMITED). Managers
 * only: a key lets any host enroll. */
#include "api.h"
#include "err.h"
#include "qps_doc.h"
#include "scan.h"
#include "server.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define KEY_XSD       "/qps/xsd/1.0/ca/agentactkey.xsd"
#define KEY_TAGS_MAX  64
#define KEY_COUNT_MAX 2147483647

enum key_type { KT_UNLIMITED = 0, KT_COUNT, KT_TIME, KT_COUNT_TIME, KT_COUNT_OF };

static const char *const key_type_names[KT_COUNT_OF] = {
    "UNLIMITED", "COUNT_LIMITED", "TIME_LIMITED", "COUNT_TIME_LIMITED",
};

static enum key_type
key_type_of(const struct actkey *k)
{
    return (enum key_type)((k->max_uses > 0 ? 1 : 0) | (k->expires_ms > 0 ? 2 : 0));
}

static const char *
key_status(const struct actkey *k, int64_t now)
{
    if (k->revoked)
        return "DISABLED";
    if (k->expires_ms != 0 && now >= k->expires_ms)
        return "EXPIRED";
    if (k->max_uses != 0 && k->uses >= k->max_uses)
        return "USED_UP";
    return "ACTIVE";
}

static int64_t
id_param(struct request *r)
{
    uint64_t id;

    if (r->param == NULL || parse_u64(r->param, INT64_MAX, &id) != 0 || id == 0) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Use a positive integer id.",
            "Invalid activation key id '%s'", r->param != NULL ? r->param : "");
        return 0;
    }
    return (int64_t)id;
}

/* key_record builds {"AgentActKey": {...}}; NULL without memory. */
static json_t *
key_record(struct request *r, const struct actkey *k)
{
    char created[32], expires[32];
    struct tag *tags = NULL;
    size_t ntags = 0;
    json_t *mods = json_array(), *tl = json_array();

    if (store_key_tags(r->srv->store, k->id, &tags, &ntags) != 0)
        ntags = 0;
    for (unsigned bit = 1; bit <= MOD_ALL && mods != NULL; bit <<= 1) {
        char name[24];
        if (!(k->modules & bit))
            continue;
        module_format(bit, name, sizeof(name));
        json_array_append_new(mods, json_pack("{s:{s:s}}", "ActivationKeyModule", "license", name));
    }
    for (size_t i = 0; i < ntags && tl != NULL; i++)
        json_array_append_new(tl, json_pack("{s:{s:I, s:s}}", "TagSimple", "id",
            (json_int_t)tags[i].id, "name", tags[i].name));
    free(tags);
    fmt_iso8601(created, sizeof(created), k->created_ms);
    fmt_iso8601(expires, sizeof(expires), k->expires_ms);
    return json_pack("{s:{s:I, s:s, s:s, s:s, s:s, s:o, s:i, s:o, s:b, s:{s:o}, s:{s:o}, s:s}}",
        "AgentActKey", "id", (json_int_t)k->id, "activationKey", k->token, "title", k->name,
        "type", key_type_names[key_type_of(k)], "status", key_status(k, now_ms()),
        "countPurchased", k->max_uses > 0 ? json_integer(k->max_uses) : json_null(),
        "countUsed", k->uses,
        "expireDate", k->expires_ms > 0 ? json_string(expires) : json_null(),
        "isDisabled", k->revoked, "modules", "list", mods, "tags", "list", tl,
        "created", created);
}

static enum handler_result
reply_keys(struct request *r, const struct actkey *keys, size_t n)
{
    json_t *items = json_array();

    for (size_t i = 0; i < n && items != NULL; i++) {
        if (json_array_append_new(items, key_record(r, &keys[i])) != 0) {
            json_decref(items);
            items = NULL;
        }
    }
    if (items == NULL || qps_doc_render(&r->out, r->fmt, http_base_url(r), KEY_XSD, items, false) != 0)
        http_reply_internal(r, "response not built", ODS_E_NOMEM);
    else
        r->status = 200;
    json_decref(items);
    return HANDLER_REPLY;
}

static enum handler_result
store_error(struct request *r, int rc, int64_t id)
{
    if (rc == ODS_E_NOTFOUND)
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "Search activation keys to find their ids.",
            "Activation key %lld not found", (long long)id);
    else
        http_reply_internal(r, "activation key not stored", rc);
    return HANDLER_REPLY;
}

/* parse_date reads YYYY-MM-DDTHH:MM:SSZ (or a bare YYYY-MM-DD: the end of that day) or
 * a number of ms since the epoch. */
static int
parse_date(const char *s, int64_t *ms)
{
    struct tm tm = { 0 };
    uint64_t v;
    char *end;

    if (parse_u64(s, INT64_MAX, &v) == 0) {
        *ms = (int64_t)v;
        return ODS_E_OK;
    }
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end != NULL && *end == '\0') {
        *ms = (int64_t)timegm(&tm) * 1000;
        return ODS_E_OK;
    }
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%d", &tm);
    if (end != NULL && *end == '\0') {
        *ms = ((int64_t)timegm(&tm) + 86400) * 1000;
        return ODS_E_OK;
    }
    return ODS_E_PARSE;
}

/* A parsed create/update request. */
struct key_change {
    const char *why;                     /* set when the request is refused */
    bool        tags_given;
    size_t      ntags;
    int64_t     tags[KEY_TAGS_MAX];
};

/* modules_from reads modules.list.ActivationKeyModule.license (or the same names as a
 * comma list in <modules>). */
static int
modules_from(json_t *m, unsigned *out)
{
    const char *bad = NULL;
    const char *list = qps_doc_str(m);
    json_t *items, *it;
    size_t i;
    int rc = ODS_E_OK;

    *out = 0;
    if (list != NULL)
        return list[0] == '\0' ? ODS_E_OK : module_parse_list(list, out, &bad);
    items = qps_doc_items(qps_doc_get(m, "list"), "ActivationKeyModule");
    if (items == NULL)
        return ODS_E_NOMEM;
    json_array_foreach(items, i, it) {
        const char *lic = qps_doc_str(json_object_get(it, "license"));
        char name[24];
        unsigned bit = 0;
        if (lic == NULL || str_copy(name, sizeof(name), lic) != 0) {
            rc = ODS_E_PARSE;
            break;
        }
        char *suffix = strstr(name, "_LICENSE");     /* the vendor writes VM_LICENSE */
        if (suffix != NULL && suffix[8] == '\0')
            *suffix = '\0';
        if ((rc = module_parse_list(name, &bit, &bad)) != 0)
            break;
        *out |= bit;
    }
    json_decref(items);
    return rc;
}

/* change_apply applies data.AgentActKey of doc to *k (a new key or the stored one). */
static void
change_apply(struct request *r, json_t *doc, struct actkey *k, struct key_change *c)
{
    json_t *d = qps_doc_get(doc, "data.AgentActKey"), *v;
    int64_t n;
    bool b;

    c->why = NULL;
    if (!json_is_object(d)) {
        c->why = "Send <ServiceRequest><data><AgentActKey>...</AgentActKey></data></ServiceRequest>";
        return;
    }
    if ((v = json_object_get(d, "title")) != NULL) {
        const char *t = qps_doc_str(v);
        if (t == NULL || str_copy(k->name, sizeof(k->name), t) != 0)
            c->why = "title must be text of at most 63 bytes";
    }
    if ((v = json_object_get(d, "countPurchased")) != NULL) {
        if (qps_doc_int(v, &n) != 0 || n > KEY_COUNT_MAX)
            c->why = "countPurchased must be a number 0..2147483647";
        else
            k->max_uses = (int)n;
    }
    if ((v = json_object_get(d, "expireDate")) != NULL) {
        const char *t = qps_doc_str(v);
        if (json_is_integer(v))
            k->expires_ms = (int64_t)json_integer_value(v);
        else if (t != NULL && t[0] == '\0')
            k->expires_ms = 0;
        else if (t == NULL || parse_date(t, &k->expires_ms) != 0)
            c->why = "expireDate must be YYYY-MM-DDTHH:MM:SSZ";
    }
    if ((v = json_object_get(d, "isDisabled")) != NULL) {
        if (qps_doc_bool(v, &b) != 0)
            c->why = "isDisabled must be true or false";
        else
            k->revoked = b;
    }
    if ((v = json_object_get(d, "modules")) != NULL && modules_from(v, &k->modules) != 0)
        c->why = "modules: unknown module (VM, PC, SCA, SWCA, UDC)";
    if ((v = json_object_get(d, "tags")) != NULL) {
        json_t *items = qps_doc_items(qps_doc_get(v, "list"), "TagSimple"), *t;
        size_t i;
        c->tags_given = true;
        c->ntags = 0;
        json_array_foreach(items, i, t) {
            struct tag tag;
            const char *name = qps_doc_str(json_object_get(t, "name"));
            int rc = ODS_E_PARSE;
            if (c->ntags >= KEY_TAGS_MAX)
                c->why = "at most 64 tags";
            else if (qps_doc_int(json_object_get(t, "id"), &n) == 0)
                rc = store_tag_get_id(r->srv->store, n, &tag);
            else if (name != NULL)
                rc = store_tag_get(r->srv->store, name, &tag);
            if (rc != 0) {
                c->why = c->why != NULL ? c->why : "tags: unknown tag";
                break;
            }
            c->tags[c->ntags++] = tag.id;
        }
        json_decref(items);
    }
    /* the type, when given, says which limits the key keeps */
    const char *type = qps_doc_str(json_object_get(d, "type"));
    if (type != NULL && c->why == NULL) {
        int t = -1;
        for (int i = 0; i < KT_COUNT_OF; i++)
            if (strcasecmp(type, key_type_names[i]) == 0)
                t = i;
        if (t < 0) {
            c->why = "type must be UNLIMITED, COUNT_LIMITED, TIME_LIMITED or COUNT_TIME_LIMITED";
            return;
        }
        if (!(t & KT_COUNT))
            k->max_uses = 0;
        if (!(t & KT_TIME))
            k->expires_ms = 0;
        if ((t & KT_COUNT) && k->max_uses <= 0)
            c->why = "a COUNT_LIMITED or COUNT_TIME_LIMITED key needs countPurchased > 0";
        else if ((t & KT_TIME) && k->expires_ms <= 0)
            c->why = "a TIME_LIMITED or COUNT_TIME_LIMITED key needs an expireDate";
    }
}

/* change_store writes the key (new: insert) and its tags. */
static int
change_store(struct request *r, struct actkey *k, const struct key_change *c, bool create)
{
    int rc = create ? store_key_add(r->srv->store, k) : store_key_update(r->srv->store, k);

    if (rc == 0 && c->tags_given)
        rc = store_key_set_tags(r->srv->store, k->id, c->tags, c->ntags);
    return rc;
}

static void
token_new(char out[STORE_KEY_MAX])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, STORE_KEY_MAX,
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
        b[13], b[14], b[15]);
}

static enum handler_result
key_change_reply(struct request *r, int64_t id)
{
    struct qps_error e;
    struct key_change c = { 0 };
    struct actkey k = { 0 };
    json_t *doc = NULL;
    int rc;

    if (qps_doc_parse(r->body.data ? r->body.data : "", r->body.len, &doc, &e) != 0) {
        http_reply_error(r, &e);
        return HANDLER_REPLY;
    }
    if (id != 0 && (rc = store_key_get_id(r->srv->store, id, &k)) != 0) {
        store_error(r, rc, id);
        goto out;
    }
    change_apply(r, doc, &k, &c);
    if (c.why != NULL) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "See the activation key section of the API documentation.", "%s", c.why);
        goto out;
    }
    if (id == 0)
        token_new(k.token);
    /* XXX: key and tags are two writes; a failure between leaves the key without tags */
    if ((rc = change_store(r, &k, &c, id == 0)) != 0 ||
        (rc = store_key_get_id(r->srv->store, k.id, &k)) != 0) {
        store_error(r, rc, k.id);
        goto out;
    }
    reply_keys(r, &k, 1);
out:
    json_decref(doc);
    return HANDLER_REPLY;
}

enum handler_result
api_key_create(struct request *r)
{
    return key_change_reply(r, 0);
}

enum handler_result
api_key_update(struct request *r)
{
    int64_t id = id_param(r);

    return id == 0 ? HANDLER_REPLY : key_change_reply(r, id);
}

enum handler_result
api_key_get(struct request *r)
{
    int64_t id = id_param(r);
    struct actkey k;
    int rc;

    if (id == 0)
        return HANDLER_REPLY;
    if ((rc = store_key_get_id(r->srv->store, id, &k)) != 0)
        return store_error(r, rc, id);
    return reply_keys(r, &k, 1);
}

enum handler_result
api_key_delete(struct request *r)
{
    int64_t id = id_param(r);
    struct actkey k;
    int rc;

    if (id == 0)
        return HANDLER_REPLY;
    if ((rc = store_key_get_id(r->srv->store, id, &k)) != 0)
        return store_error(r, rc, id);
    /* the answer shows the key as it was; its tags are rendered before they go */
    json_t *rec = key_record(r, &k);
    if ((rc = store_key_del(r->srv->store, id)) != 0) {
        json_decref(rec);
        return store_error(r, rc, id);
    }
    json_t *items = json_array();
    if (rec == NULL || items == NULL || json_array_append_new(items, rec) != 0 ||
        qps_doc_render(&r->out, r->fmt, http_base_url(r), KEY_XSD, items, false) != 0)
        http_reply_internal(r, "response not built", ODS_E_NOMEM);
    else
        r->status = 200;
    json_decref(items);
    return HANDLER_REPLY;
}

/* key_matches applies one search criterion. */
static int
key_matches(const struct actkey *k, const char *field, const char *op, json_t *value, bool *m)
{
    const char *s = qps_doc_str(value);
    int64_t n;

    if (strcmp(field, "id") == 0 && strcmp(op, "EQUALS") == 0 && qps_doc_int(value, &n) == 0)
        *m = k->id == n;
    else if (strcmp(field, "title") == 0 && s != NULL && strcmp(op, "EQUALS") == 0)
        *m = strcmp(k->name, s) == 0;
    else if (strcmp(field, "title") == 0 && s != NULL && strcmp(op, "CONTAINS") == 0)
        *m = strstr(k->name, s) != NULL;
    else if (strcmp(field, "activationKey") == 0 && s != NULL && strcmp(op, "EQUALS") == 0)
        *m = strcmp(k->token, s) == 0;
    else if (strcmp(field, "type") == 0 && s != NULL && strcmp(op, "EQUALS") == 0)
        *m = strcasecmp(key_type_names[key_type_of(k)], s) == 0;
    else
        return ODS_E_PARSE;
    return ODS_E_OK;
}

enum handler_result
api_key_search(struct request *r)
{
    struct qps_error e;
    struct actkey *keys = NULL;
    json_t *doc = NULL, *crit = NULL, *c;
    size_t n = 0, kept = 0, i;
    int rc;

    if (qps_doc_parse(r->body.data ? r->body.data : "", r->body.len, &doc, &e) != 0) {
        http_reply_error(r, &e);
        return HANDLER_REPLY;
    }
    crit = qps_doc_items(qps_doc_get(doc, "filters"), "Criteria");
    if (crit == NULL || (rc = store_key_list(r->srv->store, &keys, &n)) != 0) {
        http_reply_internal(r, "activation keys not read", crit == NULL ? ODS_E_NOMEM : rc);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        bool all = true;
        json_array_foreach(crit, i, c) {
            const char *field = qps_doc_str(json_object_get(c, "field"));
            const char *op = qps_doc_str(json_object_get(c, "operator"));
            bool m = false;
            if (field == NULL || op == NULL ||
                key_matches(&keys[k], field, op, json_object_get(c, "value"), &m) != 0) {
                http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
                    "Search keys by id, activationKey, type (EQUALS) or title (EQUALS, CONTAINS).",
                    "Unsupported activation key search criterion %s %s",
                    field ? field : "(no field)", op ? op : "(no operator)");
                goto out;
            }
            all = all && m;
        }
        if (all)
            keys[kept++] = keys[k];
    }
    reply_keys(r, keys, kept);
out:
    free(keys);
    json_decref(crit);
    json_decref(doc);
    return HANDLER_REPLY;
}
