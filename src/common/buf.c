/* buf.c - bounded growable buffer. */
#include "buf.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
buf_free(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static int
buf_reserve(struct buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return ODS_E_TOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return ODS_E_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return ODS_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return ODS_E_OK;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ODS_E_OK;
}

int
buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    char small[256];

    va_copy(cp, ap);
    int n = vsnprintf(small, sizeof(small), fmt, cp);
    va_end(cp);
    if (n < 0)
        return ODS_E_INVAL;
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    int m = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    if (m != n)
        return ODS_E_INVAL;
    b->len += (size_t)n;
    return ODS_E_OK;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int
buf_xml_escaped(struct buf *b, const char *s)
{
    const char *run = s;
    int rc = 0;

    for (; *s != '\0' && rc == 0; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&':  rep = "&amp;";  break;
        case '<':  rep = "&lt;";   break;
        case '>':  rep = "&gt;";   break;
        case '"':  rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            /* control characters other than tab/newline are not allowed in XML 1.0 */
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
                rep = "?";
        }
        if (rep == NULL)
            continue;
        rc = buf_append(b, run, (size_t)(s - run));
        if (rc == 0)
            rc = buf_puts(b, rep);
        run = s + 1;
    }
    if (rc == 0)
        rc = buf_append(b, run, (size_t)(s - run));
    return rc;
}

int
buf_json_escaped(struct buf *b, const char *s)
{
    const char *run = s;
    int rc = 0;

    for (; *s != '\0' && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        rc = buf_append(b, run, (size_t)(s - run));
        if (rc != 0)
            break;
        switch (c) {
        case '"':  rc = buf_puts(b, "\\\""); break;
        case '\\': rc = buf_puts(b, "\\\\"); break;
        case '\n': rc = buf_puts(b, "\\n");  break;
        case '\r': rc = buf_puts(b, "\\r");  break;
        case '\t': rc = buf_puts(b, "\\t");  break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rc = buf_puts(b, esc);
        }
        run = s + 1;
    }
    if (rc == 0)
        rc = buf_append(b, run, (size_t)(s - run));
    return rc;
}

char *
buf_steal(struct buf *b, size_t *len)
{
    char *p = b->data;

    if (p == NULL) {
        p = calloc(1, 1);
        if (len != NULL)
            *len = 0;
        return p;
    }
    if (len != NULL)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
