/* vercmp_rpm.c - RPM version ordering: rpm's rpmvercmp() (rpmio/rpmver.c) and the
 * epoch:version-release comparison built on it. */
#include "vercmp.h"

#include <string.h>

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* ASCII only, like rpm's risalpha(): bytes >= 0x80 are separators. */
static bool
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_sep(unsigned char c)
{
    return !is_digit(c) && !is_alpha(c) && c != '~' && c != '^';
}

/* rpmvercmp over spans [a, a+alen) and [b, b+blen). */
static int
segcmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i = 0, j = 0;

    if (alen == blen && memcmp(a, b, alen) == 0)
        return 0;
    while (i < alen || j < blen) {
        size_t si, sj, na, nb;
        bool isnum;
        int rc;

        while (i < alen && is_sep((unsigned char)a[i]))
            i++;
        while (j < blen && is_sep((unsigned char)b[j]))
            j++;

        /* '~' sorts before everything, even the end. */
        if ((i < alen && a[i] == '~') || (j < blen && b[j] == '~')) {
            if (i >= alen || a[i] != '~')
                return 1;
            if (j >= blen || b[j] != '~')
                return -1;
            i++;
            j++;
            continue;
        }
        /* '^' sorts after the end but before any other segment. */
        if ((i < alen && a[i] == '^') || (j < blen && b[j] == '^')) {
            if (i >= alen)
                return -1;
            if (j >= blen)
                return 1;
            if (a[i] != '^')
                return 1;
            if (b[j] != '^')
                return -1;
            i++;
            j++;
            continue;
        }
        if (i >= alen || j >= blen)
            break;

        si = i;
        sj = j;
        isnum = is_digit((unsigned char)a[i]);
        if (isnum) {
            while (i < alen && is_digit((unsigned char)a[i]))
                i++;
            while (j < blen && is_digit((unsigned char)b[j]))
                j++;
        } else {
            while (i < alen && is_alpha((unsigned char)a[i]))
                i++;
            while (j < blen && is_alpha((unsigned char)b[j]))
                j++;
        }
        /* Segments of different kinds: the numeric one is newer. */
        if (sj == j)
            return isnum ? 1 : -1;
        if (isnum) {
            while (si < i && a[si] == '0')
                si++;
            while (sj < j && b[sj] == '0')
                sj++;
            if (i - si != j - sj)
                return i - si > j - sj ? 1 : -1;
        }
        na = i - si;
        nb = j - sj;
        rc = memcmp(a + si, b + sj, na < nb ? na : nb);
        if (rc == 0 && na != nb)
            rc = na < nb ? -1 : 1;
        if (rc != 0)
            return rc < 0 ? -1 : 1;
    }
    if (i >= alen && j >= blen)
        return 0;
    return i >= alen ? -1 : 1;
}

int
vercmp_rpm_segcmp(const char *a, const char *b)
{
    return segcmp(a, strlen(a), b, strlen(b));
}

/* One of epoch, version, release: an empty one sorts before any non-empty one, which
 * is how a missing release sorts before a present (even empty) one. */
static int
component_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == 0 || blen == 0)
        return alen == blen ? 0 : (alen == 0 ? -1 : 1);
    return segcmp(a, alen, b, blen);
}

struct evr {
    const char *e;
    size_t      elen;
    const char *v;
    size_t      vlen;
    const char *r;      /* includes the '-' so that "1-" has a (present) release */
    size_t      rlen;
};

static void
split(const char *s, struct evr *x)
{
    const char *colon = strchr(s, ':');
    const char *hyphen;
    bool digits = colon != NULL;

    for (const char *p = s; digits && p < colon; p++)
        if (!is_digit((unsigned char)*p))
            digits = false;
    x->e = "0";
    x->elen = 1;
    if (digits) {
        if (colon > s) {
            x->e = s;
            x->elen = (size_t)(colon - s);
        }
        s = colon + 1;
    }
    hyphen = strchr(s, '-');
    x->v = s;
    if (hyphen != NULL) {
        x->vlen = (size_t)(hyphen - s);
        x->r = hyphen;
        x->rlen = strlen(hyphen);
    } else {
        x->vlen = strlen(s);
        x->r = "";
        x->rlen = 0;
    }
}

int
vercmp_rpm_cmp(const char *a, const char *b)
{
    struct evr x, y;
    int rc;

    split(a, &x);
    split(b, &y);
    rc = component_cmp(x.e, x.elen, y.e, y.elen);
    if (rc == 0)
        rc = component_cmp(x.v, x.vlen, y.v, y.vlen);
    if (rc == 0)
        rc = component_cmp(x.r, x.rlen, y.r, y.rlen);
    return rc;
}
