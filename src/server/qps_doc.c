/* qps_doc.c - generic ServiceRequest reading and ServiceResponse writing for the QPS
 * resources whose requests carry data (tags, assets, activation keys). */
#include "qps_doc.h"
#include "err.h"
#include "util.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DOC_HINT "Send <ServiceRequest>...</ServiceRequest> or {\"ServiceRequest\": {...}}"

static bool
blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
has_nocase(const char *p, size_t n, const char *needle)
{
    size_t m = strlen(needle);

    for (size_t i = 0; i + m <= n; i++)
        if (strncasecmp(p + i, needle, m) == 0)
            return true;
    return false;
}

/* xml_text returns the trimmed text content of an element into a new JSON string. */
static json_t *
xml_text(xmlNodePtr el)
{
    xmlChar *t = xmlNodeGetContent(el);
    const char *s = t != NULL ? (const char *)t : "";
    size_t len = strlen(s);

    while (len > 0 && blank(s[len - 1]))
        len--;
    while (len > 0 && blank(*s)) {
        s++;
        len--;
    }
    json_t *v = json_stringn_nocheck(s, len);
    xmlFree(t);
    return v;
}

/* member_add puts v (stolen) under key in obj, turning a repeated key into an array. */
static int
member_add(json_t *obj, const char *key, json_t *v)
{
    json_t *cur = json_object_get(obj, key);

    if (v == NULL)
        return ODS_E_NOMEM;
    if (cur == NULL)
        return json_object_set_new_nocheck(obj, key, v) == 0 ? ODS_E_OK : ODS_E_NOMEM;
    if (!json_is_array(cur)) {
        json_t *arr = json_array();
        if (arr == NULL || json_array_append(arr, cur) != 0 ||
            json_object_set_new_nocheck(obj, key, arr) != 0) {
            json_decref(v);
            return ODS_E_NOMEM;
        }
        cur = arr;
    }
    return json_array_append_new(cur, v) == 0 ? ODS_E_OK : ODS_E_NOMEM;
}

/* xml_to_json converts one element; depth is bounded by the caller's check. */
static json_t *
xml_to_json(xmlNodePtr el, int depth)
{
    bool children = false;

    for (xmlNodePtr c = el->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            children = true;
    if (!children && el->properties == NULL)
        return xml_text(el);
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    for (xmlAttrPtr a = el->properties; a != NULL; a = a->next) {
        xmlChar *v = xmlNodeListGetString(el->doc, a->children, 1);
        int rc = member_add(obj, (const char *)a->name, json_string_nocheck(v ? (const char *)v : ""));
        xmlFree(v);
        if (rc != 0)
            goto fail;
    }
    if (!children) {
        if (member_add(obj, "value", xml_text(el)) != 0)
            goto fail;
        return obj;
    }
    for (xmlNodePtr c = el->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            member_add(obj, (const char *)c->name, xml_to_json(c, depth + 1)) != 0)
            goto fail;
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static int
xml_depth_ok(xmlNodePtr n, int depth)
{
    if (depth > QPS_XML_DEPTH_MAX)
        return 0;
    for (xmlNodePtr c = n->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !xml_depth_ok(c, depth + 1))
            return 0;
    return 1;
}

static int
parse_xml(const char *p, size_t n, json_t **out, struct qps_error *err)
{
    xmlDocPtr doc = NULL;
    int rc = ODS_E_PARSE;

    if (has_nocase(p, n, "<!DOCTYPE") || has_nocase(p, n, "<!ENTITY")) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT,
            "DOCTYPE and entity declarations are not accepted");
        return ODS_E_PARSE;
    }
    doc = xmlReadMemory(p, (int)n, NULL, "UTF-8",
        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_IGNORE_ENC);
    xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT, "Malformed XML request body");
        goto out;
    }
    /* the depth check recurses at most QPS_XML_DEPTH_MAX + 1 levels: libxml2 itself
     * refuses documents nested beyond 256 */
    if (!xml_depth_ok(root, 1)) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT,
            "XML body nests elements deeper than %d levels", QPS_XML_DEPTH_MAX);
        goto out;
    }
    if (xmlStrcmp(root->name, BAD_CAST "ServiceRequest") != 0 || root->ns != NULL) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT,
            "XML root element must be 'ServiceRequest'");
        goto out;
    }
    bool children = false;
    for (xmlNodePtr c = root->children; c != NULL; c = c->next)
        children |= c->type == XML_ELEMENT_NODE;
    *out = children ? xml_to_json(root, 1) : json_object();
    if (*out == NULL) {
        qps_error_set(err, 500, QPS_INTERNAL_ERROR, "Retry the request later",
            "Out of memory while reading the request body");
        rc = ODS_E_NOMEM;
        goto out;
    }
    rc = ODS_E_OK;
out:
    xmlFreeDoc(doc);
    return rc;
}

static int
json_too_deep(const char *p, size_t n)
{
    int depth = 0;
    bool str = false, esc = false;

    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > QPS_JSON_DEPTH_MAX)
                return 1;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

static int
parse_json(const char *p, size_t n, json_t **out, struct qps_error *err)
{
    json_error_t jerr;
    json_t *root;

    if (json_too_deep(p, n)) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT,
            "JSON body nests deeper than %d levels", QPS_JSON_DEPTH_MAX);
        return ODS_E_PARSE;
    }
    if ((root = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT, "Malformed JSON at line %d: %s",
            jerr.line, jerr.text);
        return ODS_E_PARSE;
    }
    json_t *req = json_object_get(root, "ServiceRequest");
    if (json_object_size(root) != 1 || !json_is_object(req)) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT,
            "JSON body must be an object with the single key 'ServiceRequest' holding an object");
        json_decref(root);
        return ODS_E_PARSE;
    }
    *out = json_incref(req);
    json_decref(root);
    return ODS_E_OK;
}

int
qps_doc_parse(const char *body, size_t len, json_t **out, struct qps_error *err)
{
    size_t i = 0;

    *out = NULL;
    if (len > QPS_BODY_MAX) {
        qps_error_set(err, 413, QPS_INVALID_REQUEST, "Send at most 64 KiB",
            "Request body of %zu bytes exceeds the limit of %d bytes", len, QPS_BODY_MAX);
        return ODS_E_TOOBIG;
    }
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && blank(body[i]))
        i++;
    if (i == len) {
        *out = json_object();
        return *out != NULL ? ODS_E_OK : ODS_E_NOMEM;
    }
    if (body[i] == '<')
        return parse_xml(body + i, len - i, out, err);
    if (body[i] == '{')
        return parse_json(body + i, len - i, out, err);
    qps_error_set(err, 400, QPS_INVALID_REQUEST, DOC_HINT, "Request body is neither XML nor JSON");
    return ODS_E_PARSE;
}

/* step takes one member of node; an array is searched for its first element with it. */
static json_t *
step(json_t *node, const char *key)
{
    size_t i;
    json_t *el;

    if (json_is_object(node))
        return json_object_get(node, key);
    if (json_is_array(node))
        json_array_foreach(node, i, el)
            if (json_is_object(el) && json_object_get(el, key) != NULL)
                return json_object_get(el, key);
    return NULL;
}

json_t *
qps_doc_get(json_t *node, const char *path)
{
    char key[64];

    while (node != NULL && *path != '\0') {
        size_t len = strcspn(path, ".");
        if (len >= sizeof(key))
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        node = step(node, key);
        path += len;
        if (*path == '.')
            path++;
    }
    return node;
}

/* items_add appends v, or each element of an array v, to list. */
static int
items_add(json_t *list, json_t *v)
{
    size_t i;
    json_t *el;

    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        return json_array_append(list, v);
    json_array_foreach(v, i, el)
        if (json_array_append(list, el) != 0)
            return -1;
    return 0;
}

json_t *
qps_doc_items(json_t *node, const char *name)
{
    json_t *list = json_array();
    size_t i;
    json_t *el;

    if (list == NULL)
        return NULL;
    if (json_is_object(node) && items_add(list, json_object_get(node, name)) != 0)
        goto fail;
    if (json_is_array(node))
        json_array_foreach(node, i, el)
            if (json_is_object(el) && items_add(list, json_object_get(el, name)) != 0)
                goto fail;
    return list;
fail:
    json_decref(list);
    return NULL;
}

int
qps_doc_int(const json_t *v, int64_t *out)
{
    uint64_t u;

    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return ODS_E_OK;
    }
    if (json_is_string(v) && parse_u64(json_string_value(v), INT64_MAX, &u) == 0) {
        *out = (int64_t)u;
        return ODS_E_OK;
    }
    return ODS_E_PARSE;
}

int
qps_doc_bool(const json_t *v, bool *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return ODS_E_OK;
    }
    if (json_is_string(v))
        return parse_bool(json_string_value(v), out) == 0 ? ODS_E_OK : ODS_E_PARSE;
    return ODS_E_PARSE;
}

const char *
qps_doc_str(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int render_xml_value(struct buf *b, const char *key, json_t *v, int indent);

/* render_xml_children writes an object's members as elements; an array of one-key
 * objects as the sequence of those. */
static int
render_xml_children(struct buf *b, json_t *v, int indent)
{
    const char *k;
    json_t *m, *x;
    size_t i;
    int rc = 0;

    if (json_is_array(v)) {
        json_array_foreach(v, i, m)
            json_object_foreach(m, k, x)
                if (rc == 0)
                    rc = render_xml_value(b, k, x, indent);
        return rc;
    }
    json_object_foreach(v, k, m)
        if (rc == 0)
            rc = render_xml_value(b, k, m, indent);
    return rc;
}

static int
render_xml_value(struct buf *b, const char *key, json_t *v, int indent)
{
    int rc;

    if (json_is_null(v))
        return 0;
    rc = buf_printf(b, "%*s<%s>", indent, "", key);
    if (rc == 0 && (json_is_object(v) || json_is_array(v))) {
        rc = buf_puts(b, "\n");
        if (rc == 0)
            rc = render_xml_children(b, v, indent + 4);
        if (rc == 0)
            rc = buf_printf(b, "%*s", indent, "");
    } else if (rc == 0 && json_is_string(v)) {
        rc = buf_xml_escaped(b, json_string_value(v));
    } else if (rc == 0 && json_is_integer(v)) {
        rc = buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (rc == 0 && json_is_boolean(v)) {
        rc = buf_puts(b, json_is_true(v) ? "true" : "false");
    }
    if (rc == 0)
        rc = buf_printf(b, "</%s>\n", key);
    return rc;
}

int
qps_doc_render(struct buf *out, enum qps_format fmt, const char *base_url, const char *xsd,
    json_t *items, bool has_more)
{
    size_t mark = out->len, n = json_array_size(items);
    int rc;

    if (fmt == QPS_JSON) {
        json_t *doc = json_pack("{s:{s:s, s:I, s:b, s:O}}", "ServiceResponse",
            "responseCode", "SUCCESS", "count", (json_int_t)n, "hasMoreRecords", has_more,
            "data", items);
        char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        rc = text != NULL ? buf_puts(out, text) : ODS_E_NOMEM;
        if (rc == 0)
            rc = buf_puts(out, "\n");
        free(text);
        json_decref(doc);
    } else {
        rc = buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<ServiceResponse xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
            "xsi:noNamespaceSchemaLocation=\"");
        if (rc == 0)
            rc = buf_xml_escaped(out, base_url != NULL ? base_url : "");
        if (rc == 0)
            rc = buf_xml_escaped(out, xsd);
        if (rc == 0)
            rc = buf_printf(out, "\">\n    <responseCode>SUCCESS</responseCode>\n"
                "    <count>%zu</count>\n    <hasMoreRecords>%s</hasMoreRecords>\n",
                n, has_more ? "true" : "false");
        if (rc == 0)
            rc = render_xml_value(out, "data", items, 4);
        if (rc == 0)
            rc = buf_puts(out, "</ServiceResponse>\n");
    }
    if (rc != 0 && out->data != NULL) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}
