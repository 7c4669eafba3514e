/* osv.h - reading OSV records (https://ossf.github.io/osv-schema/) into the advisory
 * model: one JSON document, a directory of them, or a zip of them as osv.dev ships. */
#ifndef ODSCAN_OSV_H
#define ODSCAN_OSV_H

#include "vuln.h"

#include <stddef.h>

#define OSV_DOC_MAX   (16u * 1024 * 1024)  /* bytes of one JSON document */
#define OSV_ZIP_MAX   (4ull * 1024 * 1024 * 1024) /* bytes of a zip (no ZIP64) */
#define OSV_WHY_MAX   256                  /* a good size for a reason buffer */

/* What a bulk load did. */
struct osv_load_stats {
    size_t loaded;              /* advisories added to the set */
    size_t rejected;            /* malformed records skipped */
    char   first_reject[OSV_WHY_MAX];   /* "<file>: <reason>" of the first one */
    /* When set by the caller, called for every rejected record with its file or
     * member name and the reason; kept when a load resets the counts. */
    void (*on_reject)(void *arg, const char *name, const char *reason);
    void  *reject_arg;
};

/* osv_parse reads one OSV document of len bytes (not necessarily NUL-terminated) and
 * validates it strictly against the schema's rules that matter to matching: id and
 * modified present, types as specified, every range with an introduced event, each
 * event with exactly one of introduced/fixed/last_affected/limit, no range with both
 * fixed and last_affected, sizes within the VULN_*_MAX limits. Unknown fields and
 * database_specific / ecosystem_specific are ignored. "upstream" ids join the aliases.
 * Returns 0 with *out set (caller frees with advisory_free), or ODS_E_PARSE /
 * ODS_E_TOOBIG / ODS_E_NOMEM with a one-line reason naming the field in why (always
 * NUL-terminated when whylen > 0). */
int osv_parse(const char *json, size_t len, struct advisory **out, char *why, size_t whylen);

/* osv_parse_file reads one file (at most OSV_DOC_MAX bytes) and parses it. As
 * osv_parse, plus ODS_E_IO when the file cannot be read. */
int osv_parse_file(const char *path, struct advisory **out, char *why, size_t whylen);

/* osv_load_dir adds every *.json file directly in dir to set. Malformed records are
 * skipped and counted in *stats; only an unreadable directory or file, or memory, fails
 * the load: ODS_E_IO / ODS_E_NOMEM with why set. Advisories added before a failure stay
 * in the set. */
int osv_load_dir(const char *dir, struct advisory_set *set, struct osv_load_stats *stats,
    char *why, size_t whylen);

/* osv_load_zip does the same for every *.json member of a zip archive (stored or
 * deflated members; no ZIP64, no encryption: ODS_E_UNSUPPORTED). A member whose CRC
 * does not match is counted as rejected. */
int osv_load_zip(const char *path, struct advisory_set *set, struct osv_load_stats *stats,
    char *why, size_t whylen);

#endif
