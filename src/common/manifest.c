/* manifest.c - reading, hashing and naming the ecosystem of a package manifest. */
#include "manifest.h"
#include "err.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANON_HEADER "odscan-manifest-v1\n"

/* The os-release IDs we can assess, their OSV family and how much of VERSION_ID
 * names the release: all of it, major.minor with a "v" (Alpine), or the major only. */
enum release_form { REL_WHOLE, REL_V_MAJOR_MINOR, REL_MAJOR };

static const struct {
    const char       *os_id;
    const char       *family;
    enum release_form form;
} ecosystems[] = {
    { "debian",    "Debian",      REL_WHOLE },
    { "ubuntu",    "Ubuntu",      REL_WHOLE },
    { "alpine",    "Alpine",      REL_V_MAJOR_MINOR },
    { "rhel",      "Red Hat",     REL_MAJOR },
    { "rocky",     "Rocky Linux", REL_MAJOR },
    { "almalinux", "AlmaLinux",   REL_MAJOR },
};

/* The package members, in canonical order. */
static const char *const pkg_keys[] = {
    "manager", "name", "version", "arch", "source", "source_version",
};
#define NKEYS (sizeof(pkg_keys) / sizeof(pkg_keys[0]))

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

/* clean says whether s fits a field and holds no control character. */
static bool
clean(const char *s)
{
    size_t len = strnlen(s, MANIFEST_FIELD_MAX);

    if (len >= MANIFEST_FIELD_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* field reads obj[key]: a clean string, or "" when absent or null. NULL when bad. */
static const char *
field(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL || json_is_null(v))
        return "";
    if (!json_is_string(v) || !clean(json_string_value(v)))
        return NULL;
    return json_string_value(v);
}

static int
read_package(const json_t *o, size_t i, struct manifest_package *p, char *why, size_t n)
{
    const char **slots[NKEYS] = { &p->manager, &p->name, &p->version, &p->arch, &p->source,
        &p->source_version };

    if (!json_is_object(o))
        return fail(why, n, ODS_E_PARSE, "packages[%zu]: not an object", i);
    for (size_t k = 0; k < NKEYS; k++) {
        *slots[k] = field(o, pkg_keys[k]);
        if (*slots[k] == NULL)
            return fail(why, n, ODS_E_PARSE, "packages[%zu].%s: not a clean string of at most"
                " %d bytes", i, pkg_keys[k], MANIFEST_FIELD_MAX - 1);
    }
    if (p->name[0] == '\0' || p->version[0] == '\0')
        return fail(why, n, ODS_E_PARSE, "packages[%zu]: name and version are required", i);
    if (p->source[0] == '\0') {
        p->source = p->name;
        p->source_version = p->version;
    } else if (p->source_version[0] == '\0') {
        p->source_version = p->version;
    }
    return ODS_E_OK;
}

int
manifest_read(const json_t *doc, struct manifest *out, char *why, size_t n)
{
    const json_t *os, *pkgs, *hash, *unchanged;
    int rc;

    memset(out, 0, sizeof(*out));
    out->os_id = out->os_version = out->kernel = "";
    if (!json_is_object(doc))
        return fail(why, n, ODS_E_PARSE, "manifest: not an object");
    hash = json_object_get(doc, "manifest_hash");
    if (hash != NULL) {
        const char *h = json_string_value(hash);
        if (h == NULL || strlen(h) != MANIFEST_HASH_LEN - 1 ||
            strspn(h, "0123456789abcdef") != MANIFEST_HASH_LEN - 1)
            return fail(why, n, ODS_E_PARSE, "manifest_hash: not 64 lowercase hex digits");
        out->hash = h;
    }
    unchanged = json_object_get(doc, "unchanged");
    if (unchanged != NULL && !json_is_boolean(unchanged))
        return fail(why, n, ODS_E_PARSE, "unchanged: not a boolean");
    if (json_is_true(unchanged)) {
        if (out->hash == NULL)
            return fail(why, n, ODS_E_PARSE, "unchanged: needs manifest_hash");
        out->hash_only = true;
        return ODS_E_OK;
    }
    os = json_object_get(doc, "os");
    if (os != NULL && !json_is_null(os)) {
        if (!json_is_object(os))
            return fail(why, n, ODS_E_PARSE, "os: not an object");
        if ((out->os_id = field(os, "id")) == NULL || (out->os_version = field(os, "version")) == NULL
            || (out->kernel = field(os, "kernel")) == NULL)
            return fail(why, n, ODS_E_PARSE, "os: id, version and kernel must be clean strings");
    }
    pkgs = json_object_get(doc, "packages");
    if (!json_is_array(pkgs))
        return fail(why, n, ODS_E_PARSE, "packages: missing or not an array");
    if (json_array_size(pkgs) > MANIFEST_PACKAGES_MAX)
        return fail(why, n, ODS_E_TOOBIG, "packages: more than %d", MANIFEST_PACKAGES_MAX);
    if (json_array_size(pkgs) > 0) {
        out->packages = calloc(json_array_size(pkgs), sizeof(*out->packages));
        if (out->packages == NULL)
            return fail(why, n, ODS_E_NOMEM, "packages: out of memory");
    }
    for (size_t i = 0; i < json_array_size(pkgs); i++) {
        if ((rc = read_package(json_array_get(pkgs, i), i, &out->packages[i], why, n)) != 0) {
            manifest_free(out);
            return rc;
        }
        out->n++;
    }
    return ODS_E_OK;
}

void
manifest_free(struct manifest *m)
{
    if (m == NULL)
        return;
    free(m->packages);
    m->packages = NULL;
    m->n = 0;
}

static int
line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* package_line formats a package's canonical line; caller frees. NULL without memory. */
static char *
package_line(const struct manifest_package *p)
{
    char *line = NULL;

    if (asprintf(&line, "pkg\t%s\t%s\t%s\t%s\t%s\t%s\n", p->manager, p->name, p->version,
            p->arch, p->source, p->source_version) < 0)
        return NULL;
    return line;
}

int
manifest_hash(const struct manifest *m, char out[MANIFEST_HASH_LEN])
{
    crypto_hash_sha256_state st;
    unsigned char digest[crypto_hash_sha256_BYTES];
    char **lines = NULL, *os = NULL;
    size_t made = 0;
    int rc = ODS_E_NOMEM;

    if (sodium_init() < 0)
        return ODS_E_NOMEM;
    if (m->n > 0 && (lines = calloc(m->n, sizeof(*lines))) == NULL)
        goto out;
    for (; made < m->n; made++)
        if ((lines[made] = package_line(&m->packages[made])) == NULL)
            goto out;
    if (m->n > 0)
        qsort(lines, m->n, sizeof(*lines), line_cmp);
    if (asprintf(&os, "os\t%s\t%s\t%s\n", m->os_id, m->os_version, m->kernel) < 0) {
        os = NULL;
        goto out;
    }
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)CANON_HEADER, strlen(CANON_HEADER));
    crypto_hash_sha256_update(&st, (const unsigned char *)os, strlen(os));
    for (size_t i = 0; i < m->n; i++)
        crypto_hash_sha256_update(&st, (const unsigned char *)lines[i], strlen(lines[i]));
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out, MANIFEST_HASH_LEN, digest, sizeof(digest));
    rc = ODS_E_OK;
out:
    for (size_t i = 0; i < made; i++)
        free(lines[i]);
    free(lines);
    free(os);
    return rc;
}

int
manifest_ecosystem(const char *os_id, const char *os_version, char *out, size_t n)
{
    for (size_t i = 0; i < sizeof(ecosystems) / sizeof(ecosystems[0]); i++) {
        size_t vlen;
        int len;

        if (strcmp(ecosystems[i].os_id, os_id) != 0)
            continue;
        if (os_version[0] == '\0')
            return ODS_E_UNSUPPORTED;
        switch (ecosystems[i].form) {
        case REL_WHOLE:
            len = snprintf(out, n, "%s:%s", ecosystems[i].family, os_version);
            break;
        case REL_V_MAJOR_MINOR: {
            const char *dot = strchr(os_version, '.');
            dot = dot != NULL ? strchr(dot + 1, '.') : NULL;
            vlen = dot != NULL ? (size_t)(dot - os_version) : strlen(os_version);
            len = snprintf(out, n, "%s:v%.*s", ecosystems[i].family, (int)vlen, os_version);
            break;
        }
        case REL_MAJOR:
        default:
            vlen = strcspn(os_version, ".");
            len = snprintf(out, n, "%s:%.*s", ecosystems[i].family, (int)vlen, os_version);
            break;
        }
        if (len < 0 || (size_t)len >= n)
            return ODS_E_TOOBIG;
        return ODS_E_OK;
    }
    return ODS_E_UNSUPPORTED;
}
