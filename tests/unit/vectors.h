/* vectors.h - reading the public version-comparison vector files under
 * $ODS_TEST_DATA/vercmp for the table-driven vercmp tests. Header-only: each test
 * executable includes it once. */
#ifndef ODSCAN_TEST_VECTORS_H
#define ODSCAN_TEST_VECTORS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_LINE_MAX 1024
#define VEC_FIELDS   4

/* One data line split on blanks. */
struct vec_line {
    const char *path;
    unsigned    lineno;
    char        buf[VEC_LINE_MAX];
    char       *f[VEC_FIELDS];
    int         nf;
};

/* vec_open opens $ODS_TEST_DATA/<rel>; NULL (and a message) when it cannot. */
static inline FILE *
vec_open(const char *rel, char *path, size_t n)
{
    const char *dir = getenv("ODS_TEST_DATA");
    int len = snprintf(path, n, "%s/%s", dir != NULL ? dir : "tests/data", rel);

    if (len < 0 || (size_t)len >= n)
        return NULL;
    return fopen(path, "r");
}

/* vec_next reads the next data line, skipping blank lines and '#' or '//' comments
 * (a '#' after the data also starts a comment). Returns false at the end. */
static inline bool
vec_next(FILE *fp, struct vec_line *l)
{
    while (fgets(l->buf, sizeof(l->buf), fp) != NULL) {
        char *p = l->buf, *save = NULL, *tok;

        l->lineno++;
        l->buf[strcspn(l->buf, "\r\n")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#' || (p[0] == '/' && p[1] == '/'))
            continue;
        char *hash = strchr(p, '#');
        if (hash != NULL)
            *hash = '\0';
        l->nf = 0;
        for (tok = strtok_r(p, " \t", &save); tok != NULL && l->nf < VEC_FIELDS;
             tok = strtok_r(NULL, " \t", &save))
            l->f[l->nf++] = tok;
        if (l->nf > 0)
            return true;
    }
    return false;
}

static inline int
vec_sign(int v)
{
    return (v > 0) - (v < 0);
}

/* vec_op_holds says whether a comparison result satisfies "<", "<=", "=", ">=", ">"
 * or "!="; *known is false for any other operator. */
static inline bool
vec_op_holds(const char *op, int cmp, bool *known)
{
    *known = true;
    if (strcmp(op, "<") == 0)
        return cmp < 0;
    if (strcmp(op, "<=") == 0)
        return cmp <= 0;
    if (strcmp(op, "=") == 0 || strcmp(op, "==") == 0)
        return cmp == 0;
    if (strcmp(op, ">=") == 0)
        return cmp >= 0;
    if (strcmp(op, ">") == 0)
        return cmp > 0;
    if (strcmp(op, "!=") == 0)
        return cmp != 0;
    *known = false;
    return false;
}

#endif
