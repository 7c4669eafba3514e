/* inv.c - root-prefixed file access and failure-checked JSON building for the
 * inventory collectors. */
#include "inv.h"
#include "err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
inv_path(const char *root, const char *rel, char *dst, size_t n)
{
    int len = snprintf(dst, n, "%s%s", root, rel);

    return (len < 0 || (size_t)len >= n) ? ODS_E_TOOBIG : ODS_E_OK;
}

FILE *
inv_fopen(const char *root, const char *rel)
{
    char path[4096];

    if (inv_path(root, rel, path, sizeof(path)) != ODS_E_OK) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return fopen(path, "re");
}

int
inv_read_small(const char *root, const char *rel, char *dst, size_t n)
{
    FILE *fp = inv_fopen(root, rel);
    int rc = ODS_E_OK;

    if (fp == NULL)
        return errno == ENOENT ? ODS_E_NOTFOUND : ODS_E_IO;
    size_t got = fread(dst, 1, n - 1, fp);
    if (ferror(fp))
        rc = ODS_E_IO;
    fclose(fp);
    dst[got] = '\0';
    dst[strcspn(dst, "\n")] = '\0';
    return rc;
}

int
inv_getline(FILE *fp, char **line, size_t *cap)
{
    ssize_t len;

    while ((len = getline(line, cap, fp)) >= 0) {
        if ((size_t)len > INV_LINE_MAX)
            continue;
        if (len > 0 && (*line)[len - 1] == '\n')
            (*line)[len - 1] = '\0';
        return 1;
    }
    return 0;
}

/* sanitized_string makes a JSON string of s, replacing bytes of invalid UTF-8 by '?'. */
static json_t *
sanitized_string(const char *s)
{
    json_t *v = json_string(s);
    char *copy;

    if (v != NULL)
        return v;
    copy = strdup(s);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p != '\0'; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

int
inv_set_new(json_t *obj, const char *key, json_t *v)
{
    if (v == NULL)
        return ODS_E_NOMEM;
    return json_object_set_new(obj, key, v) == 0 ? ODS_E_OK : ODS_E_NOMEM;
}

int
inv_set_str(json_t *obj, const char *key, const char *s)
{
    return inv_set_new(obj, key, s != NULL ? sanitized_string(s) : json_null());
}

int
inv_set_int(json_t *obj, const char *key, int64_t v)
{
    return inv_set_new(obj, key, json_integer((json_int_t)v));
}

int
inv_append_new(json_t *arr, json_t *v)
{
    if (v == NULL)
        return ODS_E_NOMEM;
    return json_array_append_new(arr, v) == 0 ? ODS_E_OK : ODS_E_NOMEM;
}

int
inv_append_str(json_t *arr, const char *s)
{
    return inv_append_new(arr, sanitized_string(s));
}
