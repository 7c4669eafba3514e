/* debtracker.h - the Debian Security Tracker's JSON export
 * (security-tracker.debian.org/tracker/data/json) into the advisory model. */
#ifndef ODSCAN_DEBTRACKER_H
#define ODSCAN_DEBTRACKER_H

#include "vuln.h"

#include <stddef.h>

#define DEBTRACKER_DOC_MAX (512u * 1024 * 1024)   /* the full export is ~100 MB today */

struct debtracker_stats {
    size_t advisories;          /* (source package, CVE) advisories added */
    size_t not_affected;        /* release entries resolved with fixed_version "0" */
    size_t unknown_release;     /* release entries for a codename not in our table */
};

/* debtracker_parse reads {srcpkg: {CVE-id: {description?, releases: {codename: {status,
 * fixed_version?, urgency?, repositories?}}}}} and adds one advisory per (source
 * package, CVE) that affects at least one known release, with one affected entry per
 * release for ecosystem "Debian:<number>" (the codename table is in debtracker.c):
 *   resolved + fixed_version "0"  not affected: no entry;
 *   resolved + fixed_version V    introduced 0, fixed V;
 *   open                          introduced 0, no fix;
 *   undetermined                  introduced 0, no fix, marked undetermined.
 * The release's urgency becomes the entry's severity. Returns 0, or ODS_E_PARSE /
 * ODS_E_TOOBIG / ODS_E_NOMEM with a one-line reason naming the field in why; on failure
 * the advisories added so far stay in set. */
int debtracker_parse(const char *json, size_t len, struct advisory_set *set,
    struct debtracker_stats *stats, char *why, size_t whylen);

/* debtracker_load_file reads a file of at most DEBTRACKER_DOC_MAX bytes and parses it;
 * ODS_E_IO when it cannot be read. */
int debtracker_load_file(const char *path, struct advisory_set *set,
    struct debtracker_stats *stats, char *why, size_t whylen);

#endif
