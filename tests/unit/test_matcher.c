/* test_matcher.c - OSV "is it affected" semantics through the matcher: introduced /
 * fixed, last_affected, limit, several ranges, explicit versions, withdrawn records,
 * the reported fix, source lookup for Debian against binary lookup for Alpine, and the
 * tracker's undetermined mark. Advisories are written inline as OSV JSON. */
#include "err.h"
#include "matcher.h"
#include "osv.h"
#include "debtracker.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define HDR(id) "{\"id\":\"" id "\",\"modified\":\"2024-01-01T00:00:00Z\","
#define AFF(eco, pkg, rest) "{\"package\":{\"ecosystem\":\"" eco "\",\"name\":\"" pkg "\"}" rest "}"
#define RANGE(ev) "{\"type\":\"ECOSYSTEM\",\"events\":[" ev "]}"

static const char *const records[] = {
    /* A plain fix, with an alias and a severity. */
    HDR("T-FIXED") "\"aliases\":[\"CVE-2024-1000\"],"
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
    "\"affected\":[" AFF("Debian:12", "openssl", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"},{\"fixed\":\"3.0.11-1~deb12u2\"}") "]") "]}",
    /* Introduced later than the beginning. */
    HDR("T-INTRO") "\"affected\":[" AFF("Debian:12", "openssl", ",\"ranges\":[" RANGE("{\"introduced\":\"3.0.9-1\"},{\"fixed\":\"3.0.13-1~deb12u1\"}") "]") "]}",
    /* last_affected: up to and including. */
    HDR("T-LAST") "\"affected\":[" AFF("Debian:12", "zlib", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"},{\"last_affected\":\"1:1.2.13.dfsg-1\"}") "]") "]}",
    /* limit: never at or above it. */
    HDR("T-LIMIT") "\"affected\":[" AFF("Debian:12", "zlib", ",\"ranges\":[" RANGE("{\"introduced\":\"1:1.2.11\"},{\"limit\":\"1:1.2.12\"}") "]") "]}",
    /* Two windows in one range, and a second range. Events deliberately unsorted. */
    HDR("T-MULTI") "\"affected\":[" AFF("Debian:12", "curl", ",\"ranges\":["
        RANGE("{\"fixed\":\"7.50\"},{\"introduced\":\"7.10\"},{\"introduced\":\"7.80\"},{\"fixed\":\"7.88.1-10+deb12u5\"}") ","
        RANGE("{\"introduced\":\"8.0\"},{\"fixed\":\"8.5.0-2\"}") "]") "]}",
    /* Only an explicit versions list. */
    HDR("T-VERSIONS") "\"affected\":[" AFF("Debian:12", "bash", ",\"versions\":[\"5.2.15-2\",\"5.2.15-2+b1\"]") "]}",
    /* Withdrawn: never matched. */
    HDR("T-WITHDRAWN") "\"withdrawn\":\"2024-02-01T00:00:00Z\","
    "\"affected\":[" AFF("Debian:12", "openssl", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"}") "]") "]}",
    /* Another release: not matched on Debian:12. */
    HDR("T-OTHER-RELEASE") "\"affected\":[" AFF("Debian:11", "openssl", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"}") "]") "]}",
    /* Alpine names binary packages; the fix is in apk order. */
    HDR("T-ALPINE") "\"affected\":[" AFF("Alpine:v3.18", "busybox", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"},{\"fixed\":\"1.36.1-r5\"}") "]") "]}",
    /* Alpine: a name that is only the origin (source) of the installed package. */
    HDR("T-ALPINE-ORIGIN") "\"affected\":[" AFF("Alpine:v3.18", "busybox-origin", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"}") "]") "]}",
    /* A family-wide record (no release) and a per-entry severity. */
    HDR("T-ANY-RELEASE") "\"affected\":[" AFF("Debian", "bash", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"},{\"fixed\":\"5.2.21-1\"}") "],"
        "\"severity\":[{\"type\":\"Ubuntu\",\"score\":\"low\"}]") "]}",
    /* Rocky uses rpm ordering. */
    HDR("T-ROCKY") "\"affected\":[" AFF("Rocky Linux:9", "openssl", ",\"ranges\":[" RANGE("{\"introduced\":\"0\"},{\"fixed\":\"1:3.0.7-27.el9\"}") "]") "]}",
};

struct hit {
    char   id[64];
    char   package[64];
    char   fixed[64];
    size_t index;
    int    score10;
    bool   undetermined;
};

struct hits {
    struct hit h[64];
    size_t     n;
};

static int
collect(const struct matcher_finding *f, void *arg)
{
    struct hits *hs = arg;
    struct hit *h;

    if (hs->n == sizeof(hs->h) / sizeof(hs->h[0]))
        return ODS_E_TOOBIG;
    h = &hs->h[hs->n++];
    snprintf(h->id, sizeof(h->id), "%s", f->advisory->id);
    snprintf(h->package, sizeof(h->package), "%s", f->package);
    snprintf(h->fixed, sizeof(h->fixed), "%s", f->fixed_version != NULL ? f->fixed_version : "-");
    h->index = f->package_index;
    h->score10 = f->severity->score10;
    h->undetermined = f->undetermined;
    return 0;
}

static const struct hit *
hit_of(const struct hits *hs, const char *id)
{
    for (size_t i = 0; i < hs->n; i++)
        if (strcmp(hs->h[i].id, id) == 0)
            return &hs->h[i];
    return NULL;
}

static struct advisory_set set;
static struct matcher *index_;

static int
setup(void **state)
{
    (void)state;
    advisory_set_init(&set);
    for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
        struct advisory *adv = NULL;
        char why[OSV_WHY_MAX];

        if (osv_parse(records[i], strlen(records[i]), &adv, why, sizeof(why)) != 0) {
            fprintf(stderr, "record %zu: %s\n", i, why);
            return -1;
        }
        if (advisory_set_add(&set, adv) != 0)
            return -1;
    }
    return matcher_build(&set, &index_) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    matcher_free(index_);
    advisory_set_free(&set);
    return 0;
}

/* One package version against the index: which advisory ids hit, with which fix. */
static const struct version_case {
    const char *ecosystem;
    const char *name;
    const char *version;
    const char *want;       /* "ID=fix ID=fix", fix "-" when none, "" for no hit */
} version_cases[] = {
    /* introduced 0 / fixed */
    { "Debian:12", "openssl", "3.0.9-1~deb12u1", "T-FIXED=3.0.11-1~deb12u2" },
    { "Debian:12", "openssl", "3.0.11-1~deb12u1", "T-FIXED=3.0.11-1~deb12u2 T-INTRO=3.0.13-1~deb12u1" },
    { "Debian:12", "openssl", "3.0.11-1~deb12u2", "T-INTRO=3.0.13-1~deb12u1" },
    { "Debian:12", "openssl", "3.0.13-1~deb12u1", "" },
    { "Debian:12", "openssl", "3.0.9-1", "T-FIXED=3.0.11-1~deb12u2 T-INTRO=3.0.13-1~deb12u1" },
    /* last_affected and limit */
    { "Debian:12", "zlib", "1:1.2.13.dfsg-1", "T-LAST=-" },
    { "Debian:12", "zlib", "1:1.2.13.dfsg-1+deb12u1", "" },
    { "Debian:12", "zlib", "1:1.2.11.dfsg-2", "T-LAST=- T-LIMIT=-" },
    { "Debian:12", "zlib", "1:1.2.12", "T-LAST=-" },
    { "Debian:12", "zlib", "1:1.2.10", "T-LAST=-" },
    /* two windows and a second range */
    { "Debian:12", "curl", "7.9", "" },
    { "Debian:12", "curl", "7.10", "T-MULTI=7.50" },
    { "Debian:12", "curl", "7.50", "" },
    { "Debian:12", "curl", "7.88.1-10+deb12u4", "T-MULTI=7.88.1-10+deb12u5" },
    { "Debian:12", "curl", "7.88.1-10+deb12u5", "" },
    { "Debian:12", "curl", "8.4.0-2", "T-MULTI=8.5.0-2" },
    { "Debian:12", "curl", "8.5.0-2", "" },
    /* explicit versions (equality under dpkg rules), plus the family-wide record */
    { "Debian:12", "bash", "5.2.15-2", "T-VERSIONS=- T-ANY-RELEASE=5.2.21-1" },
    { "Debian:12", "bash", "5.2.015-2", "T-VERSIONS=- T-ANY-RELEASE=5.2.21-1" },
    { "Debian:12", "bash", "5.2.15-3", "T-ANY-RELEASE=5.2.21-1" },
    { "Debian:13", "bash", "5.2.21-1", "" },
    /* other release */
    { "Debian:11", "openssl", "1.1.1w-0+deb11u1", "T-OTHER-RELEASE=-" },
    /* Alpine and Rocky orderings */
    { "Alpine:v3.18", "busybox", "1.36.1-r4", "T-ALPINE=1.36.1-r5" },
    { "Alpine:v3.18", "busybox", "1.36.1-r15", "" },
    { "Alpine:v3.19", "busybox", "1.36.1-r4", "" },
    { "Rocky Linux:9", "openssl", "1:3.0.7-24.el9", "T-ROCKY=1:3.0.7-27.el9" },
    { "Rocky Linux:9", "openssl", "1:3.0.7-27.el9", "" },
    { "Rocky Linux:9", "openssl", "3.2.2-6.el9", "T-ROCKY=1:3.0.7-27.el9" },  /* epoch 0 < 1 */
};

static void
test_versions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]); i++) {
        const struct version_case *c = &version_cases[i];
        struct matcher_package p = { c->name, c->version, NULL, NULL };
        struct hits hs = { .n = 0 };
        char got[512] = "";
        size_t len = 0, n = 0;

        assert_int_equal(matcher_assess(index_, c->ecosystem, &p, 1, collect, &hs, &n), 0);
        assert_int_equal(n, hs.n);
        for (size_t k = 0; k < hs.n; k++)
            len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s=%s", k ? " " : "",
                hs.h[k].id, hs.h[k].fixed);
        /* Order follows the index; compare as sets of words. */
        {
            char want[512];
            size_t nw = 0;
            char *save = NULL;

            snprintf(want, sizeof(want), "%s", c->want);
            for (char *w = strtok_r(want, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
                nw++;
                if (strstr(got, w) == NULL)
                    fail_msg("%s %s %s: got '%s', expected '%s'", c->ecosystem, c->name,
                        c->version, got, c->want);
            }
            if (nw != hs.n)
                fail_msg("%s %s %s: got '%s', expected '%s'", c->ecosystem, c->name, c->version,
                    got, c->want);
        }
    }
    print_message("%zu version cases pass\n", sizeof(version_cases) / sizeof(version_cases[0]));
}

static void
test_host(void **state)
{
    /* Debian: binaries are found through their source package and version. */
    const struct matcher_package debian[] = {
        { "libssl3", "3.0.11-1~deb12u1+b1", "openssl", "3.0.11-1~deb12u1" },
        { "openssl", "3.0.11-1~deb12u1", "", "" },
        { "curl", "7.88.1-10+deb12u5", NULL, NULL },
        { "busybox", "1.36.1-r4", NULL, NULL },             /* not a Debian record */
    };
    const struct matcher_package alpine[] = {
        { "busybox", "1.36.1-r4", "busybox-origin", "1.36.1-r4" },
        { "ssl_client", "1.36.1-r4", "busybox", "1.36.1-r4" },
    };
    struct hits hs = { .n = 0 };
    const struct hit *h;
    size_t n;

    (void)state;
    assert_int_equal(matcher_assess(index_, "Debian:12", debian, 4, collect, &hs, &n), 0);
    assert_int_equal(n, 4);     /* T-FIXED and T-INTRO, for each of two packages */
    h = hit_of(&hs, "T-FIXED");
    assert_non_null(h);
    assert_int_equal(h->index, 0);
    assert_string_equal(h->package, "openssl");
    assert_int_equal(h->score10, 98);
    assert_null(hit_of(&hs, "T-WITHDRAWN"));
    assert_true(set.items[0]->n_aliases == 1 && strcmp(set.items[0]->aliases[0], "CVE-2024-1000") == 0);

    /* Alpine: binary names only; the origin name is not looked up. */
    hs.n = 0;
    assert_int_equal(matcher_assess(index_, "Alpine:v3.18", alpine, 2, collect, &hs, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(hs.h[0].id, "T-ALPINE");
    assert_int_equal(hs.h[0].index, 0);

    /* Per-entry severity wins over the advisory's. */
    {
        const struct matcher_package b = { "bash", "5.2.15-3", NULL, NULL };

        hs.n = 0;
        assert_int_equal(matcher_assess(index_, "Debian:12", &b, 1, collect, &hs, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(hs.h[0].score10, -1);
    }
    assert_int_equal(matcher_assess(index_, "PyPI", debian, 1, collect, &hs, &n), ODS_E_INVAL);
    assert_int_equal(matcher_assess(index_, "", debian, 1, collect, &hs, &n), ODS_E_INVAL);
}

static int
stop_at_first(const struct matcher_finding *f, void *arg)
{
    (void)f;
    (*(int *)arg)++;
    return ODS_E_BUSY;
}

static void
test_callback_stops(void **state)
{
    const struct matcher_package p = { "openssl", "3.0.9-1", NULL, NULL };
    int calls = 0;

    (void)state;
    assert_int_equal(matcher_assess(index_, "Debian:12", &p, 1, stop_at_first, &calls, NULL),
        ODS_E_BUSY);
    assert_int_equal(calls, 1);
}

/* The tracker's undetermined mark reaches the finding. */
static void
test_undetermined(void **state)
{
    const char *json = "{\"glibc\":{\"CVE-2099-0001\":{\"releases\":{\"bookworm\":"
                       "{\"status\":\"undetermined\",\"urgency\":\"low\"}}}}}";
    const struct matcher_package p = { "libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7" };
    struct advisory_set s;
    struct debtracker_stats st;
    struct matcher *m = NULL;
    struct hits hs = { .n = 0 };
    char why[128];
    size_t n;

    (void)state;
    advisory_set_init(&s);
    assert_int_equal(debtracker_parse(json, strlen(json), &s, &st, why, sizeof(why)), 0);
    assert_int_equal(matcher_build(&s, &m), 0);
    assert_int_equal(matcher_assess(m, "Debian:12", &p, 1, collect, &hs, &n), 0);
    assert_int_equal(n, 1);
    assert_true(hs.h[0].undetermined);
    assert_string_equal(hs.h[0].fixed, "-");
    matcher_free(m);
    advisory_set_free(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_undetermined),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
