/* kbsource.h - turning what a manager imports into knowledge-base documents: a
 * directory of OSV JSON files, a zip of them as osv.dev publishes per ecosystem, one
 * OSV record, a JSON array of them, or the Debian Security Tracker's JSON export.
 * Every advisory becomes one normalized OSV document (osv_format), which is what the
 * store keeps and what every server node parses back to build its matcher. */
#ifndef ODSCAN_KBSOURCE_H
#define ODSCAN_KBSOURCE_H

#include "vuln.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KB_REJECT_WHY_MAX  320      /* "<file>: <reason>" */
#define KB_REJECTS_KEPT    1000     /* rejects listed one by one; more are only counted */
#define KB_TRACKER_PREFIX  "DEBIAN-"   /* tracker advisories: DEBIAN-CVE-..., CVE as alias */

/* One advisory ready for the store: its normalized OSV JSON and the keys the store
 * indexes. Everything is owned by the kb_load holding it. */
struct kb_doc {
    char    *id;
    int64_t  modified_ms;       /* 0 when the source has no time (the tracker) */
    char   **aliases;
    size_t   naliases;
    char    *json;
    size_t   len;
};

struct kb_reject {
    char why[KB_REJECT_WHY_MAX];   /* "<file or member name>: <reason>" */
};

struct kb_load {
    struct kb_doc    *docs;
    size_t            n, cap;
    struct kb_reject *rejects;     /* the first KB_REJECTS_KEPT */
    size_t            nrejects;    /* all of them */
};

/* osv_format writes the n advisories (n >= 1, all describing one vulnerability: their
 * affected entries are merged) as one OSV document with the given id: modified is the
 * latest of theirs, aliases their union plus every source id that differs from id,
 * severity and summary the first advisory's. Affected entries of unknown families and
 * GIT ranges are left out; "undetermined" has no OSV field and is not kept.
 * Caller frees *out. Returns 0 or ODS_E_NOMEM. */
int osv_format(const struct advisory *const *advs, size_t n, const char *id, char **out,
    size_t *len);

/* kb_load_init empties a load; kb_load_free releases everything in it. NULL-safe. */
void kb_load_init(struct kb_load *kb);
void kb_load_free(struct kb_load *kb);

/* kb_load_path adds the advisories of path: a directory (every *.json directly in it,
 * each an OSV record), a zip, or one file read as kb_load_buffer does. A malformed
 * record is a reject naming its file, never a failure. Returns 0, or ODS_E_IO /
 * ODS_E_NOMEM / ODS_E_UNSUPPORTED / ODS_E_TOOBIG with a reason in why (size n) when the
 * source as a whole cannot be read (then kb holds what was added before). */
int kb_load_path(const char *path, struct kb_load *kb, char *why, size_t n);

/* kb_load_buffer adds the advisories of len bytes named name (for reject messages):
 * a zip ("PK\3\4"; spilled to a temporary file under tmpdir for the zip reader), an
 * OSV record (a JSON object with "id"), a JSON array of OSV records, or a Debian
 * Security Tracker export (any other JSON object; a malformed one is one reject).
 * Returns as kb_load_path. */
int kb_load_buffer(const char *data, size_t len, const char *name, const char *tmpdir,
    struct kb_load *kb, char *why, size_t n);

#endif
