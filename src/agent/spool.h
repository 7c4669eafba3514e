/* spool.h - results not yet acknowledged by the server, one file per job:
 * SPOOL/<job-id>.json holding the exact body of the result upload. */
#ifndef ODSCAN_AGENT_SPOOL_H
#define ODSCAN_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_DIR_NAME "spool"
#define SPOOL_MAX_ENTRIES 10000          /* spool_list refuses a larger spool */
#define SPOOL_BODY_MAX (17u * 1024 * 1024) /* a 16 MiB result plus its envelope */

/* spool_put stores body (len bytes) as the result of job_id, durably (temp file,
 * fsync, rename, directory fsync), replacing an earlier one. Returns 0, ODS_E_TOOBIG
 * (body above SPOOL_BODY_MAX) or ODS_E_IO. */
int spool_put(const char *spool_dir, uint64_t job_id, const char *body, size_t len);
/* spool_list returns the spooled job ids oldest first (by modification time, then
 * id); names that are not <digits>.json, temp files among them, are ignored.
 * Caller frees *ids (NULL when *n is 0). Returns 0, ODS_E_NOMEM, ODS_E_TOOBIG
 * (more than SPOOL_MAX_ENTRIES) or ODS_E_IO. A missing directory is an empty spool. */
int spool_list(const char *spool_dir, uint64_t **ids, size_t *n);
/* spool_get reads the body spooled for job_id; caller frees *body. Returns 0,
 * ODS_E_NOTFOUND, ODS_E_TOOBIG, ODS_E_NOMEM or ODS_E_IO. */
int spool_get(const char *spool_dir, uint64_t job_id, char **body, size_t *len);
/* spool_remove deletes the entry of job_id once the server acknowledged it.
 * Returns 0 (also when it was already gone) or ODS_E_IO. */
int spool_remove(const char *spool_dir, uint64_t job_id);

#endif
