/* test_vercmp_apk.c - Alpine version ordering. Two sources: apk-tools' own comparison
 * vectors (test/version.data, copied as tests/data/vercmp/apk_version.data; see
 * SOURCES.md), and a table of our own derived from the ordering apk-tools documents in
 * src/version.c ("Gentoo version: {digit}{.digit}...{letter}{_suf{#}}...{-r#}") and the
 * Alpine APKBUILD reference (pkgver/pkgrel): pre-release suffixes _alpha < _beta < _pre
 * < _rc < (release) < _cvs < _svn < _git < _hg < _p, and -rN last. */
#include "vercmp.h"
#include "vectors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_apk_tools_vectors(void **state)
{
    char path[512];
    struct vec_line l = { .path = path };
    FILE *fp = vec_open("vercmp/apk_version.data", path, sizeof(path));
    unsigned n = 0;

    (void)state;
    assert_non_null(fp);
    while (vec_next(fp, &l)) {
        bool known;
        int cmp;

        assert_int_equal(l.nf, 3);
        cmp = vercmp_apk_cmp(l.f[0], l.f[2]);
        if (!vec_op_holds(l.f[1], cmp, &known) || !known)
            fail_msg("%s:%u: %s %s %s does not hold (cmp = %d)", path, l.lineno, l.f[0],
                l.f[1], l.f[2], cmp);
        if (vec_sign(vercmp_apk_cmp(l.f[2], l.f[0])) != -vec_sign(cmp))
            fail_msg("%s:%u: not antisymmetric", path, l.lineno);
        n++;
    }
    fclose(fp);
    print_message("vercmp/apk_version.data: %u vectors pass\n", n);
    assert_int_equal(n, 729);
}

/* Each row is strictly older than the next: the documented ordering end to end. */
static const char *const ascending[] = {
    "0.9",
    "1.2_alpha",
    "1.2_alpha1",
    "1.2_alpha2",
    "1.2_beta",
    "1.2_beta1",
    "1.2_pre1",
    "1.2_rc1",
    "1.2_rc2",
    "1.2",                  /* the release */
    "1.2-r1",               /* package revisions */
    "1.2-r2",
    "1.2-r10",
    "1.2_cvs1",             /* post-release suffixes */
    "1.2_svn1",
    "1.2_git20240101",
    "1.2_hg1",
    "1.2_p1",
    "1.2_p2",
    "1.2_p2-r1",
    "1.2a",                 /* the optional letter */
    "1.2b",
    "1.2.1_rc1",
    "1.2.1",
    "1.2.2",
    "1.2.10",               /* numbers compare numerically */
    "1.3",
    "1.10",
    "2.0",
};

static void
test_documented_order(void **state)
{
    size_t n = sizeof(ascending) / sizeof(ascending[0]);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        assert_true(vercmp_apk_valid(ascending[i]));
        assert_int_equal(vercmp_apk_cmp(ascending[i], ascending[i]), 0);
        for (size_t j = i + 1; j < n; j++) {
            if (vercmp_apk_cmp(ascending[i], ascending[j]) >= 0 ||
                vercmp_apk_cmp(ascending[j], ascending[i]) <= 0)
                fail_msg("expected %s < %s", ascending[i], ascending[j]);
        }
    }
    print_message("documented order: %zu versions, %zu ordered pairs pass\n", n,
        n * (n - 1) / 2);
}

/* Pairs where apk's rules differ from a naive reading. */
static const struct own_case {
    const char *a, *b;
    int         want;
} own_cases[] = {
    { "1.0", "1.0-r0", -1 },        /* an explicit -r0 is more than none */
    { "1.01", "1.1", -1 },          /* a leading zero after '.' reads as a fraction */
    { "1.00", "1.0", -1 },
    { "1.0_alpha_pre2", "1.0_alpha", -1 },
    { "2.0_rc1", "1.9_p9", 1 },
    { "3.3.3p1-r3", "3.3.3p1-r2", 1 },  /* a letter may be followed by digits */
    /* XXX apk-tools 2.x quirk, kept because it is what apk does: a component that is
     * all zeros hands over to the next token without reading its separator, so a
     * suffix after ".0" is not seen as a pre-release: 1.0_alpha sorts after 1.0. */
    { "1.0_alpha", "1.0", 1 },
    { "1.1_alpha", "1.1", -1 },
};

static void
test_own_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(own_cases) / sizeof(own_cases[0]); i++) {
        int got = vercmp_apk_cmp(own_cases[i].a, own_cases[i].b);

        if (got != own_cases[i].want)
            fail_msg("cmp(%s, %s) = %d, expected %d", own_cases[i].a, own_cases[i].b, got,
                own_cases[i].want);
        assert_int_equal(vercmp(VERCMP_APK, own_cases[i].a, own_cases[i].b), got);
    }
}

static const struct valid_case {
    const char *v;
    bool        valid;
} valid_cases[] = {
    { "1.2.3", true },
    { "1.2.3-r0", true },
    { "1.2.3a_rc1_p2-r5", true },
    { "2.0_git20240101", true },
    { "", false },
    { "1.0-x", false },             /* '-' must introduce rN */
    { "1.0_foo", false },           /* unknown suffix */
    { "1.0bc", false },             /* one letter only */
    { "1.0-r1.2", false },
    { "1.0-", false },
};

static void
test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
        if (vercmp_apk_valid(valid_cases[i].v) != valid_cases[i].valid)
            fail_msg("valid(%s) != %d", valid_cases[i].v, valid_cases[i].valid);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apk_tools_vectors),
        cmocka_unit_test(test_documented_order),
        cmocka_unit_test(test_own_table),
        cmocka_unit_test(test_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
