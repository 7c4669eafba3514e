/* filter_sql.c - the SQL builder shared by the storage backends for asset searches by
 * QPS filters. Client values never enter the SQL text: each becomes a numbered
 * parameter, IN lists one parameter holding a JSON array. */
#include "filter_sql.h"
#include "err.h"
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The profile in force for an asset: its own, else its OS family's default, else the
 * linux default (as store_profile_for_asset). */
#define PROFILE_ID "COALESCE(a.profile_id," \
    " (SELECT d.id FROM profiles d WHERE d.is_default <> 0 AND d.os_family = a.os_family)," \
    " (SELECT d.id FROM profiles d WHERE d.is_default <> 0 AND d.os_family = 'linux'), 0)"

/* bytes of one IN list as JSON: every value escaped at worst */
#define FILTER_LIST_MAX (16u << 20)

enum col_kind { COL_INT = 0, COL_TEXT, COL_DATE };

/* How each field reads in SQL. A field with `from` is a property of related rows: the
 * condition is EXISTS (SELECT 1 FROM <from> AND ...). A field with two expressions
 * matches when either does. Dates are ms columns where 0 means never. */
static const struct {
    const char   *from;
    const char   *expr[2];
    enum col_kind kind;
} cols[FF_COUNT] = {
    [FF_ID]              = { NULL, { "a.id", NULL }, COL_INT },
    [FF_NAME]            = { NULL, { "a.hostname", NULL }, COL_TEXT },
    [FF_AGENT_UUID]      = { NULL, { "COALESCE(a.agent_uuid, '')", NULL }, COL_TEXT },
    [FF_TAG_NAME]        = { "asset_tags x JOIN tags t ON t.id = x.tag_id WHERE x.asset_id = a.id",
                             { "t.name", NULL }, COL_TEXT },
    [FF_TAG_ID]          = { "asset_tags x WHERE x.asset_id = a.id", { "x.tag_id", NULL }, COL_INT },
    [FF_OS]              = { NULL, { "a.os_name", "a.os_family" }, COL_TEXT },
    [FF_LAST_CHECKED_IN] = { NULL, { "a.last_checkin_ms", NULL }, COL_DATE },
    [FF_AGENT_VERSION]   = { NULL, { "a.agent_version", NULL }, COL_TEXT },
    [FF_ACTIVATION_KEY]  = { "actkeys k WHERE k.id = a.key_id", { "k.token", "k.name" }, COL_TEXT },
    [FF_CREATED]         = { NULL, { "a.created_ms", NULL }, COL_DATE },
    [FF_UPDATED]         = { NULL, { "a.updated_ms", NULL }, COL_DATE },
    [FF_DNS_HOST_NAME]   = { NULL, { "CASE WHEN a.fqdn <> '' THEN a.fqdn ELSE a.hostname END",
                             NULL }, COL_TEXT },
    [FF_ADDRESS]         = { NULL, { "a.last_address", NULL }, COL_TEXT },
    /* the last Vulnerability_Scan whose manifest was stored; 0 (never) without one */
    [FF_LAST_VULN_SCAN]  = { NULL, { "COALESCE((SELECT m.scanned_ms FROM vuln_manifests m"
                             " WHERE m.asset_id = a.id), 0)", NULL }, COL_DATE },
    [FF_AGENT_CONFIGURATION_NAME] = { "profiles p WHERE p.id = " PROFILE_ID,
                             { "p.name", NULL }, COL_TEXT },
    [FF_AGENT_CONFIGURATION_ID]   = { NULL, { PROFILE_ID, NULL }, COL_INT },
};

const char *
filter_check_modules(unsigned mods)
{
    if ((mods & MOD_PC) && (mods & MOD_SCA))
        return "AGENT_PC and AGENT_SCA are mutually exclusive";
    if ((mods & MOD_SWCA) && !(mods & MOD_VM))
        return "AGENT_SWCA needs AGENT_VM";
    return NULL;
}

/* param_add appends a parameter (text copied) and writes its placeholder into ph. */
static int
param_add(const struct filter_dialect *d, struct filter_sql *f, bool is_int, int64_t i,
    const char *text, char ph[24])
{
    if (f->nparams == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct filter_param *p = realloc(f->params, cap * sizeof(*p));
        if (p == NULL)
            return ODS_E_NOMEM;
        f->params = p;
        f->cap = cap;
    }
    char num[24];
    if (text == NULL) {
        snprintf(num, sizeof(num), "%lld", (long long)i);
        text = num;
    }
    char *copy = strdup(text);
    if (copy == NULL)
        return ODS_E_NOMEM;
    f->params[f->nparams] = (struct filter_param){ .is_int = is_int, .i = i, .text = copy };
    f->nparams++;
    snprintf(ph, 24, "%c%zu", d->mark, f->nparams);
    return ODS_E_OK;
}

/* param_list binds the values as one JSON array (integers bare, text quoted). */
static int
param_list(const struct filter_dialect *d, struct filter_sql *f, const struct criterion *c,
    bool ints, char ph[24])
{
    struct buf b;
    int rc;

    buf_init(&b, FILTER_LIST_MAX);
    rc = buf_puts(&b, "[");
    for (size_t i = 0; rc == 0 && i < c->nvalues; i++) {
        if (ints)
            rc = buf_printf(&b, "%s%s", i ? "," : "", c->values[i]);
        else {
            rc = buf_puts(&b, i ? ",\"" : "\"");
            if (rc == 0)
                rc = buf_json_escaped(&b, c->values[i]);
            if (rc == 0)
                rc = buf_puts(&b, "\"");
        }
    }
    if (rc == 0)
        rc = buf_puts(&b, "]");
    if (rc == 0)
        rc = param_add(d, f, false, 0, b.data, ph);
    buf_free(&b);
    return rc;
}

/* compare writes one comparison of expression e under op (never NOT EQUALS) with the
 * placeholders ph[0] (and ph[1], the end of a date range). */
static int
compare(const struct filter_dialect *d, struct buf *b, enum col_kind kind, const char *e,
    enum filter_op op, char ph[2][24])
{
    char lhs[FILTER_SQL_MAX / 8], rhs[40];

    if (kind == COL_DATE) {
        switch (op) {
        case FO_EQUALS:
            return buf_printf(b, "(%s <> 0 AND %s >= %s AND %s < %s)", e, e, ph[0], e, ph[1]);
        case FO_GREATER:
            return buf_printf(b, "(%s <> 0 AND %s >= %s)", e, e, ph[1]);
        case FO_LESSER:
            return buf_printf(b, "(%s <> 0 AND %s < %s)", e, e, ph[0]);
        default:
            return ODS_E_INVAL;
        }
    }
    if (kind == COL_INT) {
        switch (op) {
        case FO_EQUALS:  return buf_printf(b, "%s = %s", e, ph[0]);
        case FO_GREATER: return buf_printf(b, "%s > %s", e, ph[0]);
        case FO_LESSER:  return buf_printf(b, "%s < %s", e, ph[0]);
        case FO_IN:
            return buf_printf(b, "%s IN %s%s%s", e, d->in_int[0], ph[0], d->in_int[1]);
        default:         return ODS_E_INVAL;
        }
    }
    /* text and keywords compare without regard to case */
    if (snprintf(lhs, sizeof(lhs), "lower(%s)", e) >= (int)sizeof(lhs) ||
        snprintf(rhs, sizeof(rhs), "lower(%s)", ph[0]) >= (int)sizeof(rhs))
        return ODS_E_TOOBIG;
    switch (op) {
    case FO_EQUALS:   return buf_printf(b, "%s = %s", lhs, rhs);
    case FO_CONTAINS: return buf_printf(b, "%s(%s, %s) > 0", d->position, lhs, rhs);
    case FO_IN:
        return buf_printf(b, "%s IN %s%s%s", lhs, d->in_text[0], ph[0], d->in_text[1]);
    default:          return ODS_E_INVAL;
    }
}

/* criterion_sql appends the condition of one criterion. */
static int
criterion_sql(const struct filter_dialect *d, struct filter_sql *f, const struct criterion *c)
{
    char ph[2][24] = { "", "" };
    struct buf *b = &f->sql;
    int rc;

    if ((unsigned)c->field >= FF_COUNT || c->nvalues == 0)
        return ODS_E_INVAL;
    enum col_kind kind = cols[c->field].kind;
    enum filter_op op = c->op == FO_NOT_EQUALS ? FO_EQUALS : c->op;

    if (op == FO_IN)
        rc = param_list(d, f, c, kind == COL_INT, ph[0]);
    else if (kind == COL_DATE) {
        if (c->nvalues != 2)
            return ODS_E_INVAL;
        /* only the bounds the comparison uses: PostgreSQL refuses a parameter it
         * cannot type because no expression mentions it */
        rc = 0;
        if (op != FO_GREATER)
            rc = param_add(d, f, true, strtoll(c->values[0], NULL, 10), NULL, ph[0]);
        if (rc == 0 && op != FO_LESSER)
            rc = param_add(d, f, true, strtoll(c->values[1], NULL, 10), NULL, ph[1]);
    } else if (kind == COL_INT)
        rc = param_add(d, f, true, strtoll(c->values[0], NULL, 10), NULL, ph[0]);
    else
        rc = param_add(d, f, false, 0, c->values[0], ph[0]);
    if (rc != 0)
        return rc;

    /* NOT EQUALS is the negation of EQUALS: an asset without such a tag, key, ... */
    rc = buf_puts(b, c->op == FO_NOT_EQUALS ? "NOT (" : "(");
    if (rc == 0 && cols[c->field].from != NULL)
        rc = buf_printf(b, "EXISTS (SELECT 1 FROM %s AND (", cols[c->field].from);
    for (size_t i = 0; rc == 0 && i < 2 && cols[c->field].expr[i] != NULL; i++) {
        if (i > 0)
            rc = buf_puts(b, " OR ");
        if (rc == 0)
            rc = compare(d, b, kind, cols[c->field].expr[i], op, ph);
    }
    if (rc == 0 && cols[c->field].from != NULL)
        rc = buf_puts(b, "))");
    if (rc == 0)
        rc = buf_puts(b, ")");
    return rc;
}

/* scope_sql appends the scope condition: assets carrying one of the tags. */
static int
scope_sql(const struct filter_dialect *d, struct filter_sql *f, const struct asset_query *q)
{
    struct buf tags;
    char ph[24];
    int rc;

    if (q->scope_n == 0)
        return buf_puts(&f->sql, " AND 0 = 1");
    buf_init(&tags, FILTER_SQL_MAX);
    rc = buf_puts(&tags, "[");
    for (size_t i = 0; rc == 0 && i < q->scope_n; i++)
        rc = buf_printf(&tags, "%s%lld", i ? "," : "", (long long)q->scope_tags[i]);
    if (rc == 0)
        rc = buf_puts(&tags, "]");
    if (rc == 0)
        rc = param_add(d, f, false, 0, tags.data, ph);
    buf_free(&tags);
    if (rc == 0)
        rc = buf_printf(&f->sql, " AND EXISTS (SELECT 1 FROM asset_tags s WHERE s.asset_id = a.id"
            " AND s.tag_id IN %s%s%s)", d->in_int[0], ph, d->in_int[1]);
    return rc;
}

int
filter_sql_build(const struct filter_dialect *d, const struct asset_query *q,
    enum filter_sql_kind kind, struct filter_sql *out)
{
    char ph[24];
    int rc;

    memset(out, 0, sizeof(*out));
    buf_init(&out->sql, FILTER_SQL_MAX);
    rc = buf_puts(&out->sql, kind == FILTER_SQL_COUNT ? "SELECT count(*) FROM assets a WHERE 1 = 1"
        : "SELECT a.id FROM assets a WHERE 1 = 1");
    for (size_t i = 0; rc == 0 && i < q->ncriteria; i++) {
        rc = buf_puts(&out->sql, " AND ");
        if (rc == 0)
            rc = criterion_sql(d, out, &q->criteria[i]);
    }
    if (rc == 0 && !(q->scope_all && q->scope_n == 0))
        rc = scope_sql(d, out, q);
    if (rc != 0 || kind == FILTER_SQL_COUNT)
        return rc;
    if (q->after_id > 0) {
        rc = param_add(d, out, true, q->after_id, NULL, ph);
        if (rc == 0)
            rc = buf_printf(&out->sql, " AND a.id > %s", ph);
    }
    if (rc == 0)
        rc = buf_puts(&out->sql, " ORDER BY a.id");
    /* one row beyond the limit tells the caller whether more match */
    int64_t limit = q->limit > 0 && q->limit < (size_t)INT64_MAX ? (int64_t)q->limit + 1 : INT64_MAX;
    if (rc == 0)
        rc = param_add(d, out, true, limit, NULL, ph);
    if (rc == 0)
        rc = buf_printf(&out->sql, " LIMIT %s", ph);
    if (rc == 0)
        rc = param_add(d, out, true, (int64_t)q->offset, NULL, ph);
    if (rc == 0)
        rc = buf_printf(&out->sql, " OFFSET %s", ph);
    return rc;
}

void
filter_sql_free(struct filter_sql *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nparams; i++)
        free(f->params[i].text);
    free(f->params);
    buf_free(&f->sql);
    memset(f, 0, sizeof(*f));
}
