/* qps_filter.c - parsing of the QPS filter language (Criteria and preferences) in the
 * XML and JSON forms of a ServiceRequest, validated against one table of fields. */
#include "qps_filter.h"
#include "err.h"
#include "util.h"

#include <jansson.h>
#include <libxml/tree.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FILTER_HINT "Send <ServiceRequest><filters><Criteria field=\"id\" operator=\"IN\">1,2" \
    "</Criteria></filters></ServiceRequest>; see the API documentation for fields and operators"

#define OPS_INTEGER ((1u << FO_EQUALS) | (1u << FO_NOT_EQUALS) | (1u << FO_GREATER) | \
                     (1u << FO_LESSER) | (1u << FO_IN))
#define OPS_TEXT    ((1u << FO_EQUALS) | (1u << FO_NOT_EQUALS) | (1u << FO_CONTAINS))
#define OPS_DATE    ((1u << FO_EQUALS) | (1u << FO_NOT_EQUALS) | (1u << FO_GREATER) | \
                     (1u << FO_LESSER))
#define OPS_KEYWORD ((1u << FO_EQUALS) | (1u << FO_NOT_EQUALS) | (1u << FO_IN))

static const struct {
    const char       *name;
    enum filter_type  type;
} fields[FF_COUNT] = {
    [FF_ID]                       = { "id",                     FT_INTEGER },
    [FF_NAME]                     = { "name",                   FT_TEXT },
    [FF_AGENT_UUID]               = { "agentUuid",              FT_KEYWORD },
    [FF_TAG_NAME]                 = { "tagName",                FT_TEXT },
    [FF_TAG_ID]                   = { "tagId",                  FT_INTEGER },
    [FF_OS]                       = { "os",                     FT_TEXT },
    [FF_LAST_CHECKED_IN]          = { "lastCheckedIn",          FT_DATE },
    [FF_AGENT_VERSION]            = { "agentVersion",           FT_TEXT },
    [FF_ACTIVATION_KEY]           = { "activationKey",          FT_KEYWORD },
    [FF_CREATED]                  = { "created",                FT_DATE },
    [FF_UPDATED]                  = { "updated",                FT_DATE },
    [FF_DNS_HOST_NAME]            = { "dnsHostName",            FT_TEXT },
    [FF_ADDRESS]                  = { "address",                FT_TEXT },
    [FF_LAST_VULN_SCAN]           = { "lastVulnScan",           FT_DATE },
    [FF_AGENT_CONFIGURATION_NAME] = { "agentConfigurationName", FT_TEXT },
    [FF_AGENT_CONFIGURATION_ID]   = { "agentConfigurationId",   FT_INTEGER },
};

static const unsigned type_ops[] = {
    [FT_INTEGER] = OPS_INTEGER, [FT_TEXT] = OPS_TEXT, [FT_DATE] = OPS_DATE,
    [FT_KEYWORD] = OPS_KEYWORD,
};
static const char *const type_names[] = {
    [FT_INTEGER] = "integer", [FT_TEXT] = "text", [FT_DATE] = "date", [FT_KEYWORD] = "keyword",
};
static const char *const op_names[] = {
    [FO_EQUALS] = "EQUALS", [FO_NOT_EQUALS] = "NOT EQUALS", [FO_GREATER] = "GREATER",
    [FO_LESSER] = "LESSER", [FO_IN] = "IN", [FO_CONTAINS] = "CONTAINS",
};
#define OP_COUNT (sizeof(op_names) / sizeof(op_names[0]))

const char *
qps_filter_field_name(enum filter_field f)
{
    return (unsigned)f < FF_COUNT ? fields[f].name : "?";
}

const char *
qps_filter_op_name(enum filter_op op)
{
    return (unsigned)op < OP_COUNT ? op_names[op] : "?";
}

/* ops_list writes the operators of mask as "EQUALS, IN" for a resolution. */
static void
ops_list(unsigned mask, char *dst, size_t n)
{
    size_t used = 0;

    dst[0] = '\0';
    for (size_t i = 0; i < OP_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        int len = snprintf(dst + used, n - used, "%s%s", used ? ", " : "", op_names[i]);
        if (len < 0 || (size_t)len >= n - used)
            return;
        used += (size_t)len;
    }
}

static bool
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* digits reads exactly n decimal digits at *p into *v and advances *p. */
static bool
digits(const char **p, int n, int *v)
{
    int x = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

int
qps_parse_iso8601(const char *s, int64_t *lo, int64_t *hi)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, zone_min = 0;
    int64_t span = 86400000;

    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return ODS_E_PARSE;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && is_leap(y) ? 1 : 0))
        return ODS_E_PARSE;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
            !digits(&p, 2, &sec) || h > 23 || mi > 59 || sec > 59)
            return ODS_E_PARSE;
        span = 1000;
        if (*p == '.') {
            p++;
            if (!digits(&p, 3, &ms))
                return ODS_E_PARSE;
            span = 1;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, zh, zm;
            if (!digits(&p, 2, &zh) || *p++ != ':' || !digits(&p, 2, &zm) || zh > 23 || zm > 59)
                return ODS_E_PARSE;
            zone_min = sign * (zh * 60 + zm);
        }
    }
    if (*p != '\0')
        return ODS_E_PARSE;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
        .tm_min = mi, .tm_sec = sec };
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return ODS_E_PARSE;
    *lo = ((int64_t)t - (int64_t)zone_min * 60) * 1000 + ms;
    if (*lo < 0)
        return ODS_E_PARSE;
    *hi = *lo + span;
    return ODS_E_OK;
}

/* One value list being built: the pointers and the text live in one allocation,
 * pointers first. */
struct values {
    char   **v;
    size_t   n;
};

/* values_make copies the items (already checked and normalized) into one block. */
static int
values_make(char items[][QPS_FILTER_VALUE_MAX + 1], size_t n, struct criterion *c)
{
    size_t bytes = n * sizeof(char *);

    for (size_t i = 0; i < n; i++)
        bytes += strlen(items[i]) + 1;
    char **v = malloc(bytes);
    if (v == NULL)
        return ODS_E_NOMEM;
    char *text = (char *)(v + n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(items[i]) + 1;
        memcpy(text, items[i], len);
        v[i] = text;
        text += len;
    }
    c->values = v;
    c->nvalues = n;
    return ODS_E_OK;
}

/* check_item validates one value (an IN item, or the whole value) of a field of type
 * t and writes its normalized form into out. */
static int
check_item(const char *field, enum filter_type t, const char *s, size_t len,
    char out[QPS_FILTER_VALUE_MAX + 1], struct qps_error *err)
{
    uint64_t u;

    if (len > QPS_FILTER_VALUE_MAX) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, "Shorten the value.",
            "Value of field '%s' is longer than %d bytes", field, QPS_FILTER_VALUE_MAX);
        return ODS_E_TOOBIG;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    if (t == FT_INTEGER) {
        if (parse_u64(out, (uint64_t)INT64_MAX, &u) != 0) {
            qps_error_set(err, 400, QPS_INVALID_REQUEST,
                "Integer fields take decimal numbers from 0 to 9223372036854775807.",
                "Invalid value '%.64s' for integer field '%s'", out, field);
            return ODS_E_PARSE;
        }
        if (snprintf(out, QPS_FILTER_VALUE_MAX + 1, "%llu", (unsigned long long)u) < 0)
            return ODS_E_PARSE;
    } else if (t == FT_KEYWORD && len == 0) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, "Give a non-empty value.",
            "Empty value for field '%s'", field);
        return ODS_E_PARSE;
    }
    return ODS_E_OK;
}

/* criterion_add checks one (field, operator, value) triple as the client wrote it and
 * appends it to f. */
static int
criterion_add(struct qps_filter *f, const char *field, const char *op, const char *value,
    struct qps_error *err)
{
    char mask_text[96];
    size_t fi, oi;
    int rc;

    if (f->ncriteria >= FILTER_CRITERIA_MAX) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, "Combine fewer criteria.",
            "More than %d criteria", FILTER_CRITERIA_MAX);
        return ODS_E_TOOBIG;
    }
    if (field == NULL || *field == '\0') {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, FILTER_HINT, "Criteria without a field");
        return ODS_E_PARSE;
    }
    for (fi = 0; fi < FF_COUNT; fi++)
        if (strcasecmp(field, fields[fi].name) == 0)
            break;
    if (fi == FF_COUNT) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            "Use one of: id, name, agentUuid, tagName, tagId, os, lastCheckedIn, "
            "agentVersion, activationKey, created, updated, dnsHostName, address, "
            "lastVulnScan, agentConfigurationName, agentConfigurationId",
            "Unknown filter field '%.64s'", field);
        return ODS_E_PARSE;
    }
    enum filter_type t = fields[fi].type;
    const char *fname = fields[fi].name;
    for (oi = 0; op != NULL && oi < OP_COUNT; oi++)
        if (strcasecmp(op, op_names[oi]) == 0)
            break;
    ops_list(type_ops[t], mask_text, sizeof(mask_text));
    char res[160];
    if (snprintf(res, sizeof(res), "Field '%s' (%s) takes: %s", fname, type_names[t],
        mask_text) < 0)
        res[0] = '\0';
    if (op == NULL || oi == OP_COUNT) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, res,
            "Unknown operator '%.64s' for field '%s'", op != NULL ? op : "", fname);
        return ODS_E_PARSE;
    }
    if (!(type_ops[t] & (1u << oi))) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST, res,
            "Operator %s is not allowed for field '%s'", op_names[oi], fname);
        return ODS_E_PARSE;
    }
    if (value == NULL)
        value = "";

    struct criterion *c = &f->criteria[f->ncriteria];
    char (*list)[QPS_FILTER_VALUE_MAX + 1] = NULL;
    size_t n = 0;
    c->field = (enum filter_field)fi;
    c->op = (enum filter_op)oi;
    if (oi == FO_IN) {
        size_t cap = 1;
        for (const char *p = value; *p != '\0'; p++)
            cap += *p == ',';
        if (cap > FILTER_VALUES_MAX) {
            qps_error_set(err, 400, QPS_INVALID_REQUEST,
                "Send at most 10000 values per IN criterion; split the request in batches.",
                "Too many values (%zu) for %s IN: at most %d", cap, fname, FILTER_VALUES_MAX);
            return ODS_E_TOOBIG;
        }
        list = malloc(cap * sizeof(*list));
        if (list == NULL)
            return ODS_E_NOMEM;
        const char *p = value;
        for (;;) {
            const char *end = p + strcspn(p, ",");
            const char *a = p, *b = end;
            while (a < b && isspace((unsigned char)*a))
                a++;
            while (b > a && isspace((unsigned char)b[-1]))
                b--;
            if (a == b) {
                qps_error_set(err, 400, QPS_INVALID_REQUEST,
                    "Separate the values with single commas, e.g. 1,2,3.",
                    "Empty item in the IN list of field '%s'", fname);
                rc = ODS_E_PARSE;
                goto out;
            }
            rc = check_item(fname, t, a, (size_t)(b - a), list[n], err);
            if (rc != ODS_E_OK)
                goto out;
            n++;
            if (*end == '\0')
                break;
            p = end + 1;
        }
    } else if (t == FT_DATE) {
        int64_t lo, hi;
        list = malloc(2 * sizeof(*list));
        if (list == NULL)
            return ODS_E_NOMEM;
        if (qps_parse_iso8601(value, &lo, &hi) != 0) {
            qps_error_set(err, 400, QPS_INVALID_REQUEST,
                "Write dates in ISO 8601: 2024-05-01T12:00:00Z or 2024-05-01.",
                "Invalid date '%.64s' for field '%s'", value, fname);
            rc = ODS_E_PARSE;
            goto out;
        }
        snprintf(list[0], sizeof(list[0]), "%lld", (long long)lo);
        snprintf(list[1], sizeof(list[1]), "%lld", (long long)hi);
        n = 2;
    } else {
        list = malloc(sizeof(*list));
        if (list == NULL)
            return ODS_E_NOMEM;
        size_t len = strlen(value);
        if (t == FT_INTEGER) {      /* " 42 " is as good as "42" */
            while (len > 0 && isspace((unsigned char)*value)) {
                value++;
                len--;
            }
            while (len > 0 && isspace((unsigned char)value[len - 1]))
                len--;
        }
        rc = check_item(fname, t, value, len, list[0], err);
        if (rc != ODS_E_OK)
            goto out;
        n = 1;
    }
    rc = values_make(list, n, c);
    if (rc == ODS_E_OK)
        f->ncriteria++;
out:
    if (rc == ODS_E_NOMEM)
        qps_error_set(err, 500, QPS_INTERNAL_ERROR, "Retry the request later",
            "Out of memory while reading the filters");
    free(list);
    return rc;
}

/* set_pref checks one preference value; name is how the client spelled it. */
static int
set_pref(struct qps_filter *f, const char *name, const char *value, struct qps_error *err)
{
    uint64_t v;
    bool limit = strcasecmp(name, "limitResults") == 0;

    if (!limit && strcasecmp(name, "startFromOffset") != 0) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            "Preferences known: limitResults, startFromOffset.",
            "Unknown preference '%.64s'", name);
        return ODS_E_PARSE;
    }
    if (value == NULL || parse_u64(value, limit ? QPS_FILTER_LIMIT_MAX : (uint64_t)INT64_MAX,
        &v) != 0 || (limit && v == 0)) {
        qps_error_set(err, 400, QPS_INVALID_REQUEST,
            limit ? "limitResults takes 1 to 1000 (default 100)."
                  : "startFromOffset takes a positive number (1: the first record).",
            "Invalid %s '%.64s'", limit ? "limitResults" : "startFromOffset",
            value != NULL ? value : "");
        return ODS_E_PARSE;
    }
    if (limit)
        f->limit = (size_t)v;
    else
        f->offset = v > 0 ? (size_t)(v - 1) : 0;
    return ODS_E_OK;
}

/* --- XML ------------------------------------------------------------------------- */

static bool
xml_is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

static int
xml_unknown(xmlNodePtr n, const char *where, struct qps_error *err)
{
    qps_error_set(err, 400, QPS_INVALID_REQUEST, FILTER_HINT,
        "Unexpected element <%.64s> in %s", (const char *)n->name, where);
    return ODS_E_PARSE;
}

static int
xml_filters(struct qps_filter *f, xmlNodePtr filters, struct qps_error *err)
{
    int rc = ODS_E_OK;

    for (xmlNodePtr c = filters->children; c != NULL && rc == ODS_E_OK; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is(c, "Criteria"))
            return xml_unknown(c, "filters", err);
        xmlChar *field = xmlGetProp(c, BAD_CAST "field");
        xmlChar *op = xmlGetProp(c, BAD_CAST "operator");
        xmlChar *value = xmlNodeGetContent(c);
        rc = criterion_add(f, (const char *)field, (const char *)op, (const char *)value, err);
        xmlFree(field);
        xmlFree(op);
        xmlFree(value);
    }
    return rc;
}

static int
xml_prefs(struct qps_filter *f, xmlNodePtr prefs, struct qps_error *err)
{
    int rc = ODS_E_OK;

    for (xmlNodePtr c = prefs->children; c != NULL && rc == ODS_E_OK; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *value = xmlNodeGetContent(c);
        rc = set_pref(f, (const char *)c->name, (const char *)value, err);
        xmlFree(value);
    }
    return rc;
}

static int
xml_parse(struct qps_filter *f, xmlDocPtr doc, struct qps_error *err)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int rc = ODS_E_OK;

    for (xmlNodePtr c = root->children; c != NULL && rc == ODS_E_OK; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (xml_is(c, "filters"))
            rc = xml_filters(f, c, err);
        else if (xml_is(c, "preferences"))
            rc = xml_prefs(f, c, err);
        else
            rc = xml_unknown(c, "ServiceRequest", err);
    }
    return rc;
}

/* --- JSON ------------------------------------------------------------------------ */

/* json_text gives a string or integer member as text (into buf for integers); NULL
 * when absent or of another type. */
static const char *
json_text(json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v) && snprintf(buf, n, "%lld", (long long)json_integer_value(v)) > 0)
        return buf;
    return NULL;
}

static int
json_bad(const char *what, struct qps_error *err)
{
    qps_error_set(err, 400, QPS_INVALID_REQUEST,
        "Send {\"ServiceRequest\":{\"filters\":{\"Criteria\":[{\"field\":\"id\","
        "\"operator\":\"IN\",\"value\":\"1,2\"}]}}}",
        "%s", what);
    return ODS_E_PARSE;
}

static int
json_criterion(struct qps_filter *f, json_t *c, struct qps_error *err)
{
    char b1[32], b2[32], b3[32];

    if (!json_is_object(c))
        return json_bad("Each Criteria must be an object with field, operator and value", err);
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        if (strcmp(key, "field") != 0 && strcmp(key, "operator") != 0 && strcmp(key, "value") != 0)
            return json_bad("Criteria members are field, operator and value", err);
    }
    json_t *value = json_object_get(c, "value");
    const char *vt = json_text(value, b3, sizeof(b3));
    if (value != NULL && vt == NULL)
        return json_bad("Criteria value must be a string or an integer", err);
    return criterion_add(f, json_text(json_object_get(c, "field"), b1, sizeof(b1)),
        json_text(json_object_get(c, "operator"), b2, sizeof(b2)), vt, err);
}

static int
json_parse(struct qps_filter *f, json_t *req, struct qps_error *err)
{
    const char *key;
    json_t *v;
    char buf[32];
    int rc;

    json_object_foreach(req, key, v) {
        if (strcmp(key, "filters") == 0) {
            if (!json_is_object(v))
                return json_bad("'filters' must be an object holding 'Criteria'", err);
            const char *k2;
            json_t *crit;
            json_object_foreach(v, k2, crit) {
                if (strcmp(k2, "Criteria") != 0)
                    return json_bad("'filters' holds only 'Criteria'", err);
                if (json_is_array(crit)) {
                    size_t i;
                    json_t *c;
                    json_array_foreach(crit, i, c)
                        if ((rc = json_criterion(f, c, err)) != ODS_E_OK)
                            return rc;
                } else if ((rc = json_criterion(f, crit, err)) != ODS_E_OK) {
                    return rc;
                }
            }
        } else if (strcmp(key, "preferences") == 0) {
            if (!json_is_object(v))
                return json_bad("'preferences' must be an object", err);
            const char *k2;
            json_t *p;
            json_object_foreach(v, k2, p)
                if ((rc = set_pref(f, k2, json_text(p, buf, sizeof(buf)), err)) != ODS_E_OK)
                    return rc;
        } else {
            qps_error_set(err, 400, QPS_INVALID_REQUEST, FILTER_HINT,
                "Unexpected member '%.64s' in ServiceRequest", key);
            return ODS_E_PARSE;
        }
    }
    return ODS_E_OK;
}

int
qps_filter_parse(const struct qps_body *body, struct qps_filter *out, struct qps_error *err)
{
    memset(out, 0, sizeof(*out));
    out->limit = QPS_FILTER_LIMIT_DEFAULT;
    if (body->kind == QPS_BODY_XML)
        return xml_parse(out, body->xml, err);
    if (body->kind == QPS_BODY_JSON)
        return json_parse(out, body->request, err);
    return ODS_E_OK;
}

void
qps_filter_free(struct qps_filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->ncriteria; i++)
        free(f->criteria[i].values);
    f->ncriteria = 0;
}

int
qps_filter_read(const char *body, size_t len, struct qps_filter *out, struct qps_error *err)
{
    struct qps_body b;
    int rc = qps_body_read(body != NULL ? body : "", len, FILTER_HINT, &b, err);

    memset(out, 0, sizeof(*out));
    out->limit = QPS_FILTER_LIMIT_DEFAULT;
    if (rc == ODS_E_OK)
        rc = qps_filter_parse(&b, out, err);
    qps_body_free(&b);
    return rc;
}
