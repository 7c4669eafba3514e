/* inventory_pkg.c - installed packages from the dpkg status file and the apk
 * database, read directly (no dpkg-query, no apk binary). */
#include "inventory.h"
#include "cpu.h"
#include "err.h"
#include "inv.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PKG_FIELD_MAX     512
#define PKG_SLICE_PACKAGES 200   /* packages between two CPU checkpoints */

struct pkg {
    char name[PKG_FIELD_MAX];
    char version[PKG_FIELD_MAX];
    char arch[PKG_FIELD_MAX];
    char source[PKG_FIELD_MAX];      /* raw Source:/o: value, may hold "(version)" */
    char status[PKG_FIELD_MAX];
    bool bad;                        /* a field was too long: skip the package */
    size_t count;                    /* packages emitted so far */
};

/* A field of a stanza: its key and where its value goes. */
struct pkg_field {
    const char *key;
    size_t      offset;
};

static const struct pkg_field dpkg_fields[] = {
    { "Package",      offsetof(struct pkg, name) },
    { "Version",      offsetof(struct pkg, version) },
    { "Architecture", offsetof(struct pkg, arch) },
    { "Source",       offsetof(struct pkg, source) },
    { "Status",       offsetof(struct pkg, status) },
};

static const struct pkg_field apk_fields[] = {
    { "P", offsetof(struct pkg, name) },
    { "V", offsetof(struct pkg, version) },
    { "A", offsetof(struct pkg, arch) },
    { "o", offsetof(struct pkg, source) },
};

static void
pkg_clear(struct pkg *p)
{
    size_t count = p->count;

    memset(p, 0, sizeof(*p));
    p->count = count;
}

/* pkg_emit appends the package; source is "name" or "name (version)", and an
 * absent source or source version is the binary's own. */
static int
pkg_emit(const char *manager, struct pkg *p, json_t *packages)
{
    char source[PKG_FIELD_MAX], source_version[PKG_FIELD_MAX];
    json_t *o = json_object();
    int rc = ODS_E_NOMEM;

    if (o == NULL)
        return ODS_E_NOMEM;
    memcpy(source, p->name, sizeof(source));
    memcpy(source_version, p->version, sizeof(source_version));
    if (p->source[0] != '\0') {
        char *open = strstr(p->source, " (");
        char *close = open != NULL ? strchr(open, ')') : NULL;
        if (open != NULL && close != NULL) {
            *close = '\0';
            memcpy(source_version, open + 2, strlen(open + 2) + 1);
            *open = '\0';
        }
        memcpy(source, p->source, strlen(p->source) + 1);
    }
    if (inv_set_str(o, "manager", manager) != 0 || inv_set_str(o, "name", p->name) != 0
        || inv_set_str(o, "version", p->version) != 0 || inv_set_str(o, "arch", p->arch) != 0
        || inv_set_str(o, "source", source) != 0
        || inv_set_str(o, "source_version", source_version) != 0)
        goto out;
    rc = inv_append_new(packages, o);
    o = NULL;
    if (rc == ODS_E_OK && ++p->count % PKG_SLICE_PACKAGES == 0)
        cpu_slice_done();
out:
    json_decref(o);
    return rc;
}

/* pkg_field_set stores "Key: value" (or "K:value" for apk) when Key is in the table. */
static void
pkg_field_set(struct pkg *p, const struct pkg_field *fields, size_t nfields, const char *line,
    bool case_sensitive)
{
    const char *colon = strchr(line, ':');

    if (colon == NULL)
        return;
    size_t klen = (size_t)(colon - line);
    for (size_t i = 0; i < nfields; i++) {
        if (strlen(fields[i].key) != klen)
            continue;
        if (case_sensitive ? strncmp(line, fields[i].key, klen) != 0
                           : strncasecmp(line, fields[i].key, klen) != 0)
            continue;
        const char *value = colon + 1;
        value += strspn(value, " \t");
        if (str_copy((char *)p + fields[i].offset, PKG_FIELD_MAX, value) != ODS_E_OK)
            p->bad = true;
        return;
    }
}

/* dpkg_wanted: "Status: WANT ok installed" - fully installed and not in error,
 * whatever the selection (install, hold, deinstall: a held package is installed).
 * config-files, half-installed, unpacked, reinstreq... are not. */
static bool
dpkg_wanted(const struct pkg *p)
{
    const char *flag = strchr(p->status, ' ');

    return !p->bad && p->name[0] != '\0' && flag != NULL && strcmp(flag, " ok installed") == 0;
}

static bool
apk_wanted(const struct pkg *p)
{
    return !p->bad && p->name[0] != '\0';
}

struct pkg_format {
    const char             *manager;
    const char             *path;
    const struct pkg_field *fields;
    size_t                  nfields;
    bool                    case_sensitive;   /* apk keys are single case-sensitive letters */
    bool                  (*wanted)(const struct pkg *p);
};

static const struct pkg_format dpkg_format = {
    "dpkg", INVENTORY_DPKG_STATUS, dpkg_fields, sizeof(dpkg_fields) / sizeof(dpkg_fields[0]),
    false, dpkg_wanted,
};
static const struct pkg_format apk_format = {
    "apk", INVENTORY_APK_DB, apk_fields, sizeof(apk_fields) / sizeof(apk_fields[0]),
    true, apk_wanted,
};

/* read_stanzas parses blank-line separated stanzas; continuation lines (leading
 * space or tab, e.g. multi-line Description) belong to a field we do not keep. */
static int
read_stanzas(const struct pkg_format *fmt, const char *root, json_t *packages, bool *found)
{
    struct pkg *p = calloc(1, sizeof(*p));
    char *line = NULL;
    size_t cap = 0;
    FILE *fp = NULL;
    int rc = ODS_E_NOMEM;

    *found = false;
    if (p == NULL)
        goto out;
    fp = inv_fopen(root, fmt->path);
    if (fp == NULL) {
        rc = errno == ENOENT || errno == ENOTDIR ? ODS_E_OK : ODS_E_IO;
        goto out;
    }
    *found = true;
    for (;;) {
        int more = inv_getline(fp, &line, &cap);
        if (!more || line[0] == '\0') {
            if (fmt->wanted(p) && (rc = pkg_emit(fmt->manager, p, packages)) != ODS_E_OK)
                goto out;
            pkg_clear(p);
            if (!more)
                break;
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t')
            continue;
        pkg_field_set(p, fmt->fields, fmt->nfields, line, fmt->case_sensitive);
    }
    rc = ferror(fp) ? ODS_E_IO : ODS_E_OK;
out:
    if (fp != NULL)
        fclose(fp);
    free(line);
    free(p);
    return rc;
}

int
inventory_pkg_dpkg(const char *root, json_t *packages, bool *found)
{
    return read_stanzas(&dpkg_format, root, packages, found);
}

int
inventory_pkg_apk(const char *root, json_t *packages, bool *found)
{
    return read_stanzas(&apk_format, root, packages, found);
}

bool
inventory_rpm_present(const char *root)
{
    static const char *const dbs[] = { "/var/lib/rpm", "/usr/lib/sysimage/rpm" };
    char path[4096];
    struct stat st;

    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
        if (inv_path(root, dbs[i], path, sizeof(path)) == ODS_E_OK && stat(path, &st) == 0
            && S_ISDIR(st.st_mode))
            return true;
    return false;
}
