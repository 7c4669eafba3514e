/* debtracker.c - Debian Security Tracker JSON to advisories, one per (source package,
 * CVE), with the release codenames mapped to OSV's "Debian:<number>" ecosystems. */
#include "debtracker.h"
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Codename to the release OSV names; anything else is skipped and counted. */
static const struct release_row {
    const char *codename;
    const char *release;
} releases[] = {
    { "jessie",   "8" },
    { "stretch",  "9" },
    { "buster",   "10" },
    { "bullseye", "11" },
    { "bookworm", "12" },
    { "trixie",   "13" },
    { "forky",    "14" },
    { "sid",      "unstable" },
};

enum status { ST_RESOLVED, ST_OPEN, ST_UNDETERMINED };

static const struct status_row {
    const char *name;
    enum status status;
} statuses[] = {
    { "resolved",     ST_RESOLVED },
    { "open",         ST_OPEN },
    { "undetermined", ST_UNDETERMINED },
};

struct ctx {
    char  *why;
    size_t whylen;
};

static int
fail(struct ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(struct ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;

    if (c->whylen > 0) {
        va_start(ap, fmt);
        if (vsnprintf(c->why, c->whylen, fmt, ap) < 0)
            c->why[0] = '\0';
        va_end(ap);
    }
    return rc;
}

static const char *
release_of(const char *codename)
{
    for (size_t i = 0; i < sizeof(releases) / sizeof(releases[0]); i++)
        if (strcmp(releases[i].codename, codename) == 0)
            return releases[i].release;
    return NULL;
}

/* One release entry of one (package, CVE) into adv. */
static int
add_release(struct ctx *c, struct advisory *adv, const char *pkg, const char *cve,
    const char *codename, json_t *rel, struct debtracker_stats *st)
{
    const char *release = release_of(codename), *status_s, *fixed = NULL, *urgency = NULL;
    struct vuln_ecosystem eco = { .family = VULN_FAMILY_DEBIAN };
    struct vuln_affected *aff = NULL;
    struct vuln_range *range = NULL;
    enum status status;
    json_t *v;
    size_t k;
    int rc;

    if (!json_is_object(rel))
        return fail(c, ODS_E_PARSE, "%s.%s.releases.%s: not an object", pkg, cve, codename);
    if (release == NULL) {
        st->unknown_release++;
        return ODS_E_OK;
    }
    v = json_object_get(rel, "status");
    if (!json_is_string(v))
        return fail(c, ODS_E_PARSE, "%s.%s.releases.%s.status: missing or not a string", pkg,
            cve, codename);
    status_s = json_string_value(v);
    for (k = 0; k < sizeof(statuses) / sizeof(statuses[0]); k++)
        if (strcmp(statuses[k].name, status_s) == 0)
            break;
    if (k == sizeof(statuses) / sizeof(statuses[0]))
        return fail(c, ODS_E_PARSE, "%s.%s.releases.%s.status: unknown status '%.32s'", pkg,
            cve, codename, status_s);
    status = statuses[k].status;
    v = json_object_get(rel, "fixed_version");
    if (v != NULL && !json_is_string(v))
        return fail(c, ODS_E_PARSE, "%s.%s.releases.%s.fixed_version: not a string", pkg, cve,
            codename);
    if (v != NULL)
        fixed = json_string_value(v);
    if (status == ST_RESOLVED && (fixed == NULL || *fixed == '\0'))
        return fail(c, ODS_E_PARSE, "%s.%s.releases.%s.fixed_version: missing for a resolved "
            "issue", pkg, cve, codename);
    v = json_object_get(rel, "urgency");
    if (v != NULL && !json_is_string(v))
        return fail(c, ODS_E_PARSE, "%s.%s.releases.%s.urgency: not a string", pkg, cve, codename);
    if (v != NULL)
        urgency = json_string_value(v);

    /* "0": the release never had the vulnerable code. */
    if (status == ST_RESOLVED && strcmp(fixed, "0") == 0) {
        st->not_affected++;
        return ODS_E_OK;
    }
    snprintf(eco.release, sizeof(eco.release), "%s", release);
    rc = advisory_add_affected(adv, &eco, pkg, &aff);
    if (rc == 0)
        rc = advisory_affected_add_range(aff, VULN_RANGE_ECOSYSTEM, &range);
    if (rc == 0)
        rc = advisory_range_add_event(range, VULN_EVENT_INTRODUCED, "0");
    if (rc == 0 && status == ST_RESOLVED)
        rc = advisory_range_add_event(range, VULN_EVENT_FIXED, fixed);
    if (rc == 0 && urgency != NULL && *urgency != '\0')
        rc = advisory_severity_set_urgency(&aff->severity, urgency);
    if (rc != 0)
        return fail(c, rc, "%s.%s.releases.%s: %s", pkg, cve, codename,
            rc == ODS_E_TOOBIG ? "a value exceeds its size limit" : err_msg(rc));
    aff->undetermined = status == ST_UNDETERMINED;
    return ODS_E_OK;
}

static int
add_issue(struct ctx *c, struct advisory_set *set, const char *pkg, const char *cve,
    json_t *issue, struct debtracker_stats *st)
{
    struct advisory *adv = NULL;
    json_t *rels, *rel, *desc;
    const char *codename;
    int rc;

    if (!json_is_object(issue))
        return fail(c, ODS_E_PARSE, "%s.%s: not an object", pkg, cve);
    rels = json_object_get(issue, "releases");
    /* The export writes an issue without releases as an empty array. */
    if (json_is_array(rels) && json_array_size(rels) == 0)
        return ODS_E_OK;
    if (!json_is_object(rels))
        return fail(c, ODS_E_PARSE, "%s.%s.releases: missing or not an object", pkg, cve);
    desc = json_object_get(issue, "description");
    if (desc != NULL && !json_is_string(desc))
        return fail(c, ODS_E_PARSE, "%s.%s.description: not a string", pkg, cve);

    adv = advisory_new();
    if (adv == NULL)
        return fail(c, ODS_E_NOMEM, "%s.%s: out of memory", pkg, cve);
    rc = advisory_set_id(adv, cve);
    if (rc != 0) {
        rc = fail(c, rc, "%s.%s: bad id", pkg, cve);
        goto out;
    }
    /* Descriptions longer than the summary limit are cut, not refused: they are prose. */
    if (desc != NULL) {
        char summary[VULN_SUMMARY_MAX + 1];

        snprintf(summary, sizeof(summary), "%s", json_string_value(desc));
        rc = advisory_set_summary(adv, summary);
        if (rc != 0) {
            rc = fail(c, rc, "%s.%s.description: %s", pkg, cve, err_msg(rc));
            goto out;
        }
    }
    json_object_foreach(rels, codename, rel) {
        rc = add_release(c, adv, pkg, cve, codename, rel, st);
        if (rc != 0)
            goto out;
    }
    if (adv->n_affected > 0) {
        rc = advisory_set_add(set, adv);
        adv = NULL;
        if (rc != 0) {
            rc = fail(c, rc, "%s.%s: out of memory", pkg, cve);
            goto out;
        }
        st->advisories++;
    }
out:
    advisory_free(adv);
    return rc;
}

int
debtracker_parse(const char *json, size_t len, struct advisory_set *set,
    struct debtracker_stats *stats, char *why, size_t whylen)
{
    struct ctx c = { why, whylen };
    json_t *doc = NULL, *cves, *issue;
    const char *pkg, *cve;
    json_error_t jerr;
    int rc = ODS_E_OK;

    memset(stats, 0, sizeof(*stats));
    if (whylen > 0)
        why[0] = '\0';
    if (len > DEBTRACKER_DOC_MAX)
        return fail(&c, ODS_E_TOOBIG, "document: larger than %u bytes", DEBTRACKER_DOC_MAX);
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        return fail(&c, ODS_E_PARSE, "document: invalid JSON at line %d: %s", jerr.line, jerr.text);
    if (!json_is_object(doc)) {
        rc = fail(&c, ODS_E_PARSE, "document: not a JSON object");
        goto out;
    }
    json_object_foreach(doc, pkg, cves) {
        if (*pkg == '\0' || strlen(pkg) > VULN_NAME_MAX) {
            rc = fail(&c, ODS_E_PARSE, "package name: empty or too long");
            goto out;
        }
        if (!json_is_object(cves)) {
            rc = fail(&c, ODS_E_PARSE, "%s: not an object", pkg);
            goto out;
        }
        json_object_foreach(cves, cve, issue) {
            rc = add_issue(&c, set, pkg, cve, issue, stats);
            if (rc != 0)
                goto out;
        }
    }
out:
    json_decref(doc);
    return rc;
}

int
debtracker_load_file(const char *path, struct advisory_set *set,
    struct debtracker_stats *stats, char *why, size_t whylen)
{
    struct ctx c = { why, whylen };
    FILE *fp = NULL;
    char *data = NULL;
    long size;
    int rc;

    memset(stats, 0, sizeof(*stats));
    fp = fopen(path, "rb");
    if (fp == NULL)
        return fail(&c, ODS_E_IO, "%s: %s", path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        rc = fail(&c, ODS_E_IO, "%s: cannot size the file", path);
        goto out;
    }
    if ((unsigned long)size > DEBTRACKER_DOC_MAX) {
        rc = fail(&c, ODS_E_TOOBIG, "%s: larger than %u bytes", path, DEBTRACKER_DOC_MAX);
        goto out;
    }
    data = malloc((size_t)size + 1);
    if (data == NULL) {
        rc = fail(&c, ODS_E_NOMEM, "%s: out of memory", path);
        goto out;
    }
    if (fread(data, 1, (size_t)size, fp) != (size_t)size) {
        rc = fail(&c, ODS_E_IO, "%s: short read", path);
        goto out;
    }
    rc = debtracker_parse(data, (size_t)size, set, stats, why, whylen);
out:
    free(data);
    fclose(fp);
    return rc;
}
