/* buf.h - a growable byte buffer with a hard maximum (like curl's dynbuf):
 * appending past the maximum fails with ODS_E_TOOBIG and leaves the buffer as it was. */
#ifndef ODSCAN_BUF_H
#define ODSCAN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char   *data;   /* always NUL-terminated when non-NULL */
    size_t  len;
    size_t  cap;
    size_t  max;    /* largest len allowed */
};

/* buf_init prepares an empty buffer that may grow to max bytes. No allocation. */
void buf_init(struct buf *b, size_t max);
/* buf_free releases the storage; the buffer is empty afterwards. NULL-safe. */
void buf_free(struct buf *b);
/* buf_reset empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* buf_append adds n bytes. Returns 0, ODS_E_NOMEM or ODS_E_TOOBIG. */
int buf_append(struct buf *b, const void *p, size_t n);
/* buf_puts adds a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);
/* buf_printf adds formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* buf_xml_escaped adds s with &, <, >, ", ' escaped for XML text and attributes. */
int buf_xml_escaped(struct buf *b, const char *s);
/* buf_json_escaped adds s as the inside of a JSON string (no quotes). */
int buf_json_escaped(struct buf *b, const char *s);
/* buf_steal hands the data to the caller, who frees it; the buffer is empty afterwards.
 * Returns an empty allocated string for an empty buffer, NULL on allocation failure. */
char *buf_steal(struct buf *b, size_t *len);

#endif
