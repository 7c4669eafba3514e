/* advisory.c - building and freeing advisories, the table of OS families, and
 * ecosystem strings. Every string is copied and bounded; no partial state is left
 * behind by a failed builder call. */
#include "vuln.h"
#include "err.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* One row per family: its OSV name, its version scheme, and how installed packages
 * are looked up (source name for Debian and Ubuntu, whose advisories name source
 * packages; binary name otherwise). */
static const struct family_row {
    enum vuln_family   family;
    const char        *name;
    enum vercmp_scheme scheme;
    bool               by_source;
    bool               strip_v;        /* "v3.18" -> "3.18" */
} families[] = {
    { VULN_FAMILY_DEBIAN, "Debian",      VERCMP_DPKG, true,  false },
    { VULN_FAMILY_UBUNTU, "Ubuntu",      VERCMP_DPKG, true,  false },
    { VULN_FAMILY_ALPINE, "Alpine",      VERCMP_APK,  false, true  },
    { VULN_FAMILY_REDHAT, "Red Hat",     VERCMP_RPM,  false, false },
    { VULN_FAMILY_ROCKY,  "Rocky Linux", VERCMP_RPM,  false, false },
    { VULN_FAMILY_ALMA,   "AlmaLinux",   VERCMP_RPM,  false, false },
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

static const struct family_row *
family_row(enum vuln_family family)
{
    for (size_t i = 0; i < NFAMILIES; i++)
        if (families[i].family == family)
            return &families[i];
    return NULL;
}

const char *
advisory_family_name(enum vuln_family family)
{
    const struct family_row *row = family_row(family);

    return row != NULL ? row->name : "unknown";
}

bool
advisory_family_scheme(enum vuln_family family, enum vercmp_scheme *out)
{
    const struct family_row *row = family_row(family);

    if (row == NULL)
        return false;
    *out = row->scheme;
    return true;
}

bool
advisory_family_by_source(enum vuln_family family)
{
    const struct family_row *row = family_row(family);

    return row != NULL && row->by_source;
}

int
advisory_ecosystem_parse(const char *s, struct vuln_ecosystem *out)
{
    const char *colon, *rel;
    size_t namelen, rlen;

    memset(out, 0, sizeof(*out));
    if (s == NULL || *s == '\0')
        return ODS_E_PARSE;
    colon = strchr(s, ':');
    namelen = colon != NULL ? (size_t)(colon - s) : strlen(s);
    rel = colon != NULL ? colon + 1 : "";
    for (size_t i = 0; i < NFAMILIES; i++) {
        if (strlen(families[i].name) == namelen && memcmp(families[i].name, s, namelen) == 0) {
            out->family = families[i].family;
            if (families[i].strip_v && rel[0] == 'v')
                rel++;
            break;
        }
    }
    rlen = strlen(rel);
    /* Ubuntu's ":LTS" is a support level; "Ubuntu:22.04" hosts must find LTS records. */
    if (out->family == VULN_FAMILY_UBUNTU && rlen >= 4 && strcmp(rel + rlen - 4, ":LTS") == 0)
        rlen -= 4;
    if (rlen >= sizeof(out->release))
        return ODS_E_TOOBIG;
    memcpy(out->release, rel, rlen);
    out->release[rlen] = '\0';
    return ODS_E_OK;
}

/* ---- building ------------------------------------------------------------------ */

static int
dup_bounded(const char *s, size_t max, char **out)
{
    size_t len = strnlen(s, max + 1);

    if (len > max)
        return ODS_E_TOOBIG;
    *out = malloc(len + 1);
    if (*out == NULL)
        return ODS_E_NOMEM;
    memcpy(*out, s, len);
    (*out)[len] = '\0';
    return ODS_E_OK;
}

/* Make room for one more element of size elem in *arr (n used, *cap allocated). */
static int
grow(void **arr, size_t n, size_t *cap, size_t elem, size_t max)
{
    size_t ncap;
    void *p;

    if (n >= max)
        return ODS_E_TOOBIG;
    if (n < *cap)
        return ODS_E_OK;
    ncap = *cap == 0 ? 4 : *cap * 2;
    if (ncap > max)
        ncap = max;
    p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return ODS_E_NOMEM;
    *arr = p;
    *cap = ncap;
    return ODS_E_OK;
}

/* Capacities are not stored in the public structs: arrays grow by powers of two from
 * 4, so the capacity is a function of the count. */
static size_t
cap_of(size_t n)
{
    size_t cap = 4;

    if (n == 0)
        return 0;
    while (cap < n)
        cap *= 2;
    return cap;
}

static int
push_string(char ***arr, size_t *n, size_t max_items, const char *s, size_t max_len)
{
    size_t cap = cap_of(*n);
    char *copy = NULL;
    int rc;

    rc = grow((void **)arr, *n, &cap, sizeof(char *), max_items);
    if (rc != 0)
        return rc;
    rc = dup_bounded(s, max_len, &copy);
    if (rc != 0)
        return rc;
    (*arr)[(*n)++] = copy;
    return ODS_E_OK;
}

struct advisory *
advisory_new(void)
{
    struct advisory *adv = calloc(1, sizeof(*adv));

    if (adv != NULL)
        adv->severity.score10 = -1;
    return adv;
}

int
advisory_set_id(struct advisory *adv, const char *id)
{
    char *copy;
    int rc = dup_bounded(id, VULN_ID_MAX, &copy);

    if (rc != 0)
        return rc;
    free(adv->id);
    adv->id = copy;
    return ODS_E_OK;
}

int
advisory_set_summary(struct advisory *adv, const char *summary)
{
    char *copy;
    int rc = dup_bounded(summary, VULN_SUMMARY_MAX, &copy);

    if (rc != 0)
        return rc;
    free(adv->summary);
    adv->summary = copy;
    return ODS_E_OK;
}

int
advisory_add_alias(struct advisory *adv, const char *alias)
{
    return push_string(&adv->aliases, &adv->n_aliases, VULN_ALIASES_MAX, alias, VULN_ID_MAX);
}

int
advisory_add_affected(struct advisory *adv, const struct vuln_ecosystem *eco,
    const char *package, struct vuln_affected **out)
{
    size_t cap = cap_of(adv->n_affected);
    struct vuln_affected *aff;
    char *name = NULL;
    int rc;

    rc = grow((void **)&adv->affected, adv->n_affected, &cap, sizeof(*aff), VULN_AFFECTED_MAX);
    if (rc != 0)
        return rc;
    rc = dup_bounded(package, VULN_NAME_MAX, &name);
    if (rc != 0)
        return rc;
    aff = &adv->affected[adv->n_affected++];
    memset(aff, 0, sizeof(*aff));
    aff->ecosystem = *eco;
    aff->package = name;
    aff->severity.score10 = -1;
    *out = aff;
    return ODS_E_OK;
}

int
advisory_affected_add_version(struct vuln_affected *aff, const char *version)
{
    return push_string(&aff->versions, &aff->n_versions, VULN_VERSIONS_MAX, version,
        VULN_VERSION_MAX);
}

int
advisory_affected_add_range(struct vuln_affected *aff, enum vuln_range_type type,
    struct vuln_range **out)
{
    size_t cap = cap_of(aff->n_ranges);
    struct vuln_range *range;
    int rc;

    rc = grow((void **)&aff->ranges, aff->n_ranges, &cap, sizeof(*range), VULN_RANGES_MAX);
    if (rc != 0)
        return rc;
    range = &aff->ranges[aff->n_ranges++];
    memset(range, 0, sizeof(*range));
    range->type = type;
    *out = range;
    return ODS_E_OK;
}

int
advisory_range_add_event(struct vuln_range *range, enum vuln_event_kind kind, const char *version)
{
    size_t cap = cap_of(range->n_events);
    char *copy = NULL;
    int rc;

    rc = grow((void **)&range->events, range->n_events, &cap, sizeof(struct vuln_event),
        VULN_EVENTS_MAX);
    if (rc != 0)
        return rc;
    rc = dup_bounded(version, VULN_VERSION_MAX, &copy);
    if (rc != 0)
        return rc;
    range->events[range->n_events].kind = kind;
    range->events[range->n_events].version = copy;
    range->n_events++;
    return ODS_E_OK;
}

int
advisory_severity_set_cvss(struct vuln_severity *sev, const char *vector)
{
    int score10 = -1, rc;
    char *copy;

    if (strncmp(vector, "CVSS:3.", 7) == 0) {
        rc = cvss_v3_score(vector, &score10);
        if (rc != 0)
            return rc;
    }
    rc = dup_bounded(vector, VULN_TEXT_MAX, &copy);
    if (rc != 0)
        return rc;
    free(sev->cvss_vector);
    sev->cvss_vector = copy;
    sev->score10 = score10;
    return ODS_E_OK;
}

int
advisory_severity_set_urgency(struct vuln_severity *sev, const char *urgency)
{
    char *copy;
    int rc = dup_bounded(urgency, VULN_TEXT_MAX, &copy);

    if (rc != 0)
        return rc;
    free(sev->urgency);
    sev->urgency = copy;
    return ODS_E_OK;
}

/* ---- freeing ------------------------------------------------------------------- */

static void
free_strings(char **arr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(arr[i]);
    free(arr);
}

static void
free_severity(struct vuln_severity *sev)
{
    free(sev->cvss_vector);
    free(sev->urgency);
}

void
advisory_free(struct advisory *adv)
{
    if (adv == NULL)
        return;
    for (size_t i = 0; i < adv->n_affected; i++) {
        struct vuln_affected *aff = &adv->affected[i];

        for (size_t r = 0; r < aff->n_ranges; r++) {
            for (size_t e = 0; e < aff->ranges[r].n_events; e++)
                free(aff->ranges[r].events[e].version);
            free(aff->ranges[r].events);
        }
        free(aff->ranges);
        free_strings(aff->versions, aff->n_versions);
        free_severity(&aff->severity);
        free(aff->package);
    }
    free(adv->affected);
    free_strings(adv->aliases, adv->n_aliases);
    free_severity(&adv->severity);
    free(adv->summary);
    free(adv->id);
    free(adv);
}

void
advisory_set_init(struct advisory_set *set)
{
    memset(set, 0, sizeof(*set));
}

void
advisory_set_free(struct advisory_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        advisory_free(set->items[i]);
    free(set->items);
    memset(set, 0, sizeof(*set));
}

int
advisory_set_add(struct advisory_set *set, struct advisory *adv)
{
    if (set->n == set->cap) {
        size_t ncap = set->cap == 0 ? 64 : set->cap * 2;
        struct advisory **p = realloc(set->items, ncap * sizeof(*p));

        if (p == NULL) {
            advisory_free(adv);
            return ODS_E_NOMEM;
        }
        set->items = p;
        set->cap = ncap;
    }
    set->items[set->n++] = adv;
    return ODS_E_OK;
}
