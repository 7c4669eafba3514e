/* findings_diff.c - what store_findings_write has to write for one asset: its open
 * findings as stored against its new assessment, both sorted by (advisory, package) and
 * merged, so that a re-assessment that changes little writes little (store_impl.h). */
#include "store_impl.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

size_t
store_text_fit(const char *s, size_t max)
{
    size_t len = strnlen(s, max);

    if (len < max)
        return len;
    len = max - 1;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return len;
}

/* field_cmp compares two record fields as the store keeps them (cut by store_text_fit). */
static int
field_cmp(const char *a, const char *b, size_t max)
{
    size_t la = store_text_fit(a, max), lb = store_text_fit(b, max);
    int c = memcmp(a, b, la < lb ? la : lb);

    return c != 0 ? c : (la > lb) - (la < lb);
}

static int
key_cmp(const struct finding *a, const struct finding *b)
{
    int c = field_cmp(a->advisory_id, b->advisory_id, sizeof(a->advisory_id));

    return c != 0 ? c : field_cmp(a->package, b->package, sizeof(a->package));
}

/* Equal keys keep their order (by address, the pointers are into one array), so the
 * last of a duplicated key is found last. */
static int
by_key(const void *pa, const void *pb)
{
    const struct finding *a = *(const struct finding *const *)pa;
    const struct finding *b = *(const struct finding *const *)pb;
    int c = key_cmp(a, b);

    return c != 0 ? c : (a > b) - (a < b);
}

/* content_equal: the columns a PUT would rewrite (the key and the times aside). */
static bool
content_equal(const struct finding *a, const struct finding *b)
{
    return a->score10 == b->score10 &&
        field_cmp(a->aliases, b->aliases, sizeof(a->aliases)) == 0 &&
        field_cmp(a->installed_version, b->installed_version, sizeof(a->installed_version)) == 0 &&
        field_cmp(a->fixed_version, b->fixed_version, sizeof(a->fixed_version)) == 0 &&
        field_cmp(a->severity, b->severity, sizeof(a->severity)) == 0;
}

static const struct finding **
sorted(const struct finding *f, size_t n)
{
    const struct finding **p = calloc(n != 0 ? n : 1, sizeof(*p));

    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = &f[i];
    qsort(p, n, sizeof(*p), by_key);
    return p;
}

int
findings_diff(const struct finding *open, size_t nopen, const struct finding *now,
    size_t nnow, struct finding_change **out, size_t *n)
{
    const struct finding **o = NULL, **w = NULL;
    struct finding_change *ch = NULL;
    size_t i = 0, j = 0, k = 0;
    int rc = ODS_E_NOMEM;

    *out = NULL;
    *n = 0;
    /* at most one change per stored finding and one per assessed finding */
    if ((o = sorted(open, nopen)) == NULL || (w = sorted(now, nnow)) == NULL ||
        (ch = calloc(nopen + nnow != 0 ? nopen + nnow : 1, sizeof(*ch))) == NULL)
        goto out;
    while (i < nopen || j < nnow) {
        int c;

        if (j + 1 < nnow && key_cmp(w[j], w[j + 1]) == 0) {
            j++;        /* a key assessed twice: the last one counts */
            continue;
        }
        c = i == nopen ? 1 : j == nnow ? -1 : key_cmp(o[i], w[j]);
        if (c < 0) {
            ch[k++] = (struct finding_change){ FINDING_CLOSE, o[i++] };
        } else if (c > 0) {
            ch[k++] = (struct finding_change){ FINDING_PUT, w[j++] };
        } else {
            if (!content_equal(o[i], w[j]))
                ch[k++] = (struct finding_change){ FINDING_PUT, w[j] };
            i++;
            j++;
        }
    }
    *out = ch;
    *n = k;
    ch = NULL;
    rc = ODS_E_OK;
out:
    free(ch);
    free(w);
    free(o);
    return rc;
}
