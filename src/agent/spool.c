/* spool.c - the result spool: a result is written here before its first upload
 * attempt and removed after the server's 200, so a crash never loses one. */
#include "spool.h"
#include "err.h"
#include "statefile.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_SUFFIX ".json"

struct spool_entry {
    uint64_t        id;
    struct timespec mtime;
};

static int
entry_name(uint64_t job_id, char *dst, size_t n)
{
    int len = snprintf(dst, n, "%" PRIu64 SPOOL_SUFFIX, job_id);

    return (len < 0 || (size_t)len >= n) ? ODS_E_TOOBIG : ODS_E_OK;
}

/* entry_id parses "<digits>.json"; anything else (temp files included) is not ours. */
static int
entry_id(const char *name, uint64_t *id)
{
    char digits[24];
    size_t len = strlen(name), slen = strlen(SPOOL_SUFFIX);

    if (len <= slen || len - slen >= sizeof(digits) || strcmp(name + len - slen, SPOOL_SUFFIX) != 0)
        return ODS_E_PARSE;
    memcpy(digits, name, len - slen);
    digits[len - slen] = '\0';
    return parse_u64(digits, UINT64_MAX, id);
}

static int
entry_cmp(const void *a, const void *b)
{
    const struct spool_entry *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int
spool_put(const char *spool_dir, uint64_t job_id, const char *body, size_t len)
{
    char name[32];
    int rc;

    if (len > SPOOL_BODY_MAX)
        return ODS_E_TOOBIG;
    if ((rc = statefile_mkdir(spool_dir)) != ODS_E_OK)
        return rc;
    if ((rc = entry_name(job_id, name, sizeof(name))) != ODS_E_OK)
        return rc;
    return statefile_write(spool_dir, name, body, len, 0600);
}

int
spool_list(const char *spool_dir, uint64_t **ids, size_t *n)
{
    DIR *d = NULL;
    struct spool_entry *entries = NULL;
    uint64_t *out = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;
    int rc = ODS_E_IO;

    *ids = NULL;
    *n = 0;
    d = opendir(spool_dir);
    if (d == NULL)
        return errno == ENOENT ? ODS_E_OK : ODS_E_IO;
    while ((de = readdir(d)) != NULL) {
        struct spool_entry e;
        struct stat st;
        if (entry_id(de->d_name, &e.id) != ODS_E_OK)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        e.mtime = st.st_mtim;
        if (count == SPOOL_MAX_ENTRIES) {
            rc = ODS_E_TOOBIG;
            goto out;
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct spool_entry *grown = realloc(entries, ncap * sizeof(*entries));
            if (grown == NULL) {
                rc = ODS_E_NOMEM;
                goto out;
            }
            entries = grown;
            cap = ncap;
        }
        entries[count++] = e;
    }
    if (count > 0) {
        qsort(entries, count, sizeof(*entries), entry_cmp);
        out = malloc(count * sizeof(*out));
        if (out == NULL) {
            rc = ODS_E_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < count; i++)
            out[i] = entries[i].id;
    }
    *ids = out;
    *n = count;
    rc = ODS_E_OK;
out:
    free(entries);
    closedir(d);
    return rc;
}

int
spool_get(const char *spool_dir, uint64_t job_id, char **body, size_t *len)
{
    char name[32], path[PATH_MAX];
    int rc = entry_name(job_id, name, sizeof(name));

    if (rc != ODS_E_OK)
        return rc;
    int m = snprintf(path, sizeof(path), "%s/%s", spool_dir, name);
    if (m < 0 || (size_t)m >= sizeof(path))
        return ODS_E_TOOBIG;
    return statefile_read(path, SPOOL_BODY_MAX, body, len);
}

int
spool_remove(const char *spool_dir, uint64_t job_id)
{
    char name[32], path[PATH_MAX];
    int rc = entry_name(job_id, name, sizeof(name));

    if (rc != ODS_E_OK)
        return rc;
    int m = snprintf(path, sizeof(path), "%s/%s", spool_dir, name);
    if (m < 0 || (size_t)m >= sizeof(path))
        return ODS_E_TOOBIG;
    if (unlink(path) != 0 && errno != ENOENT)
        return ODS_E_IO;
    return ODS_E_OK;
}
