/* util.h - small helpers shared by every program: strict number parsing,
 * bounded string copies, time. */
#ifndef ODSCAN_UTIL_H
#define ODSCAN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* parse_u64 parses a whole decimal string (no sign, no spaces, no leading '+')
 * into *out, refusing values above max. Returns 0, ODS_E_PARSE or ODS_E_TOOBIG. */
int parse_u64(const char *s, uint64_t max, uint64_t *out);
/* parse_bool accepts true/false/1/0 in any case. Returns 0 or ODS_E_PARSE. */
int parse_bool(const char *s, bool *out);
/* str_copy copies src into dst of size n, always NUL-terminating.
 * Returns 0, or ODS_E_TOOBIG when src was truncated. */
int str_copy(char *dst, size_t n, const char *src);
/* now_ms returns wall-clock milliseconds since the epoch. */
int64_t now_ms(void);
/* mono_ms returns monotonic milliseconds. */
int64_t mono_ms(void);
/* fmt_iso8601 writes ms-since-epoch as "2024-05-01T12:00:00Z" into dst (>= 21 bytes). */
void fmt_iso8601(char *dst, size_t n, int64_t ms);

#endif
