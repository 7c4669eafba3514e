/* api_tags.c - the tag resource (/qps/rest/2.0/{create,update,delete,search,get}/am/tag)
 * and the tags of an asset (POST /qps/rest/2.0/update/am/asset/<id>). Tags mark
 * assets and limit what scoped users see; changing them is a manager's call. */
#include "api.h"
#include "err.h"
#include "qps_doc.h"
#include "server.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define TAG_XSD   "/qps/xsd/2.0/am/tag.xsd"
#define ASSET_XSD "/qps/xsd/2.0/am/asset.xsd"
#define TAGS_PER_UPDATE_MAX 100          /* tags added or removed by one asset update */

/* id_param parses the path's id; on failure the reply is set and 0 returned. */
static int64_t
id_param(struct request *r, const char *what)
{
    uint64_t id;

    if (r->param == NULL || parse_u64(r->param, INT64_MAX, &id) != 0 || id == 0) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Use a positive integer id.",
            "Invalid %s id '%s'", what, r->param != NULL ? r->param : "");
        return 0;
    }
    return (int64_t)id;
}

/* body_doc parses the request body; on failure the reply is set and NULL returned. */
static json_t *
body_doc(struct request *r)
{
    struct qps_error e;
    json_t *doc = NULL;

    if (qps_doc_parse(r->body.data ? r->body.data : "", r->body.len, &doc, &e) != 0) {
        http_reply_error(r, &e);
        return NULL;
    }
    return doc;
}

/* tag_name_ok: 1..STORE_TAG_MAX-1 bytes, no control characters, no ',' (lists). */
static bool
tag_name_ok(const char *s)
{
    size_t len = s != NULL ? strlen(s) : 0;

    if (len == 0 || len >= STORE_TAG_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ',')
            return false;
    return true;
}

static json_t *
tag_record(const struct tag *t)
{
    char created[32];

    fmt_iso8601(created, sizeof(created), t->created_ms);
    return json_pack("{s:{s:I, s:s, s:s}}", "Tag", "id", (json_int_t)t->id, "name", t->name,
        "created", created);
}

/* reply_records renders items (stolen) as a SUCCESS, or a 500. */
static enum handler_result
reply_records(struct request *r, const char *xsd, json_t *items)
{
    if (items == NULL || qps_doc_render(&r->out, r->fmt, http_base_url(r), xsd, items, false) != 0)
        http_reply_internal(r, "response not built", ODS_E_NOMEM);
    else
        r->status = 200;
    json_decref(items);
    return HANDLER_REPLY;
}

static enum handler_result
reply_tag(struct request *r, const struct tag *t)
{
    json_t *items = json_array();

    if (items != NULL && json_array_append_new(items, tag_record(t)) != 0) {
        json_decref(items);
        items = NULL;
    }
    return reply_records(r, TAG_XSD, items);
}

/* store_error answers a store failure about tag/asset `what`. */
static enum handler_result
store_error(struct request *r, int rc, const char *what, long long id)
{
    if (rc == ODS_E_NOTFOUND)
        http_reply_errorf(r, 404, QPS_NOT_FOUND, "Search tags to find their ids.",
            "%s %lld not found", what, id);
    else if (rc == ODS_E_EXISTS)
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST, "Choose another name.",
            "A tag of that name already exists");
    else
        http_reply_internal(r, "tag not stored", rc);
    return HANDLER_REPLY;
}

/* name_from reads data.Tag.name; on failure the reply is set and NULL returned. */
static const char *
name_from(struct request *r, json_t *doc)
{
    const char *name = qps_doc_str(qps_doc_get(doc, "data.Tag.name"));

    if (!tag_name_ok(name))
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "Send <ServiceRequest><data><Tag><name>NAME</name></Tag></data></ServiceRequest>.",
            "A tag needs a name of 1-%d bytes without control characters or ','",
            STORE_TAG_MAX - 1);
    return tag_name_ok(name) ? name : NULL;
}

enum handler_result
api_tag_create(struct request *r)
{
    json_t *doc = body_doc(r);
    struct tag t = { 0 };
    const char *name;
    int rc;

    if (doc == NULL || (name = name_from(r, doc)) == NULL)
        goto out;
    (void)str_copy(t.name, sizeof(t.name), name);
    if ((rc = store_tag_add(r->srv->store, &t)) != 0)
        store_error(r, rc, "Tag", 0);
    else
        reply_tag(r, &t);
out:
    json_decref(doc);
    return HANDLER_REPLY;
}

enum handler_result
api_tag_update(struct request *r)
{
    int64_t id = id_param(r, "tag");
    json_t *doc = id != 0 ? body_doc(r) : NULL;
    const char *name;
    struct tag t;
    int rc;

    if (doc == NULL || (name = name_from(r, doc)) == NULL)
        goto out;
    if ((rc = store_tag_rename(r->srv->store, id, name)) != 0 ||
        (rc = store_tag_get_id(r->srv->store, id, &t)) != 0)
        store_error(r, rc, "Tag", (long long)id);
    else
        reply_tag(r, &t);
out:
    json_decref(doc);
    return HANDLER_REPLY;
}

enum handler_result
api_tag_delete(struct request *r)
{
    int64_t id = id_param(r, "tag");
    struct tag t;
    int rc;

    if (id == 0)
        return HANDLER_REPLY;
    if ((rc = store_tag_get_id(r->srv->store, id, &t)) != 0 ||
        (rc = store_tag_del(r->srv->store, id)) != 0)
        return store_error(r, rc, "Tag", (long long)id);
    return reply_tag(r, &t);
}

enum handler_result
api_tag_get(struct request *r)
{
    int64_t id = id_param(r, "tag");
    struct tag t;
    int rc;

    if (id == 0)
        return HANDLER_REPLY;
    if ((rc = store_tag_get_id(r->srv->store, id, &t)) != 0)
        return store_error(r, rc, "Tag", (long long)id);
    return reply_tag(r, &t);
}

/* A tag search: every criterion must hold (AND). */
struct tag_filter {
    const char *name_eq, *name_contains;
    int64_t     id_eq;
};

/* filter_parse reads Criteria on field name (EQUALS, CONTAINS) and id (EQUALS). */
static int
filter_parse(struct request *r, json_t *doc, struct tag_filter *f)
{
    json_t *crit = qps_doc_items(qps_doc_get(doc, "filters"), "Criteria"), *c;
    size_t i;
    int rc = ODS_E_OK;

    memset(f, 0, sizeof(*f));
    if (crit == NULL) {
        http_reply_internal(r, "filters not read", ODS_E_NOMEM);
        return ODS_E_NOMEM;
    }
    json_array_foreach(crit, i, c) {
        const char *field = qps_doc_str(json_object_get(c, "field"));
        const char *op = qps_doc_str(json_object_get(c, "operator"));
        json_t *value = json_object_get(c, "value");
        if (field != NULL && op != NULL && strcmp(field, "name") == 0 && qps_doc_str(value) &&
            strcmp(op, "EQUALS") == 0) {
            f->name_eq = qps_doc_str(value);
        } else if (field != NULL && op != NULL && strcmp(field, "name") == 0 &&
            qps_doc_str(value) && strcmp(op, "CONTAINS") == 0) {
            f->name_contains = qps_doc_str(value);
        } else if (field != NULL && op != NULL && strcmp(field, "id") == 0 &&
            strcmp(op, "EQUALS") == 0 && qps_doc_int(value, &f->id_eq) == 0) {
        } else {
            http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
                "Tag searches take Criteria on name (EQUALS, CONTAINS) and id (EQUALS).",
                "Unsupported tag search criterion %s %s", field ? field : "(no field)",
                op ? op : "(no operator)");
            rc = ODS_E_PARSE;
            break;
        }
    }
    json_decref(crit);
    return rc;
}

enum handler_result
api_tag_search(struct request *r)
{
    json_t *doc = body_doc(r), *items = NULL;
    struct tag_filter f;
    struct tag *tags = NULL;
    size_t n = 0;
    int rc;

    if (doc == NULL || filter_parse(r, doc, &f) != 0)
        goto out;
    if ((rc = store_tag_list(r->srv->store, f.name_contains, &tags, &n)) != 0) {
        http_reply_internal(r, "tags not read", rc);
        goto out;
    }
    if ((items = json_array()) == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if ((f.name_eq != NULL && strcmp(tags[i].name, f.name_eq) != 0) ||
            (f.id_eq != 0 && tags[i].id != f.id_eq))
            continue;
        if (json_array_append_new(items, tag_record(&tags[i])) != 0) {
            json_decref(items);
            items = NULL;
            break;
        }
    }
done:
    reply_records(r, TAG_XSD, items);
out:
    free(tags);
    json_decref(doc);
    return HANDLER_REPLY;
}

/* tag_ids reads the TagSimple ids (or names) of one list (add or remove) into ids. */
static int
tag_ids(struct request *r, json_t *list, int64_t *ids, size_t *n)
{
    json_t *items = qps_doc_items(list, "TagSimple"), *t;
    size_t i;
    int rc = ODS_E_OK;

    *n = 0;
    if (items == NULL)
        return ODS_E_NOMEM;
    json_array_foreach(items, i, t) {
        struct tag tag;
        const char *name = qps_doc_str(json_object_get(t, "name"));
        int64_t id = 0;
        if (*n >= TAGS_PER_UPDATE_MAX) {
            rc = ODS_E_TOOBIG;
        } else if (qps_doc_int(json_object_get(t, "id"), &id) == 0) {
            rc = store_tag_get_id(r->srv->store, id, &tag);
        } else if (name != NULL) {
            rc = store_tag_get(r->srv->store, name, &tag);
        } else {
            rc = ODS_E_PARSE;
        }
        if (rc != 0)
            break;
        ids[(*n)++] = tag.id;
    }
    json_decref(items);
    if (rc == ODS_E_NOTFOUND || rc == ODS_E_PARSE || rc == ODS_E_TOOBIG)
        http_reply_errorf(r, rc == ODS_E_NOTFOUND ? 404 : 400,
            rc == ODS_E_NOTFOUND ? QPS_NOT_FOUND : QPS_INVALID_REQUEST,
            "Name each tag as <TagSimple><id>N</id></TagSimple> (or <name>), at most 100.",
            rc == ODS_E_NOTFOUND ? "Tag not found" : "Invalid TagSimple list");
    else if (rc != 0)
        http_reply_internal(r, "tags not read", rc);
    return rc;
}

enum handler_result
api_asset_update_tags(struct request *r)
{
    int64_t id = id_param(r, "asset");
    json_t *doc = id != 0 ? body_doc(r) : NULL, *items = NULL;
    int64_t add[TAGS_PER_UPDATE_MAX], del[TAGS_PER_UPDATE_MAX];
    size_t nadd = 0, ndel = 0;
    struct asset a;
    int rc;

    if (doc == NULL)
        goto out;
    if ((rc = store_asset_get(r->srv->store, id, &a)) != 0) {
        if (rc == ODS_E_NOTFOUND)
            http_reply_errorf(r, 404, QPS_NOT_FOUND, "Check the asset id.",
                "Asset %lld not found", (long long)id);
        else
            http_reply_internal(r, "asset not read", rc);
        goto out;
    }
    json_t *tags = qps_doc_get(doc, "data.Asset.tags");
    if (tags == NULL) {
        http_reply_errorf(r, 400, QPS_INVALID_REQUEST,
            "Send <ServiceRequest><data><Asset><tags><add>/<remove> of TagSimple.",
            "Only the tags of an asset can be updated here");
        goto out;
    }
    if (tag_ids(r, qps_doc_get(tags, "add"), add, &nadd) != 0 ||
        tag_ids(r, qps_doc_get(tags, "remove"), del, &ndel) != 0)
        goto out;
    /* XXX: one call per tag, not one transaction; each call is idempotent, so a retry
     * after a failure part-way converges */
    for (size_t i = 0; i < nadd; i++)
        if ((rc = store_tag_assign(r->srv->store, add[i], id)) != 0)
            goto fail;
    for (size_t i = 0; i < ndel; i++)
        if ((rc = store_tag_unassign(r->srv->store, del[i], id)) != 0)
            goto fail;
    items = json_pack("[{s:{s:I}}]", "Asset", "id", (json_int_t)id);
    reply_records(r, ASSET_XSD, items);
    goto out;
fail:
    store_error(r, rc, "Asset", (long long)id);
out:
    json_decref(doc);
    return HANDLER_REPLY;
}
