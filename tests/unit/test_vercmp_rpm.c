/* test_vercmp_rpm.c - rpmvercmp against rpm's own active test vectors and the EVR
 * comparison against osv-scalibr's Red Hat vectors (tests/data/vercmp/SOURCES.md).
 * rpmvercmp_disabled_oddities.txt (non-ASCII input that rpm itself leaves undefined and
 * does not run) is deliberately not required. */
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
test_rpmvercmp(void **state)
{
    char path[512];
    struct vec_line l = { .path = path };
    FILE *fp = vec_open("vercmp/rpmvercmp.txt", path, sizeof(path));
    unsigned n = 0;

    (void)state;
    assert_non_null(fp);
    while (vec_next(fp, &l)) {
        int want, got, rev;

        assert_int_equal(l.nf, 3);
        want = (int)strtol(l.f[2], NULL, 10);
        got = vercmp_rpm_segcmp(l.f[0], l.f[1]);
        rev = vercmp_rpm_segcmp(l.f[1], l.f[0]);
        if (got != want || rev != -want)
            fail_msg("%s:%u: rpmvercmp(%s, %s) = %d (reverse %d), expected %d", path,
                l.lineno, l.f[0], l.f[1], got, rev, want);
        n++;
    }
    fclose(fp);
    print_message("vercmp/rpmvercmp.txt: %u vectors pass\n", n);
    assert_int_equal(n, 91);
}

static void
test_scalibr_redhat(void **state)
{
    char path[512];
    struct vec_line l = { .path = path };
    FILE *fp = vec_open("vercmp/osv-scalibr/redhat-versions.txt", path, sizeof(path));
    unsigned n = 0;

    (void)state;
    assert_non_null(fp);
    while (vec_next(fp, &l)) {
        bool known;
        int cmp;

        assert_int_equal(l.nf, 3);
        cmp = vercmp_rpm_cmp(l.f[0], l.f[2]);
        if (!vec_op_holds(l.f[1], cmp, &known) || !known)
            fail_msg("%s:%u: %s %s %s does not hold (cmp = %d)", path, l.lineno, l.f[0],
                l.f[1], l.f[2], cmp);
        if (vec_sign(vercmp_rpm_cmp(l.f[2], l.f[0])) != -vec_sign(cmp))
            fail_msg("%s:%u: not antisymmetric", path, l.lineno);
        n++;
    }
    fclose(fp);
    print_message("vercmp/osv-scalibr/redhat-versions.txt: %u vectors pass\n", n);
    assert_int_equal(n, 165);
}

/* EVR rules of our own, with the reason each matters for advisories. */
static const struct own_case {
    const char *a, *b;
    int         want;
} own_cases[] = {
    { "0:1.0-1.el9", "1.0-1.el9", 0 },          /* epoch defaults to 0 */
    { "1:1.0-1.el9", "2.0-1.el9", 1 },          /* epoch first */
    { "1.0-1.el9", "1.0-1.el9_1", -1 },         /* z-stream release */
    { "3.0.7-24.el9", "3.0.7-27.el9_4.1", -1 },
    { "1.0~rc1-1", "1.0-1", -1 },
    { "1.0^post1-1", "1.0-1", 1 },              /* rpm >= 4.15 caret */
    { "1.0^post1-1", "1.0.1-1", -1 },
    { "2.28-225.el8", "2.28-225.el8_8.6", -1 },
    { "1.0", "1.0-1", -1 },                     /* no release before any release */
};

static void
test_own_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(own_cases) / sizeof(own_cases[0]); i++) {
        int got = vercmp_rpm_cmp(own_cases[i].a, own_cases[i].b);

        if (got != own_cases[i].want)
            fail_msg("cmp(%s, %s) = %d, expected %d", own_cases[i].a, own_cases[i].b, got,
                own_cases[i].want);
        assert_int_equal(vercmp(VERCMP_RPM, own_cases[i].a, own_cases[i].b), got);
    }
    assert_false(vercmp_valid(VERCMP_RPM, ""));
    assert_true(vercmp_valid(VERCMP_RPM, "1.0-1.el9"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rpmvercmp),
        cmocka_unit_test(test_scalibr_redhat),
        cmocka_unit_test(test_own_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
