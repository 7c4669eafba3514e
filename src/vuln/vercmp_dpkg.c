/* vercmp_dpkg.c - Debian version parsing and ordering, as dpkg does it
 * (Debian Policy 5.6.12; dpkg's lib/dpkg/parsehelp.c and version.c). */
#include "vercmp.h"
#include "err.h"

#include <limits.h>
#include <string.h>

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* The weight of one character in the non-digit part: '~' before the end (0), the end
 * and digits next, letters, then everything else. */
static int
order(unsigned char c)
{
    if (is_digit(c))
        return 0;
    if (is_alpha(c))
        return c;
    if (c == '~')
        return -1;
    if (c != '\0')
        return c + 256;
    return 0;
}

/* dpkg's verrevcmp() over two spans. The spans are not NUL-terminated, so "the end" is
 * read as '\0' through at(). */
static int
verrevcmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;
#define AT(s, n, k) ((k) < (n) ? (unsigned char)(s)[k] : (unsigned char)'\0')

    while (i < alen || j < blen) {
        int first_diff = 0;

        while ((i < alen && !is_digit(AT(a, alen, i))) || (j < blen && !is_digit(AT(b, blen, j)))) {
            int ac = order(AT(a, alen, i));
            int bc = order(AT(b, blen, j));

            if (ac != bc)
                return ac - bc;
            i++;
            j++;
        }
        while (i < alen && a[i] == '0')
            i++;
        while (j < blen && b[j] == '0')
            j++;
        while (i < alen && j < blen && is_digit(AT(a, alen, i)) && is_digit(AT(b, blen, j))) {
            if (first_diff == 0)
                first_diff = (int)AT(a, alen, i) - (int)AT(b, blen, j);
            i++;
            j++;
        }
        if (i < alen && is_digit(AT(a, alen, i)))
            return 1;
        if (j < blen && is_digit(AT(b, blen, j)))
            return -1;
        if (first_diff != 0)
            return first_diff;
    }
    return 0;
#undef AT
}

int
vercmp_dpkg_parse(const char *s, struct vercmp_dpkg_parts *out)
{
    const char *end, *p, *colon, *hyphen;
    unsigned long epoch = 0;

    memset(out, 0, sizeof(*out));
    out->revision = "";
    if (s == NULL) {
        out->why = "version string is empty";
        return ODS_E_PARSE;
    }
    while (*s != '\0' && is_blank((unsigned char)*s))
        s++;
    if (*s == '\0') {
        out->why = "version string is empty";
        return ODS_E_PARSE;
    }
    for (end = s; *end != '\0' && !is_blank((unsigned char)*end); end++)
        ;
    for (p = end; *p != '\0' && is_blank((unsigned char)*p); p++)
        ;
    if (*p != '\0') {
        out->why = "version string has embedded spaces";
        return ODS_E_PARSE;
    }

    colon = memchr(s, ':', (size_t)(end - s));
    if (colon != NULL) {
        /* dpkg uses strtol here, which also takes a sign: "-1:" is "negative". */
        bool negative = false;

        p = s;
        if (*p == '-' || *p == '+') {
            negative = *p == '-';
            p++;
        }
        if (p == colon || !is_digit((unsigned char)*p)) {
            out->why = p == s || p == colon ? "epoch in version is empty"
                                            : "epoch in version is not number";
            return ODS_E_PARSE;
        }
        for (; p < colon; p++) {
            if (!is_digit((unsigned char)*p)) {
                out->why = "epoch in version is not number";
                return ODS_E_PARSE;
            }
            epoch = epoch * 10 + (unsigned long)(*p - '0');
            if (epoch > INT_MAX) {
                out->why = "epoch in version is too big";
                return ODS_E_PARSE;
            }
        }
        if (negative && epoch != 0) {
            out->why = "epoch in version is negative";
            return ODS_E_PARSE;
        }
        if (colon + 1 == end) {
            out->why = "nothing after colon in version number";
            return ODS_E_PARSE;
        }
        s = colon + 1;
    }
    out->epoch = (unsigned int)epoch;

    hyphen = NULL;
    for (p = s; p < end; p++)
        if (*p == '-')
            hyphen = p;
    out->upstream = s;
    if (hyphen != NULL) {
        out->upstream_len = (size_t)(hyphen - s);
        out->revision = hyphen + 1;
        out->revision_len = (size_t)(end - hyphen - 1);
        if (out->revision_len == 0) {
            out->why = "revision number is empty";
            return ODS_E_PARSE;
        }
    } else {
        out->upstream_len = (size_t)(end - s);
    }
    if (out->upstream_len == 0) {
        out->why = "upstream version is empty";
        return ODS_E_PARSE;
    }

    /* Past here dpkg only warns; --compare-versions goes on with the version. */
    if (!is_digit((unsigned char)out->upstream[0])) {
        out->warned = true;
        out->why = "version number does not start with digit";
        return ODS_E_OK;
    }
    for (size_t i = 1; i < out->upstream_len; i++) {
        unsigned char c = (unsigned char)out->upstream[i];
        if (!is_digit(c) && !is_alpha(c) && strchr(".-+~:", c) == NULL) {
            out->warned = true;
            out->why = "invalid character in version number";
            return ODS_E_OK;
        }
    }
    for (size_t i = 0; i < out->revision_len; i++) {
        unsigned char c = (unsigned char)out->revision[i];
        if (!is_digit(c) && !is_alpha(c) && strchr(".+~", c) == NULL) {
            out->warned = true;
            out->why = "invalid character in revision number";
            return ODS_E_OK;
        }
    }
    return ODS_E_OK;
}

/* The lenient split used for ordering: never fails. An epoch is only taken when the
 * text before the first ':' is all digits; its value is compared as a digit string so
 * that no length overflows. */
struct split {
    const char *epoch;
    size_t      epoch_len;
    const char *up;
    size_t      up_len;
    const char *rev;
    size_t      rev_len;
};

static void
split(const char *s, struct split *v)
{
    const char *end, *p, *hyphen = NULL;

    while (is_blank((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && is_blank((unsigned char)end[-1]))
        end--;

    v->epoch = "";
    v->epoch_len = 0;
    for (p = s; p < end && is_digit((unsigned char)*p); p++)
        ;
    if (p < end && *p == ':') {
        v->epoch = s;
        v->epoch_len = (size_t)(p - s);
        s = p + 1;
    }
    for (p = s; p < end; p++)
        if (*p == '-')
            hyphen = p;
    v->up = s;
    if (hyphen != NULL) {
        v->up_len = (size_t)(hyphen - s);
        v->rev = hyphen + 1;
        v->rev_len = (size_t)(end - hyphen - 1);
    } else {
        v->up_len = (size_t)(end - s);
        v->rev = "";
        v->rev_len = 0;
    }
}

static int
epoch_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    while (alen > 0 && *a == '0') {
        a++;
        alen--;
    }
    while (blen > 0 && *b == '0') {
        b++;
        blen--;
    }
    if (alen != blen)
        return alen < blen ? -1 : 1;
    if (alen == 0)
        return 0;
    return memcmp(a, b, alen);
}

int
vercmp_dpkg_cmp(const char *a, const char *b)
{
    struct split va, vb;
    int rc;

    split(a, &va);
    split(b, &vb);
    rc = epoch_cmp(va.epoch, va.epoch_len, vb.epoch, vb.epoch_len);
    if (rc != 0)
        return rc;
    rc = verrevcmp(va.up, va.up_len, vb.up, vb.up_len);
    if (rc != 0)
        return rc;
    return verrevcmp(va.rev, va.rev_len, vb.rev, vb.rev_len);
}
