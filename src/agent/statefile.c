/* statefile.c - crash-safe replacement of small files in the state directory
 * (identity, spooled results): temp file + fsync + rename + directory fsync. */
#include "statefile.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int
statefile_mkdir(const char *path)
{
    struct stat st;

    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return ODS_E_IO;
    if (stat(path, &st) != 0)
        return ODS_E_IO;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return ODS_E_IO;
    }
    return ODS_E_OK;
}

static int
write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ODS_E_IO;
        p += n;
        len -= (size_t)n;
    }
    return ODS_E_OK;
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = ODS_E_OK;

    if (fd < 0)
        return ODS_E_IO;
    if (fsync(fd) != 0)
        rc = ODS_E_IO;
    close(fd);
    return rc;
}

int
statefile_write(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    int fd = -1, rc = ODS_E_IO;
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    int m = snprintf(tmp, sizeof(tmp), "%s/%s%s", dir, name, STATEFILE_TMP_SUFFIX);

    if (n < 0 || (size_t)n >= sizeof(path) || m < 0 || (size_t)m >= sizeof(tmp))
        return ODS_E_TOOBIG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        goto out;
    /* open() honours the umask; the mode must be exact (identity.json is 0600). */
    if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    rc = fsync_dir(dir);
out:
    if (fd >= 0)
        close(fd);
    if (rc != ODS_E_OK) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    return rc;
}

int
statefile_read(const char *path, size_t max, char **out, size_t *len)
{
    char *data = NULL;
    size_t used = 0, cap = 4096;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = ODS_E_IO;

    if (fd < 0)
        return errno == ENOENT ? ODS_E_NOTFOUND : ODS_E_IO;
    data = malloc(cap);
    if (data == NULL) {
        rc = ODS_E_NOMEM;
        goto out;
    }
    for (;;) {
        if (cap - used < 2) {
            if (cap > max) {
                rc = ODS_E_TOOBIG;
                goto out;
            }
            char *grown = realloc(data, cap * 2);
            if (grown == NULL) {
                rc = ODS_E_NOMEM;
                goto out;
            }
            data = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, data + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > max) {
            rc = ODS_E_TOOBIG;
            goto out;
        }
    }
    data[used] = '\0';
    *out = data;
    data = NULL;
    if (len != NULL)
        *len = used;
    rc = ODS_E_OK;
out:
    free(data);
    close(fd);
    return rc;
}
