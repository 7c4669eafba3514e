/* vuln.h - the advisory model shared by every advisory source (OSV, the Debian
 * Security Tracker) and the matcher: which package versions of which OS release a
 * vulnerability affects, and how severe it is. Also CVSS v3 scoring (cvss.c). */
#ifndef ODSCAN_VULN_H
#define ODSCAN_VULN_H

#include "vercmp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on what one advisory may hold; a source exceeding one is malformed. */
#define VULN_ID_MAX          128      /* bytes of an id or alias */
#define VULN_NAME_MAX        256      /* bytes of a package name */
#define VULN_VERSION_MAX     256      /* bytes of a version */
#define VULN_RELEASE_MAX     64       /* bytes of an ecosystem release ("22.04:LTS") */
#define VULN_SUMMARY_MAX     4096     /* bytes of a summary */
#define VULN_TEXT_MAX        1024     /* bytes of a CVSS vector or urgency */
#define VULN_ALIASES_MAX     256
#define VULN_AFFECTED_MAX    4096
#define VULN_RANGES_MAX      64
#define VULN_EVENTS_MAX      1024
#define VULN_VERSIONS_MAX    65536

/* OS families the matcher knows. The table in advisory.c gives each its name, its
 * version scheme and whether packages are looked up by source name. */
enum vuln_family {
    VULN_FAMILY_UNKNOWN = 0,     /* any other ecosystem: kept, never matched */
    VULN_FAMILY_DEBIAN,
    VULN_FAMILY_UBUNTU,
    VULN_FAMILY_ALPINE,
    VULN_FAMILY_REDHAT,
    VULN_FAMILY_ROCKY,
    VULN_FAMILY_ALMA,
    VULN_FAMILY_COUNT
};

/* "Debian:12" is {DEBIAN, "12"}; "Ubuntu:22.04:LTS" is {UBUNTU, "22.04"} (":LTS" is a
 * support level, not a release); "Alpine:v3.18" is {ALPINE, "3.18"}; "Red Hat" is
 * {REDHAT, ""}. An empty release means "every release". */
struct vuln_ecosystem {
    enum vuln_family family;
    char             release[VULN_RELEASE_MAX];
};

enum vuln_event_kind {
    VULN_EVENT_INTRODUCED,
    VULN_EVENT_FIXED,
    VULN_EVENT_LAST_AFFECTED,
    VULN_EVENT_LIMIT,
};

struct vuln_event {
    enum vuln_event_kind kind;
    char                *version;   /* "0" for an introduced from the beginning */
};

enum vuln_range_type {
    VULN_RANGE_ECOSYSTEM,
    VULN_RANGE_SEMVER,
    VULN_RANGE_GIT,
};

struct vuln_range {
    enum vuln_range_type type;
    struct vuln_event   *events;    /* in source order */
    size_t               n_events;
};

/* A severity as the source gave it: a CVSS vector (and its base score when we can
 * compute it), else a free-form urgency ("high", "unimportant", "medium**"). */
struct vuln_severity {
    char *cvss_vector;              /* NULL when none */
    int   score10;                  /* base score x 10 (98 = 9.8), -1 when unknown */
    char *urgency;                  /* NULL when none */
};

struct vuln_affected {
    struct vuln_ecosystem ecosystem;
    char                 *package;
    struct vuln_range    *ranges;
    size_t                n_ranges;
    char                **versions;       /* explicitly affected versions */
    size_t                n_versions;
    struct vuln_severity  severity;       /* overrides the advisory's when set */
    bool                  undetermined;   /* the source could not tell; treated as affected */
};

struct advisory {
    char                 *id;
    int64_t               modified_ms;    /* 0 when the source has no time */
    bool                  withdrawn;
    char                **aliases;
    size_t                n_aliases;
    char                 *summary;        /* NULL when none */
    struct vuln_severity  severity;
    struct vuln_affected *affected;
    size_t                n_affected;
};

/* A growable list of advisories that owns them. */
struct advisory_set {
    struct advisory **items;
    size_t            n;
    size_t            cap;
};

/* ---- advisory.c ---------------------------------------------------------------- */

/* advisory_new allocates an empty advisory (score10 = -1). NULL on allocation failure.
 * Caller frees with advisory_free. */
struct advisory *advisory_new(void);
/* advisory_free releases an advisory and everything it holds. NULL-safe. */
void advisory_free(struct advisory *adv);

/* The builders below copy their string arguments, enforce the VULN_*_MAX limits and
 * return 0, ODS_E_NOMEM or ODS_E_TOOBIG; on failure the advisory is unchanged. */
int advisory_set_id(struct advisory *adv, const char *id);
int advisory_set_summary(struct advisory *adv, const char *summary);
int advisory_add_alias(struct advisory *adv, const char *alias);
/* advisory_add_affected appends an affected entry for (ecosystem, package) and points
 * *out at it; the pointer stays valid until the next advisory_add_affected. */
int advisory_add_affected(struct advisory *adv, const struct vuln_ecosystem *eco,
    const char *package, struct vuln_affected **out);
int advisory_affected_add_version(struct vuln_affected *aff, const char *version);
/* advisory_affected_add_range appends an empty range; *out as for add_affected. */
int advisory_affected_add_range(struct vuln_affected *aff, enum vuln_range_type type,
    struct vuln_range **out);
int advisory_range_add_event(struct vuln_range *range, enum vuln_event_kind kind,
    const char *version);
/* advisory_severity_set_cvss stores a CVSS vector; a v3.x vector also gets its base
 * score (ODS_E_PARSE when a v3.x vector is malformed). Other versions keep score -1. */
int advisory_severity_set_cvss(struct vuln_severity *sev, const char *vector);
int advisory_severity_set_urgency(struct vuln_severity *sev, const char *urgency);

/* advisory_ecosystem_parse reads an OSV ecosystem string into *out. Unknown families
 * are not an error: they come back as VULN_FAMILY_UNKNOWN. Returns 0, ODS_E_PARSE for
 * an empty string, ODS_E_TOOBIG for a release longer than VULN_RELEASE_MAX - 1. */
int advisory_ecosystem_parse(const char *s, struct vuln_ecosystem *out);
/* advisory_family_name gives the OSV spelling ("Debian", "Red Hat"); never NULL. */
const char *advisory_family_name(enum vuln_family family);
/* advisory_family_scheme gives the family's version scheme; false for UNKNOWN. */
bool advisory_family_scheme(enum vuln_family family, enum vercmp_scheme *out);
/* advisory_family_by_source says whether the family's advisories name source packages
 * (Debian, Ubuntu) rather than binary ones. */
bool advisory_family_by_source(enum vuln_family family);

/* advisory_set_init empties a set (no allocation); advisory_set_free frees it and
 * every advisory in it. */
void advisory_set_init(struct advisory_set *set);
void advisory_set_free(struct advisory_set *set);
/* advisory_set_add takes ownership of adv (freeing it on failure). Returns 0 or
 * ODS_E_NOMEM. */
int advisory_set_add(struct advisory_set *set, struct advisory *adv);

/* ---- cvss.c -------------------------------------------------------------------- */

/* cvss_v3_score computes the base score of a "CVSS:3.0/..." or "CVSS:3.1/..." vector
 * with the equations of the CVSS v3.1 specification (FIRST, section 7.1, and Appendix A
 * Roundup), as tenths: 98 for 9.8. All eight base metrics are required once each;
 * temporal and environmental metrics are accepted and ignored. Returns 0 or
 * ODS_E_PARSE. */
int cvss_v3_score(const char *vector, int *score10);

#endif
