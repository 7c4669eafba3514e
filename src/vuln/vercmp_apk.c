/* vercmp_apk.c - Alpine package version ordering, following apk-tools' tokeniser
 * (src/version.c): numbers, one letter, _suffix[N], -rN. */
#include "vercmp.h"

#include <string.h>

/* Token kinds in the order apk-tools gives them: a version may only move forward
 * through this list (with the few exceptions in next_token()). */
enum token {
    T_INVALID = -1,
    T_DIGIT_OR_ZERO,     /* a component after '.' */
    T_DIGIT,
    T_LETTER,
    T_SUFFIX,
    T_SUFFIX_NO,
    T_REVISION_NO,
    T_END,
};

/* Suffix tables: position gives the order; pre-release suffixes are negative. */
static const char *const pre_suffixes[] = { "alpha", "beta", "pre", "rc" };
static const char *const post_suffixes[] = { "cvs", "svn", "git", "hg", "p" };
#define NPRE  (sizeof(pre_suffixes) / sizeof(pre_suffixes[0]))
#define NPOST (sizeof(post_suffixes) / sizeof(post_suffixes[0]))

struct cursor {
    const char *p;
    size_t      len;
};

static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static void
advance(struct cursor *c, size_t n)
{
    c->p += n;
    c->len -= n;
}

/* Decide the kind of the next token from the separator at c (consuming it). */
static void
next_token(enum token *type, struct cursor *c)
{
    enum token n = T_INVALID;

    if (c->len == 0 || c->p[0] == '\0') {
        n = T_END;
    } else if ((*type == T_DIGIT || *type == T_DIGIT_OR_ZERO) && is_lower((unsigned char)c->p[0])) {
        n = T_LETTER;
    } else if (*type == T_LETTER && is_digit((unsigned char)c->p[0])) {
        n = T_DIGIT;
    } else if (*type == T_SUFFIX && is_digit((unsigned char)c->p[0])) {
        n = T_SUFFIX_NO;
    } else {
        switch (c->p[0]) {
        case '.':
            n = T_DIGIT_OR_ZERO;
            break;
        case '_':
            n = T_SUFFIX;
            break;
        case '-':
            if (c->len > 1 && c->p[1] == 'r') {
                n = T_REVISION_NO;
                advance(c, 1);
            }
            break;
        default:
            break;
        }
        advance(c, 1);
    }
    if (n < *type) {
        if (!((n == T_DIGIT_OR_ZERO && *type == T_DIGIT) ||
              (n == T_SUFFIX && *type == T_SUFFIX_NO) ||
              (n == T_DIGIT && *type == T_LETTER)))
            n = T_INVALID;
    }
    *type = n;
}

static bool
has_prefix(const struct cursor *c, const char *s, size_t *n)
{
    *n = strlen(s);
    return *n <= c->len && memcmp(c->p, s, *n) == 0;
}

/* Read the value of a token of kind *type and find the kind of the next. Values are
 * clamped so that absurd digit runs cannot overflow. */
static long
get_token(enum token *type, struct cursor *c)
{
    long v = 0;
    size_t i = 0, n;
    enum token nt = T_INVALID;

    if (c->len == 0) {
        *type = T_END;
        return 0;
    }
    switch (*type) {
    case T_DIGIT_OR_ZERO:
        /* Leading zeros after a dot: ".01" sorts before ".1" (a decimal fraction). */
        if (c->p[0] == '0') {
            while (i < c->len && c->p[i] == '0')
                i++;
            nt = T_DIGIT;
            v = -(long)(i > 1000000 ? 1000000 : i);
            break;
        }
        /* fall through */
    case T_DIGIT:
    case T_SUFFIX_NO:
    case T_REVISION_NO:
        while (i < c->len && is_digit((unsigned char)c->p[i])) {
            if (v < 100000000000000L)
                v = v * 10 + (c->p[i] - '0');
            i++;
        }
        break;
    case T_LETTER:
        v = (unsigned char)c->p[i++];
        break;
    case T_SUFFIX:
        for (size_t k = 0; k < NPRE; k++)
            if (has_prefix(c, pre_suffixes[k], &n)) {
                v = (long)k - (long)NPRE;
                i = n;
                goto done;
            }
        for (size_t k = 0; k < NPOST; k++)
            if (has_prefix(c, post_suffixes[k], &n)) {
                v = (long)k;
                i = n;
                goto done;
            }
        /* an unknown suffix */
        *type = T_INVALID;
        return -1;
    default:
        *type = T_INVALID;
        return -1;
    }
done:
    advance(c, i);
    if (c->len == 0)
        *type = T_END;
    else if (nt != T_INVALID)
        *type = nt;
    else
        next_token(type, c);
    return v;
}

int
vercmp_apk_cmp(const char *a, const char *b)
{
    struct cursor ca = { a, strlen(a) }, cb = { b, strlen(b) };
    enum token at = T_DIGIT, bt = T_DIGIT, tt;
    long av = 0, bv = 0;

    while (at == bt && at != T_END && at != T_INVALID && av == bv) {
        av = get_token(&at, &ca);
        bv = get_token(&bt, &cb);
    }
    if (av < bv)
        return -1;
    if (av > bv)
        return 1;
    if (at == bt)
        return 0;

    /* Equal so far and one goes on: the longer is newer unless what follows is a
     * pre-release suffix. */
    tt = at;
    if (at == T_SUFFIX && get_token(&tt, &ca) < 0)
        return -1;
    tt = bt;
    if (bt == T_SUFFIX && get_token(&tt, &cb) < 0)
        return 1;
    if (at > bt)
        return -1;
    if (bt > at)
        return 1;
    return 0;
}

bool
vercmp_apk_valid(const char *s)
{
    struct cursor c = { s, strlen(s) };
    enum token t = T_DIGIT;

    if (c.len == 0)
        return false;
    while (t != T_END && t != T_INVALID)
        get_token(&t, &c);
    return t == T_END;
}
