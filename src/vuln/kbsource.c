/* kbsource.c - reading import sources into normalized OSV documents (kbsource.h). */
#include "kbsource.h"
#include "debtracker.h"
#include "err.h"
#include "osv.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KB_DOCS_FIRST 256

static const char *const event_names[] = {
    [VULN_EVENT_INTRODUCED]    = "introduced",
    [VULN_EVENT_FIXED]         = "fixed",
    [VULN_EVENT_LAST_AFFECTED] = "last_affected",
    [VULN_EVENT_LIMIT]         = "limit",
};

static const char *const range_names[] = {
    [VULN_RANGE_ECOSYSTEM] = "ECOSYSTEM",
    [VULN_RANGE_SEMVER]    = "SEMVER",
    [VULN_RANGE_GIT]       = "GIT",
};

static int
fail(char *why, size_t n, int rc, const char *fmt, ...)
{
    va_list ap;

    if (n > 0) {
        va_start(ap, fmt);
        if (vsnprintf(why, n, fmt, ap) < 0)
            why[0] = '\0';
        va_end(ap);
    }
    return rc;
}

/* ---- writing OSV -------------------------------------------------------------------- */

/* severity_json: [{"type":"CVSS_V3","score":vector}] and/or [{"type":"Ubuntu",
 * "score":urgency}] (osv.c reads an Ubuntu-type score back as the urgency). NULL when
 * there is none; *nomem on allocation failure. */
static json_t *
severity_json(const struct vuln_severity *sev, bool *nomem)
{
    json_t *arr;
    const char *type;

    if (sev->cvss_vector == NULL && sev->urgency == NULL)
        return NULL;
    if ((arr = json_array()) == NULL)
        goto nomem;
    if (sev->cvss_vector != NULL) {
        type = strncmp(sev->cvss_vector, "CVSS:3", 6) == 0 ? "CVSS_V3" :
            strncmp(sev->cvss_vector, "CVSS:4", 6) == 0 ? "CVSS_V4" : "CVSS_V2";
        if (json_array_append_new(arr, json_pack("{s:s, s:s}", "type", type, "score",
                sev->cvss_vector)) != 0)
            goto nomem;
    }
    if (sev->urgency != NULL && json_array_append_new(arr, json_pack("{s:s, s:s}", "type",
            "Ubuntu", "score", sev->urgency)) != 0)
        goto nomem;
    return arr;
nomem:
    json_decref(arr);
    *nomem = true;
    return NULL;
}

/* ecosystem_text spells an ecosystem as OSV does ("Alpine:v3.18", "Debian:12"). */
static int
ecosystem_text(const struct vuln_ecosystem *eco, char *dst, size_t n)
{
    const char *name = advisory_family_name(eco->family);
    int len;

    if (eco->release[0] == '\0')
        len = snprintf(dst, n, "%s", name);
    else
        len = snprintf(dst, n, "%s:%s%s", name, eco->family == VULN_FAMILY_ALPINE ? "v" : "",
            eco->release);
    return len < 0 || (size_t)len >= n ? ODS_E_TOOBIG : ODS_E_OK;
}

static json_t *
range_json(const struct vuln_range *r)
{
    json_t *events = json_array();

    if (events == NULL)
        return NULL;
    for (size_t i = 0; i < r->n_events; i++) {
        if (json_array_append_new(events, json_pack("{s:s}", event_names[r->events[i].kind],
                r->events[i].version)) != 0) {
            json_decref(events);
            return NULL;
        }
    }
    return json_pack("{s:s, s:o}", "type", range_names[r->type], "events", events);
}

/* affected_json: NULL with *skip set for entries OSV readers here cannot use. */
static json_t *
affected_json(const struct vuln_affected *a, bool *skip, bool *nomem)
{
    char eco[VULN_RELEASE_MAX + 32];
    json_t *obj = NULL, *ranges = NULL, *versions = NULL, *sev;

    *skip = false;
    if (a->ecosystem.family == VULN_FAMILY_UNKNOWN || ecosystem_text(&a->ecosystem, eco,
            sizeof(eco)) != ODS_E_OK) {
        *skip = true;
        return NULL;
    }
    if ((ranges = json_array()) == NULL || (versions = json_array()) == NULL)
        goto nomem;
    for (size_t i = 0; i < a->n_ranges; i++) {
        if (a->ranges[i].type == VULN_RANGE_GIT)
            continue;
        if (json_array_append_new(ranges, range_json(&a->ranges[i])) != 0)
            goto nomem;
    }
    for (size_t i = 0; i < a->n_versions; i++)
        if (json_array_append_new(versions, json_string(a->versions[i])) != 0)
            goto nomem;
    if (json_array_size(ranges) == 0 && json_array_size(versions) == 0) {
        *skip = true;
        goto out;
    }
    obj = json_pack("{s:{s:s, s:s}, s:O, s:O}", "package", "ecosystem", eco, "name",
        a->package, "ranges", ranges, "versions", versions);
    if (obj == NULL)
        goto nomem;
    sev = severity_json(&a->severity, nomem);
    if (*nomem || (sev != NULL && json_object_set_new(obj, "severity", sev) != 0))
        goto nomem;
    goto out;
nomem:
    *nomem = true;
    json_decref(obj);
    obj = NULL;
out:
    json_decref(ranges);
    json_decref(versions);
    return obj;
}

static bool
has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
        if (strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

static int
add_alias(json_t *aliases, const char *id, const char *alias)
{
    if (strcmp(alias, id) == 0 || has_string(aliases, alias))
        return ODS_E_OK;
    return json_array_append_new(aliases, json_string(alias)) == 0 ? ODS_E_OK : ODS_E_NOMEM;
}

int
osv_format(const struct advisory *const *advs, size_t n, const char *id, char **out,
    size_t *len)
{
    json_t *doc = NULL, *aliases = json_array(), *affected = json_array(), *sev;
    int64_t modified = 0;
    bool withdrawn = false, nomem = false;
    char when[40];
    struct tm tm;
    time_t secs;
    int rc = ODS_E_NOMEM;

    *out = NULL;
    if (aliases == NULL || affected == NULL)
        goto out;
    for (size_t k = 0; k < n; k++) {
        const struct advisory *a = advs[k];
        if (a->modified_ms > modified)
            modified = a->modified_ms;
        withdrawn |= a->withdrawn;
        if (add_alias(aliases, id, a->id) != ODS_E_OK)
            goto out;
        for (size_t i = 0; i < a->n_aliases; i++)
            if (add_alias(aliases, id, a->aliases[i]) != ODS_E_OK)
                goto out;
        for (size_t i = 0; i < a->n_affected; i++) {
            bool skip;
            json_t *aff = affected_json(&a->affected[i], &skip, &nomem);
            if (nomem || (!skip && json_array_append_new(affected, aff) != 0))
                goto out;
        }
    }
    secs = (time_t)(modified / 1000);
    if (gmtime_r(&secs, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        goto out;
    snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03dZ", (int)(modified % 1000));
    doc = json_pack("{s:s, s:s, s:O, s:O}", "id", id, "modified", when, "aliases", aliases,
        "affected", affected);
    if (doc == NULL)
        goto out;
    if (withdrawn && json_object_set_new(doc, "withdrawn", json_string(when)) != 0)
        goto out;
    if (advs[0]->summary != NULL &&
        json_object_set_new(doc, "summary", json_string(advs[0]->summary)) != 0)
        goto out;
    sev = severity_json(&advs[0]->severity, &nomem);
    if (nomem || (sev != NULL && json_object_set_new(doc, "severity", sev) != 0))
        goto out;
    *out = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (*out == NULL)
        goto out;
    *len = strlen(*out);
    rc = ODS_E_OK;
out:
    json_decref(doc);
    json_decref(aliases);
    json_decref(affected);
    return rc;
}

/* ---- the load --------------------------------------------------------------------- */

void
kb_load_init(struct kb_load *kb)
{
    memset(kb, 0, sizeof(*kb));
}

static void
doc_free(struct kb_doc *d)
{
    free(d->id);
    for (size_t i = 0; i < d->naliases; i++)
        free(d->aliases[i]);
    free(d->aliases);
    free(d->json);
}

void
kb_load_free(struct kb_load *kb)
{
    if (kb == NULL)
        return;
    for (size_t i = 0; i < kb->n; i++)
        doc_free(&kb->docs[i]);
    free(kb->docs);
    free(kb->rejects);
    kb_load_init(kb);
}

static void
reject(struct kb_load *kb, const char *name, const char *reason)
{
    if (kb->rejects == NULL)
        kb->rejects = calloc(KB_REJECTS_KEPT, sizeof(*kb->rejects));
    /* a reason cut to fit is still a reason */
    if (kb->rejects != NULL && kb->nrejects < KB_REJECTS_KEPT &&
        snprintf(kb->rejects[kb->nrejects].why, sizeof(kb->rejects[0].why), "%s: %s", name,
            reason) < 0)
        kb->rejects[kb->nrejects].why[0] = '\0';
    kb->nrejects++;
}

static void
on_reject(void *arg, const char *name, const char *reason)
{
    reject(arg, name, reason);
}

/* add_doc formats advisories advs[0..n) under id and appends the document. */
static int
add_doc(struct kb_load *kb, const struct advisory *const *advs, size_t n, const char *id)
{
    struct kb_doc d = { 0 };
    int rc = ODS_E_NOMEM;

    if (kb->n == kb->cap) {
        size_t cap = kb->cap != 0 ? kb->cap * 2 : KB_DOCS_FIRST;
        struct kb_doc *grown = reallocarray(kb->docs, cap, sizeof(*grown));
        if (grown == NULL)
            return ODS_E_NOMEM;
        kb->docs = grown;
        kb->cap = cap;
    }
    if ((rc = osv_format(advs, n, id, &d.json, &d.len)) != ODS_E_OK)
        goto fail;
    rc = ODS_E_NOMEM;
    if ((d.id = strdup(id)) == NULL)
        goto fail;
    for (size_t k = 0; k < n; k++) {
        if (advs[k]->modified_ms > d.modified_ms)
            d.modified_ms = advs[k]->modified_ms;
        size_t want = d.naliases + advs[k]->n_aliases + 1;
        char **grown = reallocarray(d.aliases, want, sizeof(*grown));
        if (grown == NULL)
            goto fail;
        d.aliases = grown;
        const char *src[VULN_ALIASES_MAX + 1];
        size_t ns = 0;
        src[ns++] = advs[k]->id;
        for (size_t i = 0; i < advs[k]->n_aliases && ns < VULN_ALIASES_MAX + 1; i++)
            src[ns++] = advs[k]->aliases[i];
        for (size_t i = 0; i < ns; i++) {
            bool dup = strcmp(src[i], id) == 0;
            for (size_t j = 0; j < d.naliases && !dup; j++)
                dup = strcmp(d.aliases[j], src[i]) == 0;
            if (dup)
                continue;
            if ((d.aliases[d.naliases] = strdup(src[i])) == NULL)
                goto fail;
            d.naliases++;
        }
    }
    kb->docs[kb->n++] = d;
    return ODS_E_OK;
fail:
    doc_free(&d);
    return rc;
}

/* add_set appends every advisory of an OSV set under its own id. */
static int
add_set(struct kb_load *kb, const struct advisory_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct advisory *one = set->items[i];
        int rc = add_doc(kb, &one, 1, one->id);
        if (rc != ODS_E_OK)
            return rc;
    }
    return ODS_E_OK;
}

static int
adv_id_cmp(const void *a, const void *b)
{
    const struct advisory *x = *(struct advisory *const *)a, *y = *(struct advisory *const *)b;

    return strcmp(x->id, y->id);
}

/* add_tracker merges the tracker's (package, CVE) advisories into one document per
 * CVE, id DEBIAN-<CVE>, the CVE an alias (as osv.dev names Debian's own records). */
static int
add_tracker(struct kb_load *kb, struct advisory_set *set)
{
    char id[VULN_ID_MAX + sizeof(KB_TRACKER_PREFIX)];
    int rc = ODS_E_OK;

    if (set->n > 0)
        qsort(set->items, set->n, sizeof(*set->items), adv_id_cmp);
    for (size_t i = 0; i < set->n && rc == ODS_E_OK;) {
        size_t j = i + 1;
        while (j < set->n && strcmp(set->items[j]->id, set->items[i]->id) == 0)
            j++;
        if ((size_t)snprintf(id, sizeof(id), "%s%s", KB_TRACKER_PREFIX, set->items[i]->id) >= sizeof(id))
            return ODS_E_TOOBIG;
        rc = add_doc(kb, (const struct advisory *const *)&set->items[i], j - i, id);
        i = j;
    }
    return rc;
}

static int
load_zip(const char *path, const char *name, struct kb_load *kb, char *why, size_t n)
{
    struct advisory_set set;
    struct osv_load_stats st = { .on_reject = on_reject, .reject_arg = kb };
    char zwhy[OSV_WHY_MAX];
    int rc;

    advisory_set_init(&set);
    rc = osv_load_zip(path, &set, &st, zwhy, sizeof(zwhy));
    if (rc != ODS_E_OK)
        rc = fail(why, n, rc, "%s: %s", name, zwhy);
    else
        rc = add_set(kb, &set);
    advisory_set_free(&set);
    return rc;
}

static int
load_one_osv(const char *json, size_t len, const char *name, struct kb_load *kb)
{
    char reason[OSV_WHY_MAX];
    struct advisory *adv = NULL;
    int rc = osv_parse(json, len, &adv, reason, sizeof(reason));

    if (rc == ODS_E_NOMEM)
        return rc;
    if (rc != ODS_E_OK) {
        reject(kb, name, reason);
        return ODS_E_OK;
    }
    rc = add_doc(kb, (const struct advisory *const *)&adv, 1, adv->id);
    advisory_free(adv);
    return rc;
}

static int
load_osv_array(const json_t *arr, const char *name, struct kb_load *kb)
{
    char member[KB_REJECT_WHY_MAX / 2];
    size_t i;
    json_t *v;
    int rc = ODS_E_OK;

    json_array_foreach(arr, i, v) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text == NULL)
            return ODS_E_NOMEM;
        if (snprintf(member, sizeof(member), "%s[%zu]", name, i) < 0)
            member[0] = '\0';
        rc = load_one_osv(text, strlen(text), member, kb);
        free(text);
        if (rc != ODS_E_OK)
            break;
    }
    return rc;
}

static int
load_tracker(const char *data, size_t len, const char *name, struct kb_load *kb)
{
    struct advisory_set set;
    struct debtracker_stats st = { 0 };
    char reason[OSV_WHY_MAX];
    int rc;

    advisory_set_init(&set);
    rc = debtracker_parse(data, len, &set, &st, reason, sizeof(reason));
    if (rc == ODS_E_OK)
        rc = add_tracker(kb, &set);
    else if (rc != ODS_E_NOMEM) {
        reject(kb, name, reason);
        rc = ODS_E_OK;
    }
    advisory_set_free(&set);
    return rc;
}

/* spill writes data to a fresh temporary file under tmpdir; caller unlinks. */
static int
spill(const char *data, size_t len, const char *tmpdir, char *path, size_t n)
{
    int fd, rc = ODS_E_IO;

    if ((size_t)snprintf(path, n, "%s/odscan-kb-XXXXXX", tmpdir != NULL ? tmpdir : "/tmp") >= n)
        return ODS_E_TOOBIG;
    if ((fd = mkstemp(path)) < 0)
        return ODS_E_IO;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        done += (size_t)w;
    }
    rc = ODS_E_OK;
out:
    close(fd);
    if (rc != ODS_E_OK)
        unlink(path);
    return rc;
}

int
kb_load_buffer(const char *data, size_t len, const char *name, const char *tmpdir,
    struct kb_load *kb, char *why, size_t n)
{
    json_error_t jerr;
    json_t *doc;
    int rc;

    if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0) {
        char path[4096];
        if ((rc = spill(data, len, tmpdir, path, sizeof(path))) != ODS_E_OK)
            return fail(why, n, rc, "%s: cannot write a temporary copy: %s", name, err_msg(rc));
        rc = load_zip(path, name, kb, why, n);
        unlink(path);
        return rc;
    }
    doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        char reason[OSV_WHY_MAX];
        if (snprintf(reason, sizeof(reason), "invalid JSON at line %d: %s", jerr.line, jerr.text) < 0)
            reason[0] = '\0';
        reject(kb, name, reason);
        return ODS_E_OK;
    }
    if (json_is_array(doc))
        rc = load_osv_array(doc, name, kb);
    else if (json_is_object(doc) && json_object_get(doc, "id") != NULL)
        rc = load_one_osv(data, len, name, kb);
    else if (json_is_object(doc))
        rc = load_tracker(data, len, name, kb);
    else {
        reject(kb, name, "neither an OSV record, an array of them nor a tracker export");
        rc = ODS_E_OK;
    }
    json_decref(doc);
    if (rc == ODS_E_NOMEM)
        return fail(why, n, rc, "%s: out of memory", name);
    return rc;
}

static int
read_whole(const char *path, size_t max, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = ODS_E_IO;

    if (fd < 0)
        return ODS_E_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        goto out;
    if ((uint64_t)st.st_size > max) {
        rc = ODS_E_TOOBIG;
        goto out;
    }
    if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    buf = NULL;
    rc = ODS_E_OK;
out:
    free(buf);
    close(fd);
    return rc;
}

int
kb_load_path(const char *path, struct kb_load *kb, char *why, size_t n)
{
    struct stat st;
    char head[4] = { 0 };
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (stat(path, &st) != 0)
        return fail(why, n, ODS_E_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        struct advisory_set set;
        struct osv_load_stats ost = { .on_reject = on_reject, .reject_arg = kb };
        char dwhy[OSV_WHY_MAX];

        advisory_set_init(&set);
        rc = osv_load_dir(path, &set, &ost, dwhy, sizeof(dwhy));
        if (rc != ODS_E_OK)
            rc = fail(why, n, rc, "%s", dwhy);
        else
            rc = add_set(kb, &set);
        advisory_set_free(&set);
        return rc;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(why, n, ODS_E_IO, "%s: %s", path, strerror(errno));
    ssize_t got = read(fd, head, sizeof(head));
    close(fd);
    if (got == 4 && memcmp(head, "PK\3\4", 4) == 0)
        return load_zip(path, path, kb, why, n);
    if ((rc = read_whole(path, DEBTRACKER_DOC_MAX, &data, &len)) != ODS_E_OK)
        return fail(why, n, rc, "%s: %s", path, err_msg(rc));
    const char *base = strrchr(path, '/');
    rc = kb_load_buffer(data, len, base != NULL ? base + 1 : path, NULL, kb, why, n);
    free(data);
    return rc;
}
