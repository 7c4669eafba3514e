/* vercmp.h - package version ordering for the OS package managers odscan assesses:
 * dpkg (Debian, Ubuntu), rpm (Red Hat family) and apk (Alpine). Pure functions over
 * NUL-terminated strings; no allocation, safe from any thread. */
#ifndef ODSCAN_VERCMP_H
#define ODSCAN_VERCMP_H

#include <stdbool.h>
#include <stddef.h>

enum vercmp_scheme {
    VERCMP_DPKG,
    VERCMP_RPM,
    VERCMP_APK,
};

/* vercmp compares two versions of the given scheme. Returns <0 when a sorts before b,
 * 0 when they are equal under the scheme (not necessarily byte-equal: "1.0" and "1.00"
 * are equal for dpkg), >0 otherwise. Total on any input: strings a package manager would
 * reject are still ordered deterministically. a and b must not be NULL. */
int vercmp(enum vercmp_scheme scheme, const char *a, const char *b);

/* vercmp_valid says whether s is a version the scheme's package manager accepts. */
bool vercmp_valid(enum vercmp_scheme scheme, const char *s);

/* ---- dpkg (vercmp_dpkg.c) ------------------------------------------------------ */

/* A parsed dpkg version; the spans point into the parsed string. */
struct vercmp_dpkg_parts {
    unsigned int epoch;
    const char  *upstream;
    size_t       upstream_len;
    const char  *revision;       /* "" when the version has no revision */
    size_t       revision_len;
    bool         warned;         /* dpkg accepts it with a warning */
    const char  *why;            /* reason for an error or warning, else NULL */
};

/* vercmp_dpkg_parse splits s like dpkg's parseversion(): blanks around it are trimmed;
 * the epoch is the decimal number before the first ':' (0..INT_MAX); the revision follows
 * the last '-'. Returns 0 (out->warned set where dpkg only warns: upstream not starting
 * with a digit, characters outside dpkg's sets), or ODS_E_PARSE (empty, embedded blank,
 * bad or missing epoch, empty upstream or revision) with out->why set. */
int vercmp_dpkg_parse(const char *s, struct vercmp_dpkg_parts *out);

/* vercmp_dpkg_cmp orders two versions as dpkg --compare-versions does (Debian Policy
 * 5.6.12). Returns <0, 0 or >0. */
int vercmp_dpkg_cmp(const char *a, const char *b);

/* ---- rpm (vercmp_rpm.c) -------------------------------------------------------- */

/* vercmp_rpm_segcmp is rpm's rpmvercmp() on one version or release string: alphanumeric
 * segments, '~' before everything, '^' after the end but before any other segment, a
 * numeric segment newer than an alphabetic one. Returns -1, 0 or 1. */
int vercmp_rpm_segcmp(const char *a, const char *b);

/* vercmp_rpm_cmp compares [epoch:]version[-release]: the epoch (default 0) is the text
 * before the first ':' when that text is all digits; the release follows the first '-'.
 * A missing release sorts before any present one (as osv-scalibr and OSV tooling do).
 * Returns -1, 0 or 1. */
int vercmp_rpm_cmp(const char *a, const char *b);

/* ---- apk (vercmp_apk.c) -------------------------------------------------------- */

/* vercmp_apk_cmp orders two Alpine versions as apk-tools does: dot-separated numbers,
 * an optional letter, suffixes _alpha _beta _pre _rc (before the release) and _cvs _svn
 * _git _hg _p (after it) each with an optional number, then -rN. Returns -1, 0 or 1. */
int vercmp_apk_cmp(const char *a, const char *b);

/* vercmp_apk_valid says whether apk-tools would accept s as a version. */
bool vercmp_apk_valid(const char *s);

#endif
