/* assess.h - vulnerability assessment on the server: one thread owns the matcher built
 * from the knowledge base in the store, rebuilds it when the store's kb_epoch moves
 * (polled every second, so every node notices an import made anywhere), assesses the
 * assets handed to it (a Vulnerability_Scan result just committed) and, after an
 * import, re-assesses the whole fleet from the stored manifests, writing findings in
 * batches. Nothing here runs on an HTTP thread or the committer thread. */
#ifndef ODSCAN_ASSESS_H
#define ODSCAN_ASSESS_H

#include "matcher.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

#define ASSESS_BATCH      100       /* assets per findings transaction */
#define ASSESS_QUEUE_MAX  100000    /* assets waiting; more are dropped (logged) */
#define ASSESS_POLL_MS    1000      /* kb_epoch poll */

typedef struct assessor assessor_t;

/* assessor_start starts the thread on st (which must outlive it). Returns 0,
 * ODS_E_NOMEM or ODS_E_IO. */
int assessor_start(store_t *st, assessor_t **out);
/* assessor_enqueue hands an asset to the thread; cheap, never blocks on the store. Any
 * thread. */
void assessor_enqueue(assessor_t *a, int64_t asset_id);
/* assessor_stop stops the thread (an assessment in progress finishes its batch).
 * NULL-safe, idempotent. assessor_free releases it. NULL-safe. */
void assessor_stop(assessor_t *a);
void assessor_free(assessor_t *a);

/* assess_severity names a finding's severity: from the CVSS score (CRITICAL >= 9.0,
 * HIGH >= 7.0, MEDIUM >= 4.0, LOW > 0, NONE), else from the source's urgency (Debian
 * "high"/"medium"/"low"/"unimportant", Ubuntu "critical"/"negligible"...), else
 * UNKNOWN. Never NULL. */
const char *assess_severity(const struct vuln_severity *sev);

/* assess_document assesses one stored manifest document against m: the findings, one
 * per (advisory, package looked up), go to *out (caller frees; NULL when none).
 * Returns 0, ODS_E_PARSE (not a manifest), ODS_E_UNSUPPORTED (an OS the matcher does
 * not know: no findings) or ODS_E_NOMEM. */
int assess_document(const struct matcher *m, const char *json, size_t len,
    struct finding **out, size_t *n);

/* assess_assets assesses the given assets from their stored manifests and writes the
 * findings, ASSESS_BATCH assets per transaction, all at now_ms. *done (may be NULL)
 * counts the assets written. Returns 0 or the first store failure. */
int assess_assets(store_t *st, const struct matcher *m, const int64_t *ids, size_t n,
    int64_t now_ms, size_t *done);

/* assess_kb_load reads every advisory of the store into set (initialised by the
 * caller) and builds the matcher over it (caller frees both, the matcher first).
 * *bad counts stored documents that no longer parse (skipped). */
int assess_kb_load(store_t *st, struct advisory_set *set, struct matcher **m, size_t *bad);

#endif
