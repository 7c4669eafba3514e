/* scans.h - the scan modules this agent implements, as a table keyed by the
 * domain's scan type (common/scan.h). A type without a module is reported FAILED
 * with "<type> is not supported by this agent version". */
#ifndef ODSCAN_AGENT_SCANS_H
#define ODSCAN_AGENT_SCANS_H

#include "scan.h"

#include <jansson.h>
#include <stddef.h>

#define SCAN_REASON_MAX 512

/* What a scan gets to work with. */
struct scan_ctx {
    const char *root;   /* prefix of every file the scan reads; "" for the live host */
    const void *arg;    /* module-specific argument (the diag workloads), else NULL */
};

/* A scan module runs in the scan child process. On success it sets *result (caller
 * owns it) and returns 0; on failure it returns a negative code and writes a one-line
 * reason into reason (size n). It calls cpu_slice_done() between work units. */
typedef int (*scan_run_fn)(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n);

/* scans_find returns the module of a scan type, NULL when this agent version does
 * not implement it (or the type is out of range). */
scan_run_fn scans_find(enum scan_type type);
/* scans_unsupported_reason writes "<param> is not supported by this agent version"
 * for a type parameter such as "Vulnerability_Scan" into dst (size n). */
void scans_unsupported_reason(const char *param, char *dst, size_t n);

/* The modules. */
int scan_inventory_run(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n);
int scan_vulnerability_run(const struct scan_ctx *ctx, json_t **result, char *reason, size_t n);

/* vulnerability_collect builds the package manifest of the host under root (see
 * docs/agent.md) with its "manifest_hash". Caller owns *doc. Returns 0 or a negative
 * code. */
int vulnerability_collect(const char *root, json_t **doc);

#endif
