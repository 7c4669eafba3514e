/* inv.h - helpers shared by the inventory collectors: files read under a root prefix
 * (so the parsers run on test fixtures), bounded lines, and building JSON members
 * that fail cleanly instead of returning NULL into a tree. */
#ifndef ODSCAN_AGENT_INV_H
#define ODSCAN_AGENT_INV_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define INV_LINE_MAX  (64u * 1024)   /* longer lines of a system file are skipped */
#define INV_SMALL_MAX 4096           /* single-value files: machine-id, comm, uptime */

/* inv_path writes root + rel ("/etc/passwd") into dst (size n). Returns 0 or
 * ODS_E_TOOBIG. */
int inv_path(const char *root, const char *rel, char *dst, size_t n);
/* inv_fopen opens root + rel for reading; NULL (errno set) when it cannot. */
FILE *inv_fopen(const char *root, const char *rel);
/* inv_read_small reads the first line of root + rel (at most n - 1 bytes) into dst
 * without its newline. Returns 0, ODS_E_NOTFOUND, ODS_E_TOOBIG or ODS_E_IO. */
int inv_read_small(const char *root, const char *rel, char *dst, size_t n);
/* inv_getline reads the next line of fp into *line (grown by getline, caller frees)
 * without its newline; lines over INV_LINE_MAX are skipped. Returns 1 for a line,
 * 0 at end of file. */
int inv_getline(FILE *fp, char **line, size_t *cap);

/* inv_set_str sets obj[key] to the string s, or null when s is NULL; bytes that are
 * not valid UTF-8 become '?'. Returns 0 or ODS_E_NOMEM. */
int inv_set_str(json_t *obj, const char *key, const char *s);
/* inv_set_int sets obj[key] to v. Returns 0 or ODS_E_NOMEM. */
int inv_set_int(json_t *obj, const char *key, int64_t v);
/* inv_set_new sets obj[key] to v, taking the reference even on failure. Returns 0
 * or ODS_E_NOMEM (also when v is NULL). */
int inv_set_new(json_t *obj, const char *key, json_t *v);
/* inv_append_new appends v to arr, taking the reference even on failure. Returns 0
 * or ODS_E_NOMEM (also when v is NULL). */
int inv_append_new(json_t *arr, json_t *v);
/* inv_append_str appends the string s (sanitised as in inv_set_str). */
int inv_append_str(json_t *arr, const char *s);

#endif
