/* osv.c - OSV JSON records into the advisory model: strict validation with a reason
 * that names the offending field, and bulk loading from a directory or a zip (read
 * through its central directory with zlib's raw inflate, so no extra library). */
#include "osv.h"
#include "err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

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
        /* A truncated reason is still a reason. */
        if (vsnprintf(c->why, c->whylen, fmt, ap) < 0)
            c->why[0] = '\0';
        va_end(ap);
    }
    return rc;
}

/* The builders' codes, turned into a reason for field. */
static int
built(struct ctx *c, int rc, const char *field)
{
    if (rc == 0)
        return 0;
    return fail(c, rc, "%s: %s", field, rc == ODS_E_TOOBIG ? "exceeds its size limit"
                                                          : err_msg(rc));
}

/* RFC 3339 "2024-01-02T03:04:05[.frac](Z|+hh:mm|-hh:mm)" to ms since the epoch. */
static int
parse_time(const char *s, int64_t *out)
{
    struct tm tm = { 0 };
    int n = 0, ms = 0, off = 0;
    time_t t;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return ODS_E_PARSE;
    s += n;
    if (*s == '.') {
        int digits = 0;

        for (s++; *s >= '0' && *s <= '9'; s++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*s - '0');
        if (digits == 0)
            return ODS_E_PARSE;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (*s == 'Z' && s[1] == '\0') {
        off = 0;
    } else if ((*s == '+' || *s == '-') && strlen(s) == 6 && s[3] == ':') {
        int hh, mm;

        if (sscanf(s + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
            return ODS_E_PARSE;
        off = (hh * 60 + mm) * 60 * (*s == '-' ? -1 : 1);
    } else {
        return ODS_E_PARSE;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return ODS_E_PARSE;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    t = timegm(&tm);
    *out = ((int64_t)t - off) * 1000 + ms;
    return ODS_E_OK;
}

/* A string member: required or not; NULL *out when absent and optional. */
static int
get_string(struct ctx *c, json_t *obj, const char *key, const char *field, bool required,
    const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return fail(c, ODS_E_PARSE, "%s: missing", field);
        return ODS_E_OK;
    }
    if (!json_is_string(v))
        return fail(c, ODS_E_PARSE, "%s: not a string", field);
    *out = json_string_value(v);
    if (required && **out == '\0')
        return fail(c, ODS_E_PARSE, "%s: empty", field);
    return ODS_E_OK;
}

/* An optional array member; NULL *out when absent. */
static int
get_array(struct ctx *c, json_t *obj, const char *key, const char *field, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return ODS_E_OK;
    if (!json_is_array(v))
        return fail(c, ODS_E_PARSE, "%s: not an array", field);
    *out = v;
    return ODS_E_OK;
}

/* severity: [{type, score}]. CVSS_V3 wins over CVSS_V4 and CVSS_V2 (only v3 is scored);
 * Ubuntu's type carries a priority word, kept as the urgency. */
static int
parse_severity(struct ctx *c, json_t *arr, const char *field, struct vuln_severity *sev)
{
    static const char *const order[] = { "CVSS_V3", "CVSS_V4", "CVSS_V2" };
    const char *best = NULL;
    size_t best_rank = sizeof(order) / sizeof(order[0]);
    json_t *item;
    size_t i;
    int rc;

    json_array_foreach(arr, i, item) {
        const char *type, *score;
        char f[256];

        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        if (!json_is_object(item))
            return fail(c, ODS_E_PARSE, "%s: not an object", f);
        rc = get_string(c, item, "type", f, true, &type);
        if (rc == 0)
            rc = get_string(c, item, "score", f, true, &score);
        if (rc != 0)
            return fail(c, rc, "%s: needs string 'type' and 'score'", f);
        for (size_t k = 0; k < best_rank; k++)
            if (strcmp(type, order[k]) == 0) {
                best = score;
                best_rank = k;
            }
        if (strcmp(type, "Ubuntu") == 0 && sev->urgency == NULL) {
            rc = advisory_severity_set_urgency(sev, score);
            if (rc != 0)
                return built(c, rc, f);
        }
    }
    if (best != NULL) {
        rc = advisory_severity_set_cvss(sev, best);
        if (rc == ODS_E_PARSE)
            return fail(c, rc, "%s: malformed CVSS vector '%.64s'", field, best);
        if (rc != 0)
            return built(c, rc, field);
    }
    return ODS_E_OK;
}

static const struct event_row {
    const char          *key;
    enum vuln_event_kind kind;
} event_keys[] = {
    { "introduced",    VULN_EVENT_INTRODUCED },
    { "fixed",         VULN_EVENT_FIXED },
    { "last_affected", VULN_EVENT_LAST_AFFECTED },
    { "limit",         VULN_EVENT_LIMIT },
};

static const struct range_row {
    const char          *name;
    enum vuln_range_type type;
} range_types[] = {
    { "ECOSYSTEM", VULN_RANGE_ECOSYSTEM },
    { "SEMVER",    VULN_RANGE_SEMVER },
    { "GIT",       VULN_RANGE_GIT },
};

static int
parse_range(struct ctx *c, json_t *obj, const char *field, struct vuln_affected *aff)
{
    const char *type;
    json_t *events, *ev;
    struct vuln_range *range = NULL;
    bool has_introduced = false, has_fixed = false, has_last = false;
    size_t i, t;
    char f[192];
    int rc;

    if (!json_is_object(obj))
        return fail(c, ODS_E_PARSE, "%s: not an object", field);
    snprintf(f, sizeof(f), "%s.type", field);
    rc = get_string(c, obj, "type", f, true, &type);
    if (rc != 0)
        return rc;
    for (t = 0; t < sizeof(range_types) / sizeof(range_types[0]); t++)
        if (strcmp(type, range_types[t].name) == 0)
            break;
    if (t == sizeof(range_types) / sizeof(range_types[0]))
        return fail(c, ODS_E_PARSE, "%s: unknown range type '%.32s'", f, type);
    snprintf(f, sizeof(f), "%s.events", field);
    rc = get_array(c, obj, "events", f, &events);
    if (rc != 0)
        return rc;
    if (events == NULL || json_array_size(events) == 0)
        return fail(c, ODS_E_PARSE, "%s: missing or empty", f);
    rc = advisory_affected_add_range(aff, range_types[t].type, &range);
    if (rc != 0)
        return built(c, rc, field);

    json_array_foreach(events, i, ev) {
        const struct event_row *row = NULL;
        const char *key, *version = NULL;
        json_t *val;

        snprintf(f, sizeof(f), "%s.events[%zu]", field, i);
        if (!json_is_object(ev) || json_object_size(ev) != 1)
            return fail(c, ODS_E_PARSE, "%s: must be an object with exactly one event", f);
        json_object_foreach(ev, key, val) {
            for (size_t k = 0; k < sizeof(event_keys) / sizeof(event_keys[0]); k++)
                if (strcmp(key, event_keys[k].key) == 0)
                    row = &event_keys[k];
            if (row == NULL)
                return fail(c, ODS_E_PARSE, "%s: unknown event '%.32s'", f, key);
            if (!json_is_string(val) || json_string_length(val) == 0)
                return fail(c, ODS_E_PARSE, "%s.%s: not a non-empty string", f, key);
            version = json_string_value(val);
        }
        has_introduced |= row->kind == VULN_EVENT_INTRODUCED;
        has_fixed |= row->kind == VULN_EVENT_FIXED;
        has_last |= row->kind == VULN_EVENT_LAST_AFFECTED;
        rc = advisory_range_add_event(range, row->kind, version);
        if (rc != 0)
            return built(c, rc, f);
    }
    if (!has_introduced)
        return fail(c, ODS_E_PARSE, "%s.events: no 'introduced' event", field);
    if (has_fixed && has_last)
        return fail(c, ODS_E_PARSE, "%s.events: both 'fixed' and 'last_affected'", field);
    return ODS_E_OK;
}

static int
parse_affected(struct ctx *c, json_t *obj, const char *field, struct advisory *adv)
{
    const char *eco_s, *name;
    struct vuln_ecosystem eco;
    struct vuln_affected *aff = NULL;
    json_t *pkg, *arr, *item;
    size_t i;
    char f[128];
    int rc;

    if (!json_is_object(obj))
        return fail(c, ODS_E_PARSE, "%s: not an object", field);
    pkg = json_object_get(obj, "package");
    snprintf(f, sizeof(f), "%s.package", field);
    if (pkg == NULL || !json_is_object(pkg))
        return fail(c, ODS_E_PARSE, "%s: missing or not an object", f);
    snprintf(f, sizeof(f), "%s.package.ecosystem", field);
    rc = get_string(c, pkg, "ecosystem", f, true, &eco_s);
    if (rc != 0)
        return rc;
    rc = advisory_ecosystem_parse(eco_s, &eco);
    if (rc != 0)
        return built(c, rc, f);
    snprintf(f, sizeof(f), "%s.package.name", field);
    rc = get_string(c, pkg, "name", f, true, &name);
    if (rc != 0)
        return rc;
    rc = advisory_add_affected(adv, &eco, name, &aff);
    if (rc != 0)
        return built(c, rc, f);

    snprintf(f, sizeof(f), "%s.ranges", field);
    rc = get_array(c, obj, "ranges", f, &arr);
    if (rc != 0)
        return rc;
    json_array_foreach(arr, i, item) {
        snprintf(f, sizeof(f), "%s.ranges[%zu]", field, i);
        rc = parse_range(c, item, f, aff);
        if (rc != 0)
            return rc;
    }
    snprintf(f, sizeof(f), "%s.versions", field);
    rc = get_array(c, obj, "versions", f, &arr);
    if (rc != 0)
        return rc;
    json_array_foreach(arr, i, item) {
        snprintf(f, sizeof(f), "%s.versions[%zu]", field, i);
        if (!json_is_string(item) || json_string_length(item) == 0)
            return fail(c, ODS_E_PARSE, "%s: not a non-empty string", f);
        rc = advisory_affected_add_version(aff, json_string_value(item));
        if (rc != 0)
            return built(c, rc, f);
    }
    snprintf(f, sizeof(f), "%s.severity", field);
    rc = get_array(c, obj, "severity", f, &arr);
    if (rc == 0 && arr != NULL)
        rc = parse_severity(c, arr, f, &aff->severity);
    return rc;
}

/* aliases and upstream: arrays of ids, both kept as aliases. */
static int
parse_ids(struct ctx *c, json_t *doc, const char *key, struct advisory *adv)
{
    json_t *arr, *item;
    size_t i;
    char f[64];
    int rc;

    rc = get_array(c, doc, key, key, &arr);
    if (rc != 0)
        return rc;
    json_array_foreach(arr, i, item) {
        snprintf(f, sizeof(f), "%s[%zu]", key, i);
        if (!json_is_string(item) || json_string_length(item) == 0)
            return fail(c, ODS_E_PARSE, "%s: not a non-empty string", f);
        rc = advisory_add_alias(adv, json_string_value(item));
        if (rc != 0)
            return built(c, rc, f);
    }
    return ODS_E_OK;
}

static int
parse_doc(struct ctx *c, json_t *doc, struct advisory *adv)
{
    const char *s;
    json_t *arr, *item;
    size_t i;
    char f[64];
    int rc;

    if (!json_is_object(doc))
        return fail(c, ODS_E_PARSE, "document: not a JSON object");
    rc = get_string(c, doc, "id", "id", true, &s);
    if (rc != 0)
        return rc;
    rc = advisory_set_id(adv, s);
    if (rc != 0)
        return built(c, rc, "id");
    rc = get_string(c, doc, "modified", "modified", true, &s);
    if (rc != 0)
        return rc;
    if (parse_time(s, &adv->modified_ms) != 0)
        return fail(c, ODS_E_PARSE, "modified: not an RFC 3339 time");
    rc = get_string(c, doc, "withdrawn", "withdrawn", false, &s);
    if (rc != 0)
        return rc;
    if (s != NULL) {
        int64_t when;

        if (parse_time(s, &when) != 0)
            return fail(c, ODS_E_PARSE, "withdrawn: not an RFC 3339 time");
        adv->withdrawn = true;
    }
    if ((rc = parse_ids(c, doc, "aliases", adv)) != 0 ||
        (rc = parse_ids(c, doc, "upstream", adv)) != 0)
        return rc;
    rc = get_string(c, doc, "summary", "summary", false, &s);
    if (rc != 0)
        return rc;
    if (s != NULL && (rc = advisory_set_summary(adv, s)) != 0)
        return built(c, rc, "summary");
    rc = get_array(c, doc, "severity", "severity", &arr);
    if (rc == 0 && arr != NULL)
        rc = parse_severity(c, arr, "severity", &adv->severity);
    if (rc != 0)
        return rc;
    rc = get_array(c, doc, "affected", "affected", &arr);
    if (rc != 0)
        return rc;
    json_array_foreach(arr, i, item) {
        snprintf(f, sizeof(f), "affected[%zu]", i);
        rc = parse_affected(c, item, f, adv);
        if (rc != 0)
            return rc;
    }
    return ODS_E_OK;
}

int
osv_parse(const char *json, size_t len, struct advisory **out, char *why, size_t whylen)
{
    struct ctx c = { why, whylen };
    struct advisory *adv = NULL;
    json_t *doc = NULL;
    json_error_t jerr;
    int rc;

    *out = NULL;
    if (whylen > 0)
        why[0] = '\0';
    if (len > OSV_DOC_MAX)
        return fail(&c, ODS_E_TOOBIG, "document: larger than %u bytes", OSV_DOC_MAX);
    doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        rc = fail(&c, ODS_E_PARSE, "document: invalid JSON at line %d: %s", jerr.line, jerr.text);
        goto out;
    }
    adv = advisory_new();
    if (adv == NULL) {
        rc = fail(&c, ODS_E_NOMEM, "document: out of memory");
        goto out;
    }
    rc = parse_doc(&c, doc, adv);
    if (rc != 0)
        goto out;
    *out = adv;
    adv = NULL;
out:
    advisory_free(adv);
    json_decref(doc);
    return rc;
}

/* Read a whole file of at most max bytes; caller frees *data. */
static int
read_file(const char *path, size_t max, char **data, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd, rc = ODS_E_OK;

    *data = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ODS_E_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ODS_E_IO;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = ODS_E_TOOBIG;
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = ODS_E_IO;
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

int
osv_parse_file(const char *path, struct advisory **out, char *why, size_t whylen)
{
    struct ctx c = { why, whylen };
    char *data = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = read_file(path, OSV_DOC_MAX, &data, &len);
    if (rc != 0)
        return fail(&c, rc, "%s: %s", path, err_msg(rc));
    rc = osv_parse(data, len, out, why, whylen);
    free(data);
    return rc;
}

static bool
is_json_name(const char *name, size_t len)
{
    return len > 5 && memcmp(name + len - 5, ".json", 5) == 0;
}

/* stats_reset zeroes the counts and keeps the caller's reject callback. */
static void
stats_reset(struct osv_load_stats *st)
{
    void (*cb)(void *, const char *, const char *) = st->on_reject;
    void *arg = st->reject_arg;

    memset(st, 0, sizeof(*st));
    st->on_reject = cb;
    st->reject_arg = arg;
}

/* One parsed-or-rejected record into the set and the stats. Only memory failures stop
 * a bulk load. */
static int
take(struct advisory_set *set, struct osv_load_stats *st, const char *name, int rc,
    struct advisory *adv, const char *reason, struct ctx *c)
{
    if (rc == ODS_E_NOMEM)
        return fail(c, rc, "%s: out of memory", name);
    if (rc != 0) {
        if (st->rejected++ == 0)
            snprintf(st->first_reject, sizeof(st->first_reject), "%s: %s", name, reason);
        if (st->on_reject != NULL)
            st->on_reject(st->reject_arg, name, reason);
        return ODS_E_OK;
    }
    rc = advisory_set_add(set, adv);
    if (rc != 0)
        return fail(c, rc, "%s: out of memory", name);
    st->loaded++;
    return ODS_E_OK;
}

int
osv_load_dir(const char *dir, struct advisory_set *set, struct osv_load_stats *stats,
    char *why, size_t whylen)
{
    struct ctx c = { why, whylen };
    DIR *d = NULL;
    struct dirent *de;
    int rc = ODS_E_OK;

    stats_reset(stats);
    d = opendir(dir);
    if (d == NULL)
        return fail(&c, ODS_E_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        char path[4096], reason[OSV_WHY_MAX];
        struct advisory *adv = NULL;
        int prc;

        if (!is_json_name(de->d_name, strlen(de->d_name)))
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path)) {
            rc = fail(&c, ODS_E_TOOBIG, "%s: path too long", de->d_name);
            goto out;
        }
        prc = osv_parse_file(path, &adv, reason, sizeof(reason));
        if (prc == ODS_E_IO) {
            rc = fail(&c, prc, "%s", reason);
            goto out;
        }
        rc = take(set, stats, de->d_name, prc, adv, reason, &c);
        if (rc != 0)
            goto out;
    }
out:
    closedir(d);
    return rc;
}

/* ---- zip ------------------------------------------------------------------------ */

#define ZIP_EOCD_SIG    0x06054b50u
#define ZIP_CDIR_SIG    0x02014b50u
#define ZIP_LOCAL_SIG   0x04034b50u
#define ZIP_EOCD_LEN    22
#define ZIP_CDIR_LEN    46
#define ZIP_LOCAL_LEN   30
#define ZIP_NAME_MAX    1024

static uint16_t
le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Extract one member into a fresh buffer; caller frees *out. */
static int
zip_member(const unsigned char *z, size_t zlen, const unsigned char *cd, char **out, size_t *outlen,
    const char **reason)
{
    uint16_t flags = le16(cd + 8), method = le16(cd + 10);
    uint32_t crc = le32(cd + 16), csize = le32(cd + 20), usize = le32(cd + 24);
    uint32_t off = le32(cd + 42);
    const unsigned char *lh, *data;
    char *buf = NULL;
    z_stream zs;
    int rc = ODS_E_PARSE;

    *out = NULL;
    if (flags & 1) {
        *reason = "encrypted member";
        return ODS_E_UNSUPPORTED;
    }
    if (usize > OSV_DOC_MAX) {
        *reason = "member larger than the document limit";
        return ODS_E_TOOBIG;
    }
    if ((uint64_t)off + ZIP_LOCAL_LEN > zlen || le32(z + off) != ZIP_LOCAL_SIG) {
        *reason = "bad local header";
        return ODS_E_PARSE;
    }
    lh = z + off;
    data = lh + ZIP_LOCAL_LEN + le16(lh + 26) + le16(lh + 28);
    if (data < z || (uint64_t)(data - z) + csize > zlen) {
        *reason = "member data outside the archive";
        return ODS_E_PARSE;
    }
    buf = malloc((size_t)usize + 1);
    if (buf == NULL)
        return ODS_E_NOMEM;
    if (method == 0) {
        if (csize != usize) {
            *reason = "stored member with two sizes";
            goto out;
        }
        memcpy(buf, data, usize);
    } else if (method == 8) {
        memset(&zs, 0, sizeof(zs));
        if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
            rc = ODS_E_NOMEM;
            goto out;
        }
        zs.next_in = (Bytef *)(uintptr_t)data;
        zs.avail_in = csize;
        zs.next_out = (Bytef *)buf;
        zs.avail_out = usize;
        int zrc = inflate(&zs, Z_FINISH);
        inflateEnd(&zs);
        if (zrc != Z_STREAM_END || zs.total_out != usize) {
            *reason = "inflate failed or size mismatch";
            goto out;
        }
    } else {
        *reason = "compression method not supported";
        rc = ODS_E_UNSUPPORTED;
        goto out;
    }
    if (crc32(0L, (const Bytef *)buf, usize) != crc) {
        *reason = "CRC mismatch";
        goto out;
    }
    buf[usize] = '\0';
    *out = buf;
    *outlen = usize;
    buf = NULL;
    rc = ODS_E_OK;
out:
    free(buf);
    return rc;
}

int
osv_load_zip(const char *path, struct advisory_set *set, struct osv_load_stats *stats,
    char *why, size_t whylen)
{
    struct ctx c = { why, whylen };
    const unsigned char *z = MAP_FAILED, *eocd = NULL, *cd;
    struct stat st;
    size_t zlen = 0, entries;
    uint32_t cd_off, cd_size;
    int fd = -1, rc = ODS_E_OK;

    stats_reset(stats);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = fail(&c, ODS_E_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if ((uint64_t)st.st_size > OSV_ZIP_MAX || st.st_size < ZIP_EOCD_LEN) {
        rc = fail(&c, st.st_size < ZIP_EOCD_LEN ? ODS_E_PARSE : ODS_E_TOOBIG,
            "%s: not a zip of a supported size", path);
        goto out;
    }
    zlen = (size_t)st.st_size;
    z = mmap(NULL, zlen, PROT_READ, MAP_PRIVATE, fd, 0);
    if (z == MAP_FAILED) {
        rc = fail(&c, ODS_E_IO, "%s: mmap: %s", path, strerror(errno));
        goto out;
    }
    /* The end record is in the last 22 + 65535 (comment) bytes. */
    for (size_t back = ZIP_EOCD_LEN; back <= zlen && back <= ZIP_EOCD_LEN + 65535u; back++) {
        if (le32(z + zlen - back) == ZIP_EOCD_SIG) {
            eocd = z + zlen - back;
            break;
        }
    }
    if (eocd == NULL) {
        rc = fail(&c, ODS_E_PARSE, "%s: no end of central directory record", path);
        goto out;
    }
    entries = le16(eocd + 10);
    cd_size = le32(eocd + 12);
    cd_off = le32(eocd + 16);
    if (entries == 0xffff || cd_off == 0xffffffffu) {
        rc = fail(&c, ODS_E_UNSUPPORTED, "%s: ZIP64 archives are not supported", path);
        goto out;
    }
    if ((uint64_t)cd_off + cd_size > (uint64_t)(eocd - z)) {
        rc = fail(&c, ODS_E_PARSE, "%s: central directory outside the archive", path);
        goto out;
    }
    cd = z + cd_off;
    for (size_t i = 0; i < entries; i++) {
        char name[ZIP_NAME_MAX + 1], reason[OSV_WHY_MAX];
        const char *zreason = "malformed member";
        struct advisory *adv = NULL;
        char *doc = NULL;
        size_t doclen = 0, nlen, reclen;
        int prc;

        if ((uint64_t)(cd - z) + ZIP_CDIR_LEN > (uint64_t)(eocd - z) || le32(cd) != ZIP_CDIR_SIG) {
            rc = fail(&c, ODS_E_PARSE, "%s: central directory entry %zu is malformed", path, i);
            goto out;
        }
        nlen = le16(cd + 28);
        reclen = ZIP_CDIR_LEN + nlen + le16(cd + 30) + le16(cd + 32);
        if ((uint64_t)(cd - z) + reclen > (uint64_t)(eocd - z)) {
            rc = fail(&c, ODS_E_PARSE, "%s: central directory entry %zu overruns", path, i);
            goto out;
        }
        if (nlen > ZIP_NAME_MAX || !is_json_name((const char *)cd + ZIP_CDIR_LEN, nlen)) {
            cd += reclen;
            continue;
        }
        memcpy(name, cd + ZIP_CDIR_LEN, nlen);
        name[nlen] = '\0';
        prc = zip_member(z, zlen, cd, &doc, &doclen, &zreason);
        if (prc == ODS_E_OK)
            prc = osv_parse(doc, doclen, &adv, reason, sizeof(reason));
        else if (prc != ODS_E_NOMEM)
            snprintf(reason, sizeof(reason), "%s", zreason);
        free(doc);
        rc = take(set, stats, name, prc, adv, reason, &c);
        if (rc != 0)
            goto out;
        cd += reclen;
    }
out:
    if (z != MAP_FAILED)
        munmap((void *)(uintptr_t)z, zlen);
    if (fd >= 0)
        close(fd);
    return rc;
}
