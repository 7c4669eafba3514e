/* matcher.h - decide which installed packages of a host an advisory set affects.
 * The index is built once from an advisory set and is immutable afterwards: any number
 * of threads may call matcher_assess on it at once. */
#ifndef ODSCAN_MATCHER_H
#define ODSCAN_MATCHER_H

#include "vuln.h"

#include <stddef.h>

struct matcher;     /* opaque */

/* One installed package as the agent reports it. source / source_version may be NULL
 * or "" when the package is its own source (dpkg omits ${source:Package} then). */
struct matcher_package {
    const char *name;
    const char *version;
    const char *source;
    const char *source_version;
};

/* One (advisory, installed package) hit. Pointers point into the advisory set and the
 * package array; valid while both are. */
struct matcher_finding {
    const struct advisory       *advisory;      /* id, aliases, summary */
    const struct vuln_affected  *affected;
    size_t                       package_index; /* into the packages array */
    const char                  *package;       /* the name looked up (source or binary) */
    const char                  *installed_version;
    const char                  *fixed_version; /* smallest fix above it, NULL when none */
    const struct vuln_severity  *severity;      /* the entry's, else the advisory's */
    bool                         undetermined;
};

/* Called once per finding; a non-zero return stops the assessment and is returned. */
typedef int (*matcher_finding_fn)(const struct matcher_finding *f, void *arg);

/* matcher_build indexes every advisory of set by (family, release, package name);
 * withdrawn advisories and entries of unknown families are left out. The set must
 * outlive the index and not change while it exists. Returns 0 with *out set (caller
 * frees with matcher_free), or ODS_E_NOMEM / ODS_E_TOOBIG (more than 2^30 versions). */
int matcher_build(const struct advisory_set *set, struct matcher **out);

/* matcher_free releases the index (not the advisories). NULL-safe. */
void matcher_free(struct matcher *m);

/* matcher_count says how many affected entries and (family, release, package) groups
 * the index holds. */
void matcher_count(const struct matcher *m, size_t *entries, size_t *groups);

/* matcher_assess checks n packages of a host running ecosystem (an OSV ecosystem
 * string: "Debian:12", "Alpine:v3.18", "Ubuntu:22.04") against the index, with OSV
 * semantics: affected when the version is listed in "versions", or when walking a
 * range's events in version order leaves it at or after an introduced and before the
 * next fixed, at or before a last_affected, and below a limit when the range has one.
 * Debian and Ubuntu packages are looked up by source name and source version, others by
 * binary name. Advisories for the family without a release apply to every release.
 * fn is called for each finding. *nfindings (may be NULL) gets the count. Returns 0,
 * ODS_E_INVAL for an ecosystem the matcher cannot assess, or fn's non-zero result. */
int matcher_assess(const struct matcher *m, const char *ecosystem,
    const struct matcher_package *packages, size_t n, matcher_finding_fn fn, void *arg,
    size_t *nfindings);

#endif
