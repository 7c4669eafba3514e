/* test_util.c - strict number parsing in common/util.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "util.h"

static void
test_parse_u64(void **state)
{
    const struct {
        const char *s;
        uint64_t    max;
        int         rc;
        uint64_t    v;
    } cases[] = {
        { "0", 6, ODS_E_OK, 0 },
        { "6", 6, ODS_E_OK, 6 },
        { "7", 6, ODS_E_TOOBIG, 0 },        /* a digit above a one-digit max */
        { "9", 0, ODS_E_TOOBIG, 0 },
        { "60", 6, ODS_E_TOOBIG, 0 },
        { "100", 100, ODS_E_OK, 100 },
        { "101", 100, ODS_E_TOOBIG, 0 },
        { "18446744073709551615", UINT64_MAX, ODS_E_OK, UINT64_MAX },
        { "18446744073709551616", UINT64_MAX, ODS_E_TOOBIG, 0 },
        { "", 10, ODS_E_PARSE, 0 },
        { "-1", 10, ODS_E_PARSE, 0 },
        { "+1", 10, ODS_E_PARSE, 0 },
        { "1 ", 10, ODS_E_PARSE, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 12345;
        int rc = parse_u64(cases[i].s, cases[i].max, &v);
        if (rc != cases[i].rc)
            fail_msg("'%s' max %llu: got %s", cases[i].s, (unsigned long long)cases[i].max,
                err_name(rc));
        if (rc == ODS_E_OK)
            assert_int_equal(v, cases[i].v);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_u64),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
