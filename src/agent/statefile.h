/* statefile.h - crash-safe files in the agent's state directory: write to a temp
 * file, fsync, rename over the target, fsync the directory. */
#ifndef ODSCAN_AGENT_STATEFILE_H
#define ODSCAN_AGENT_STATEFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Largest state file statefile_read accepts (identity, spooled results). */
#define STATEFILE_MAX (17u * 1024 * 1024)
/* Suffix of temp files; readers of a directory skip names ending in it. */
#define STATEFILE_TMP_SUFFIX ".tmp"

/* statefile_mkdir creates directory path with mode 0700 when missing (parents must
 * exist). Returns 0, or ODS_E_IO when it cannot be created or is not a directory. */
int statefile_mkdir(const char *path);
/* statefile_write replaces dir/name by len bytes of data with the given mode, durably:
 * dir/name.tmp is written and fsync'd, renamed over dir/name, then dir is fsync'd.
 * After a crash dir/name is either the old or the new content, never a mix.
 * Returns 0, ODS_E_TOOBIG (path too long) or ODS_E_IO (errno kept). */
int statefile_write(const char *dir, const char *name, const void *data, size_t len, mode_t mode);
/* statefile_read reads the whole file path (at most max bytes) into a NUL-terminated
 * allocation; caller frees *out. Returns 0, ODS_E_NOTFOUND, ODS_E_TOOBIG, ODS_E_NOMEM
 * or ODS_E_IO. */
int statefile_read(const char *path, size_t max, char **out, size_t *len);

#endif
