/* test_vercmp_dpkg.c - dpkg version parsing and ordering against dpkg's own test
 * vectors, osv-scalibr's Debian vectors (tests/data/vercmp/SOURCES.md), a small table
 * of our own, and - when dpkg is installed - dpkg --compare-versions itself. */
#include "err.h"
#include "vercmp.h"
#include "vectors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

/* Check cmp(a, b) against an expected sign, and that the order is antisymmetric. */
static void
check_sign(const struct vec_line *l, const char *a, const char *b, int want)
{
    int got = vec_sign(vercmp_dpkg_cmp(a, b));
    int rev = vec_sign(vercmp_dpkg_cmp(b, a));

    if (got != want || rev != -want)
        fail_msg("%s:%u: cmp(%s, %s) = %d (reverse %d), expected %d", l->path, l->lineno,
            a, b, got, rev, want);
}

/* Files of "a <op> b" lines; returns how many vectors passed. */
static unsigned
run_op_file(const char *rel)
{
    char path[512];
    struct vec_line l = { .path = path };
    FILE *fp = vec_open(rel, path, sizeof(path));
    unsigned n = 0;

    if (fp == NULL)
        fail_msg("cannot open %s", rel);
    while (vec_next(fp, &l)) {
        bool known;
        int cmp;

        if (l.nf != 3)
            fail_msg("%s:%u: expected 'a op b'", path, l.lineno);
        cmp = vercmp_dpkg_cmp(l.f[0], l.f[2]);
        if (!vec_op_holds(l.f[1], cmp, &known) || !known)
            fail_msg("%s:%u: %s %s %s does not hold (cmp = %d)", path, l.lineno, l.f[0],
                l.f[1], l.f[2], cmp);
        /* The reverse must hold with the mirrored operator. */
        int rcmp = vercmp_dpkg_cmp(l.f[2], l.f[0]);
        if (vec_sign(rcmp) != -vec_sign(cmp))
            fail_msg("%s:%u: cmp not antisymmetric", path, l.lineno);
        n++;
    }
    fclose(fp);
    print_message("%s: %u vectors pass\n", rel, n);
    return n;
}

static void
test_dpkg_version_cmp(void **state)
{
    char path[512];
    struct vec_line l = { .path = path };
    FILE *fp = vec_open("vercmp/dpkg_version_cmp.txt", path, sizeof(path));
    unsigned n = 0;

    (void)state;
    assert_non_null(fp);
    while (vec_next(fp, &l)) {
        assert_int_equal(l.nf, 3);
        check_sign(&l, l.f[0], l.f[1], (int)strtol(l.f[2], NULL, 10));
        n++;
    }
    fclose(fp);
    print_message("vercmp/dpkg_version_cmp.txt: %u vectors pass\n", n);
    assert_int_equal(n, 43);
}

static void
test_dpkg_t_version_compare(void **state)
{
    (void)state;
    assert_int_equal(run_op_file("vercmp/dpkg_t-version_c_compare.txt"), 18);
}

static void
test_scalibr_debian(void **state)
{
    (void)state;
    assert_true(run_op_file("vercmp/osv-scalibr/debian-versions.txt") == 30);
}

static void
test_scalibr_debian_generated(void **state)
{
    (void)state;
    assert_true(run_op_file("vercmp/osv-scalibr/debian-versions-generated.txt") == 14442);
}

/* dpkg's parse vectors: "<JSON string>\t<epoch|upstream|revision | ERROR | WARN>". */
static void
test_dpkg_parse(void **state)
{
    char path[512], line[VEC_LINE_MAX];
    FILE *fp = vec_open("vercmp/dpkg_t-version_c_parse.txt", path, sizeof(path));
    unsigned lineno = 0, n = 0;

    (void)state;
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *tab, want[VEC_LINE_MAX], got[VEC_LINE_MAX];
        struct vercmp_dpkg_parts parts;
        json_error_t jerr;
        json_t *js;
        int rc;

        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        tab = strrchr(line, '\t');
        if (tab == NULL)
            continue;
        *tab = '\0';
        snprintf(want, sizeof(want), "%s", tab + 1);
        js = json_loads(line, JSON_DECODE_ANY, &jerr);
        if (js == NULL || !json_is_string(js))
            fail_msg("%s:%u: bad JSON string", path, lineno);
        rc = vercmp_dpkg_parse(json_string_value(js), &parts);
        if (strcmp(want, "ERROR") == 0) {
            if (rc != ODS_E_PARSE || parts.why == NULL)
                fail_msg("%s:%u: %s accepted, expected an error", path, lineno, line);
        } else if (strcmp(want, "WARN") == 0) {
            if (rc != 0 || !parts.warned || parts.why == NULL)
                fail_msg("%s:%u: %s: rc %d warned %d, expected a warning", path, lineno,
                    line, rc, parts.warned);
            /* dpkg --compare-versions goes on with a warned version. */
            assert_true(vercmp_valid(VERCMP_DPKG, json_string_value(js)));
        } else {
            if (rc != 0 || parts.warned)
                fail_msg("%s:%u: %s: rc %d (%s)", path, lineno, line, rc,
                    parts.why != NULL ? parts.why : "-");
            snprintf(got, sizeof(got), "%u|%.*s|%.*s", parts.epoch, (int)parts.upstream_len,
                parts.upstream, (int)parts.revision_len, parts.revision);
            if (strcmp(got, want) != 0)
                fail_msg("%s:%u: %s parsed as %s, expected %s", path, lineno, line, got, want);
        }
        json_decref(js);
        n++;
    }
    fclose(fp);
    print_message("vercmp/dpkg_t-version_c_parse.txt: %u vectors pass\n", n);
    assert_int_equal(n, 80);
}

/* Cases of our own for the rules the vector files touch lightly (Policy 5.6.12). */
static const struct own_case {
    const char *a, *b;
    int         want;
} own_cases[] = {
    { "1.0~rc1", "1.0", -1 },           /* '~' before the end */
    { "1.0~~", "1.0~", -1 },            /* and before another '~' */
    { "1.0", "1.0+a", -1 },
    { "1.0a", "1.0+", -1 },             /* letters before non-letters */
    { "1.0.", "1.0a", 1 },              /* ... so '.' after 'a' */
    { "1.2", "1.10", -1 },              /* digit runs compare numerically */
    { "1.002", "1.2", 0 },
    { "1:0.1", "2.0", 1 },              /* epoch first */
    { "00001:1.0", "1:1.0", 0 },
    { "99999999999999999999:1", "99999999999999999998:1", 1 }, /* no overflow */
    { "1.0-1", "1.0-1~bpo1", 1 },
    { "1.0", "1.0-0", 0 },              /* no revision = revision "0" */
    { " 1.0 ", "1.0", 0 },              /* blanks trimmed like dpkg */
    { "2.36-9+deb12u3", "2.36-9+deb12u10", -1 },
    { "7.88.1-10+deb12u4", "7.88.1-10+deb12u12", -1 },
};

static void
test_own_table(void **state)
{
    struct vec_line l = { .path = "own_cases" };

    (void)state;
    for (size_t i = 0; i < sizeof(own_cases) / sizeof(own_cases[0]); i++) {
        l.lineno = (unsigned)i;
        check_sign(&l, own_cases[i].a, own_cases[i].b, own_cases[i].want);
    }
    assert_int_equal(vercmp(VERCMP_DPKG, "1.0", "1.1"), vercmp_dpkg_cmp("1.0", "1.1"));
    assert_false(vercmp_valid(VERCMP_DPKG, ""));
    assert_false(vercmp_valid(VERCMP_DPKG, "a:1"));
    assert_true(vercmp_valid(VERCMP_DPKG, "1:2.3-4"));
}

/* ---- against dpkg itself ----------------------------------------------------- */

#define RANDOM_PAIRS 2000

/* A fixed-seed generator, so a failure is reproducible. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Pieces that exercise every rule: digit runs with leading zeros, letters, '~', '+',
 * '.', case. Versions are kept valid for dpkg (no error, maybe a warning). */
static const char *const pieces[] = {
    "0", "1", "2", "9", "10", "01", "001", "12", "a", "b", "z", "A", "Z", "~", "~~",
    "+", ".", "rc", "dfsg", "deb12u", "~bpo", "+b", "p", "..",
};

static void
gen_version(char *out, size_t n)
{
    size_t len = 0, npieces = sizeof(pieces) / sizeof(pieces[0]);
    int k;

    out[0] = '\0';
    if (rng() % 4 == 0)
        len += (size_t)snprintf(out, n, "%u:", rng() % 3);
    len += (size_t)snprintf(out + len, n - len, "%u", rng() % 4);
    for (k = (int)(rng() % 5); k > 0; k--)
        len += (size_t)snprintf(out + len, n - len, "%s", pieces[rng() % npieces]);
    if (rng() % 2 == 0) {
        len += (size_t)snprintf(out + len, n - len, "-%u", rng() % 3);
        for (k = (int)(rng() % 3); k > 0; k--)
            len += (size_t)snprintf(out + len, n - len, "%s", pieces[rng() % npieces]);
    }
}

static void
test_against_dpkg(void **state)
{
    static char a[RANDOM_PAIRS][64], b[RANDOM_PAIRS][64];
    char path[512], cmd[1024], line[16];
    const char *tmp = getenv("TMPDIR");
    FILE *fp, *out;
    unsigned i, n = 0;
    int fd;

    (void)state;
    if (system("command -v dpkg >/dev/null 2>&1") != 0) {
        print_message("dpkg not installed: comparison against dpkg skipped\n");
        skip();
    }
    snprintf(path, sizeof(path), "%s/vercmp_pairs_XXXXXX", tmp != NULL ? tmp : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fp = fdopen(fd, "w");
    assert_non_null(fp);
    for (i = 0; i < RANDOM_PAIRS; i++) {
        struct vercmp_dpkg_parts pa, pb;

        do {
            gen_version(a[i], sizeof(a[i]));
            gen_version(b[i], sizeof(b[i]));
        } while (vercmp_dpkg_parse(a[i], &pa) != 0 || vercmp_dpkg_parse(b[i], &pb) != 0);
        /* Every tenth pair compares a version with a near twin. */
        if (i % 10 == 0)
            snprintf(b[i], sizeof(b[i]), "%s", a[i]);
        fprintf(fp, "%s %s\n", a[i], b[i]);
    }
    assert_int_equal(fclose(fp), 0);

    /* One shell for all pairs: gt/eq/lt answered by dpkg's exit status. */
    snprintf(cmd, sizeof(cmd),
        "while read a b; do if dpkg --compare-versions \"$a\" lt \"$b\" 2>/dev/null; "
        "then echo '<'; elif dpkg --compare-versions \"$a\" eq \"$b\" 2>/dev/null; "
        "then echo '='; else echo '>'; fi; done < '%s'", path);
    out = popen(cmd, "r");
    assert_non_null(out);
    for (i = 0; i < RANDOM_PAIRS && fgets(line, sizeof(line), out) != NULL; i++) {
        int want = line[0] == '<' ? -1 : line[0] == '=' ? 0 : 1;
        int got = vec_sign(vercmp_dpkg_cmp(a[i], b[i]));

        if (got != want)
            fail_msg("dpkg says %s %c %s, vercmp_dpkg_cmp says %d", a[i], line[0], b[i], got);
        n++;
    }
    pclose(out);
    unlink(path);
    print_message("dpkg --compare-versions: %u random pairs agree\n", n);
    assert_int_equal(n, RANDOM_PAIRS);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dpkg_version_cmp),
        cmocka_unit_test(test_dpkg_t_version_compare),
        cmocka_unit_test(test_dpkg_parse),
        cmocka_unit_test(test_scalibr_debian),
        cmocka_unit_test(test_scalibr_debian_generated),
        cmocka_unit_test(test_own_table),
        cmocka_unit_test(test_against_dpkg),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
