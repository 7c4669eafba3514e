/* manifest.h - the package manifest a Vulnerability_Scan uploads: the OS release and
 * every installed OS package. Shared by the agent (which hashes what it collected) and
 * the server (which checks the hash, keeps the manifest and assesses it).
 *
 * The content hash is SHA-256 over a canonical text, so it does not depend on package
 * order or JSON layout:
 *   "odscan-manifest-v1\n"
 *   "os\t<id>\t<version>\t<kernel>\n"
 *   then one line per package, sorted bytewise:
 *   "pkg\t<manager>\t<name>\t<version>\t<arch>\t<source>\t<source_version>\n"
 * Fields may not hold control characters, so a tab or newline never shifts a field. */
#ifndef ODSCAN_MANIFEST_H
#define ODSCAN_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define MANIFEST_PACKAGES_MAX 200000   /* packages in one manifest */
#define MANIFEST_FIELD_MAX    512      /* bytes of one field */
#define MANIFEST_HASH_LEN     65       /* hex SHA-256 with its NUL */
#define MANIFEST_ECOSYSTEM_MAX 96      /* "Debian:12", incl. NUL */

/* One package; the strings point into the JSON document the manifest was read from. */
struct manifest_package {
    const char *manager;
    const char *name;
    const char *version;
    const char *arch;
    const char *source;          /* the binary's own name when the manager has none */
    const char *source_version;
};

struct manifest {
    const char              *os_id;        /* os-release ID ("debian"), "" when unknown */
    const char              *os_version;   /* os-release VERSION_ID ("12"), "" when unknown */
    const char              *kernel;       /* uname release, "" when unknown */
    struct manifest_package *packages;     /* malloc'd */
    size_t                   n;
    const char              *hash;         /* "manifest_hash" as sent, NULL when absent */
    bool                     hash_only;    /* {"manifest_hash", "unchanged": true} */
};

/* manifest_read reads a Vulnerability_Scan result document:
 *   {"os": {"id","version","kernel",...}, "packages": [{"manager","name","version",
 *    "arch","source","source_version"}...], "manifest_hash": "<hex>", ...}
 * or the hash-only form {"manifest_hash": "<hex>", "unchanged": true}. The manifest
 * borrows strings of doc, which must outlive it. Returns 0, ODS_E_PARSE (a one-line
 * reason in why, size n) or ODS_E_TOOBIG / ODS_E_NOMEM. Free with manifest_free. */
int manifest_read(const json_t *doc, struct manifest *out, char *why, size_t n);
/* manifest_free releases what manifest_read allocated. NULL-safe. */
void manifest_free(struct manifest *m);

/* manifest_hash computes the content hash (see above) into out as lowercase hex.
 * Sorts nothing in m. Returns 0 or ODS_E_NOMEM. */
int manifest_hash(const struct manifest *m, char out[MANIFEST_HASH_LEN]);

/* manifest_ecosystem names the OSV ecosystem of an os-release ID and VERSION_ID:
 * debian 12 -> "Debian:12", ubuntu 22.04 -> "Ubuntu:22.04", alpine 3.18.4 ->
 * "Alpine:v3.18", rhel / rocky / almalinux 9.3 -> "Red Hat:9" / "Rocky Linux:9" /
 * "AlmaLinux:9". Returns 0, or ODS_E_UNSUPPORTED for another OS or an empty version. */
int manifest_ecosystem(const char *os_id, const char *os_version, char *out, size_t n);

#endif
