/* util.c - strict parsing, bounded copies, time. */
#include "util.h"
#include "err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return ODS_E_PARSE;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return ODS_E_PARSE;
        unsigned d = (unsigned)(*s - '0');
        /* d > max first: max - d would wrap around for a one-digit max */
        if (d > max || v > (max - d) / 10)
            return ODS_E_TOOBIG;
        v = v * 10 + d;
    }
    *out = v;
    return ODS_E_OK;
}

int
parse_bool(const char *s, bool *out)
{
    if (s == NULL)
        return ODS_E_PARSE;
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
        *out = true;
        return ODS_E_OK;
    }
    if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
        *out = false;
        return ODS_E_OK;
    }
    return ODS_E_PARSE;
}

int
str_copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    if (n == 0)
        return ODS_E_TOOBIG;
    if (len >= n) {
        memcpy(dst, src, n - 1);
        dst[n - 1] = '\0';
        return ODS_E_TOOBIG;
    }
    memcpy(dst, src, len + 1);
    return ODS_E_OK;
}

int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fmt_iso8601(char *dst, size_t n, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    if (strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && n > 0)
        dst[0] = '\0';
}
