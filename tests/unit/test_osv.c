/* test_osv.c - OSV parsing: a full record read field by field, malformed records
 * rejected with the field named, CVSS v3 base scores against published scores,
 * ecosystem strings, and bulk loading from a directory and a zip (tests/data/vuln). */
#include "err.h"
#include "osv.h"
#include "vuln.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *
data_path(const char *rel, char *buf, size_t n)
{
    const char *dir = getenv("ODS_TEST_DATA");

    snprintf(buf, n, "%s/%s", dir != NULL ? dir : "tests/data", rel);
    return buf;
}

static struct advisory *
parse_ok(const char *json)
{
    struct advisory *adv = NULL;
    char why[OSV_WHY_MAX];
    int rc = osv_parse(json, strlen(json), &adv, why, sizeof(why));

    if (rc != 0)
        fail_msg("rejected (%s): %s", err_name(rc), why);
    return adv;
}

static void
test_full_record(void **state)
{
    const char *json =
        "{\"schema_version\":\"1.6.0\",\"id\":\"DEBIAN-CVE-2023-0001\","
        "\"modified\":\"2024-01-02T03:04:05.678Z\",\"published\":\"2023-01-01T00:00:00Z\","
        "\"aliases\":[\"CVE-2023-0001\"],\"upstream\":[\"GHSA-xxxx\"],"
        "\"summary\":\"a summary\",\"details\":\"ignored\","
        "\"severity\":[{\"type\":\"CVSS_V2\",\"score\":\"AV:N/AC:L/Au:N/C:P/I:P/A:P\"},"
        "{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H\"}],"
        "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"curl\"},"
        "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
        "{\"fixed\":\"7.88.1-10+deb12u4\"}]},"
        "{\"type\":\"GIT\",\"repo\":\"https://x\",\"events\":[{\"introduced\":\"abc\"},"
        "{\"limit\":\"def\"}]}],"
        "\"versions\":[\"7.88.1-10\"],\"database_specific\":{\"x\":1},"
        "\"ecosystem_specific\":{\"urgency\":\"high\"},"
        "\"severity\":[{\"type\":\"Ubuntu\",\"score\":\"medium\"}]}]}";
    struct advisory *adv = parse_ok(json);
    struct vuln_affected *aff;

    (void)state;
    assert_string_equal(adv->id, "DEBIAN-CVE-2023-0001");
    assert_int_equal(adv->modified_ms, 1704164645678LL);
    assert_false(adv->withdrawn);
    assert_int_equal(adv->n_aliases, 2);
    assert_string_equal(adv->aliases[0], "CVE-2023-0001");
    assert_string_equal(adv->aliases[1], "GHSA-xxxx");
    assert_string_equal(adv->summary, "a summary");
    assert_string_equal(adv->severity.cvss_vector, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H");
    assert_int_equal(adv->severity.score10, 78);
    assert_int_equal(adv->n_affected, 1);
    aff = &adv->affected[0];
    assert_int_equal(aff->ecosystem.family, VULN_FAMILY_DEBIAN);
    assert_string_equal(aff->ecosystem.release, "12");
    assert_string_equal(aff->package, "curl");
    assert_int_equal(aff->n_ranges, 2);
    assert_int_equal(aff->ranges[0].type, VULN_RANGE_ECOSYSTEM);
    assert_int_equal(aff->ranges[0].n_events, 2);
    assert_int_equal(aff->ranges[0].events[0].kind, VULN_EVENT_INTRODUCED);
    assert_string_equal(aff->ranges[0].events[0].version, "0");
    assert_int_equal(aff->ranges[0].events[1].kind, VULN_EVENT_FIXED);
    assert_string_equal(aff->ranges[0].events[1].version, "7.88.1-10+deb12u4");
    assert_int_equal(aff->ranges[1].type, VULN_RANGE_GIT);
    assert_int_equal(aff->ranges[1].events[1].kind, VULN_EVENT_LIMIT);
    assert_int_equal(aff->n_versions, 1);
    assert_string_equal(aff->versions[0], "7.88.1-10");
    assert_string_equal(aff->severity.urgency, "medium");
    assert_int_equal(aff->severity.score10, -1);
    advisory_free(adv);

    /* A withdrawn record still parses; the flag is what the matcher looks at. */
    adv = parse_ok("{\"id\":\"W-1\",\"modified\":\"2024-01-01T00:00:00Z\","
                   "\"withdrawn\":\"2024-02-01T00:00:00+02:00\"}");
    assert_true(adv->withdrawn);
    assert_int_equal(adv->n_affected, 0);
    assert_null(adv->summary);
    advisory_free(adv);
}

/* Malformed records: the code and a word of the reason, which names the field. */
static const struct bad_case {
    const char *name;
    const char *json;
    int         rc;
    const char *why;
} bad_cases[] = {
    { "not json", "{\"id\":", ODS_E_PARSE, "invalid JSON" },
    { "not an object", "[1,2]", ODS_E_PARSE, "not a JSON object" },
    { "no id", "{\"modified\":\"2024-01-01T00:00:00Z\"}", ODS_E_PARSE, "id: missing" },
    { "id not a string", "{\"id\":5,\"modified\":\"2024-01-01T00:00:00Z\"}", ODS_E_PARSE,
      "id: not a string" },
    { "empty id", "{\"id\":\"\",\"modified\":\"2024-01-01T00:00:00Z\"}", ODS_E_PARSE, "id: empty" },
    { "no modified", "{\"id\":\"X-1\"}", ODS_E_PARSE, "modified: missing" },
    { "bad modified", "{\"id\":\"X-1\",\"modified\":\"yesterday\"}", ODS_E_PARSE,
      "modified: not an RFC 3339" },
    { "bad withdrawn", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"withdrawn\":\"2024-13-01T00:00:00Z\"}",
      ODS_E_PARSE, "withdrawn" },
    { "duplicate key", "{\"id\":\"X-1\",\"id\":\"X-2\",\"modified\":\"2024-01-01T00:00:00Z\"}",
      ODS_E_PARSE, "invalid JSON" },
    { "aliases not array", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":\"CVE-1\"}",
      ODS_E_PARSE, "aliases: not an array" },
    { "alias not string", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"aliases\":[\"a\",7]}",
      ODS_E_PARSE, "aliases[1]" },
    { "summary not string", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"summary\":[]}",
      ODS_E_PARSE, "summary: not a string" },
    { "bad cvss", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N\"}]}",
      ODS_E_PARSE, "severity: malformed CVSS" },
    { "severity no score", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"severity\":[{\"type\":\"CVSS_V3\"}]}",
      ODS_E_PARSE, "severity[0]" },
    { "affected not object", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[1]}",
      ODS_E_PARSE, "affected[0]: not an object" },
    { "no package", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{}]}",
      ODS_E_PARSE, "affected[0].package" },
    { "no ecosystem", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"name\":\"a\"}}]}",
      ODS_E_PARSE, "affected[0].package.ecosystem: missing" },
    { "no name", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\"}}]}",
      ODS_E_PARSE, "affected[0].package.name: missing" },
    { "bad range type", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"ranges\":[{\"type\":\"DATE\",\"events\":[{\"introduced\":\"0\"}]}]}]}",
      ODS_E_PARSE, "affected[0].ranges[0].type: unknown range type" },
    { "no events", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[]}]}]}",
      ODS_E_PARSE, "affected[0].ranges[0].events: missing or empty" },
    { "no introduced", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"fixed\":\"1\"}]}]}]}",
      ODS_E_PARSE, "no 'introduced'" },
    { "two keys in event", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\",\"fixed\":\"1\"}]}]}]}",
      ODS_E_PARSE, "affected[0].ranges[0].events[0]: must be an object with exactly one" },
    { "unknown event", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"patched\":\"1\"}]}]}]}",
      ODS_E_PARSE, "events[1]: unknown event 'patched'" },
    { "event not string", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":0}]}]}]}",
      ODS_E_PARSE, "events[0].introduced: not a non-empty string" },
    { "fixed and last_affected", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"2\"},{\"last_affected\":\"1\"}]}]}]}",
      ODS_E_PARSE, "both 'fixed' and 'last_affected'" },
    { "version not string", "{\"id\":\"X-1\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"a\"},\"versions\":[\"1\",null]}]}",
      ODS_E_PARSE, "affected[0].versions[1]" },
};

static void
test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct advisory *adv = (struct advisory *)1;
        char why[OSV_WHY_MAX];
        int rc = osv_parse(c->json, strlen(c->json), &adv, why, sizeof(why));

        if (rc != c->rc || adv != NULL || strstr(why, c->why) == NULL)
            fail_msg("%s: rc %s, why '%s'; expected %s with '%s'", c->name, err_name(rc), why,
                err_name(c->rc), c->why);
    }
    print_message("%zu malformed records rejected with their field named\n",
        sizeof(bad_cases) / sizeof(bad_cases[0]));
}

static void
test_limits(void **state)
{
    char id[VULN_ID_MAX + 64], json[1024], why[OSV_WHY_MAX];
    struct advisory *adv = NULL;

    (void)state;
    memset(id, 'A', sizeof(id) - 1);
    id[VULN_ID_MAX + 1] = '\0';
    snprintf(json, sizeof(json), "{\"id\":\"%s\",\"modified\":\"2024-01-01T00:00:00Z\"}", id);
    assert_int_equal(osv_parse(json, strlen(json), &adv, why, sizeof(why)), ODS_E_TOOBIG);
    assert_non_null(strstr(why, "id: exceeds"));
    assert_int_equal(osv_parse(json, OSV_DOC_MAX + 1, &adv, why, sizeof(why)), ODS_E_TOOBIG);
    /* Deep nesting is refused by the JSON parser, not by the stack. */
    {
        static char deep[20000];
        size_t n = 0;

        for (int i = 0; i < 5000; i++)
            deep[n++] = '[';
        for (int i = 0; i < 5000; i++)
            deep[n++] = ']';
        assert_int_equal(osv_parse(deep, n, &adv, why, sizeof(why)), ODS_E_PARSE);
    }
    /* A tiny reason buffer is still terminated. */
    assert_int_equal(osv_parse("{}", 2, &adv, why, 4), ODS_E_PARSE);
    assert_int_equal(strlen(why), 3);
}

/* Published base scores (NVD / the CVSS v3.1 specification's examples). */
static const struct cvss_case {
    const char *vector;
    int         score10;
} cvss_cases[] = {
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98 },
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100 },
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 61 },
    { "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78 },
    { "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 59 },
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 75 },
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 88 },
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 53 },
    { "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 55 },
    { "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 99 },
    { "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:N/A:H", 47 },
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0 },
    { "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 98 },   /* temporal ignored */
};

static const char *const cvss_bad[] = {
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",             /* A missing */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L",     /* repeated */
    "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",         /* bad value */
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",    /* unknown metric */
    "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
    "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:",
};

static void
test_cvss(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cvss_cases) / sizeof(cvss_cases[0]); i++) {
        int s = -1;

        assert_int_equal(cvss_v3_score(cvss_cases[i].vector, &s), 0);
        if (s != cvss_cases[i].score10)
            fail_msg("%s: %d, expected %d", cvss_cases[i].vector, s, cvss_cases[i].score10);
    }
    for (size_t i = 0; i < sizeof(cvss_bad) / sizeof(cvss_bad[0]); i++) {
        int s = -1;

        if (cvss_v3_score(cvss_bad[i], &s) != ODS_E_PARSE)
            fail_msg("%s accepted", cvss_bad[i]);
    }
}

static const struct eco_case {
    const char      *in;
    enum vuln_family family;
    const char      *release;
} eco_cases[] = {
    { "Debian:12", VULN_FAMILY_DEBIAN, "12" },
    { "Debian", VULN_FAMILY_DEBIAN, "" },
    { "Ubuntu:22.04:LTS", VULN_FAMILY_UBUNTU, "22.04" },
    { "Ubuntu:Pro:18.04:LTS", VULN_FAMILY_UBUNTU, "Pro:18.04" },
    { "Alpine:v3.18", VULN_FAMILY_ALPINE, "3.18" },
    { "Red Hat", VULN_FAMILY_REDHAT, "" },
    { "Red Hat:enterprise_linux:9::appstream", VULN_FAMILY_REDHAT, "enterprise_linux:9::appstream" },
    { "Rocky Linux:9", VULN_FAMILY_ROCKY, "9" },
    { "AlmaLinux:9", VULN_FAMILY_ALMA, "9" },
    { "PyPI", VULN_FAMILY_UNKNOWN, "" },
    { "Debianish:1", VULN_FAMILY_UNKNOWN, "1" },
};

static void
test_ecosystem(void **state)
{
    struct vuln_ecosystem eco;
    enum vercmp_scheme scheme;

    (void)state;
    for (size_t i = 0; i < sizeof(eco_cases) / sizeof(eco_cases[0]); i++) {
        assert_int_equal(advisory_ecosystem_parse(eco_cases[i].in, &eco), 0);
        if (eco.family != eco_cases[i].family || strcmp(eco.release, eco_cases[i].release) != 0)
            fail_msg("%s: family %d release '%s'", eco_cases[i].in, eco.family, eco.release);
    }
    assert_int_equal(advisory_ecosystem_parse("", &eco), ODS_E_PARSE);
    assert_true(advisory_family_scheme(VULN_FAMILY_ALPINE, &scheme));
    assert_int_equal(scheme, VERCMP_APK);
    assert_true(advisory_family_scheme(VULN_FAMILY_ROCKY, &scheme));
    assert_int_equal(scheme, VERCMP_RPM);
    assert_false(advisory_family_scheme(VULN_FAMILY_UNKNOWN, &scheme));
    assert_true(advisory_family_by_source(VULN_FAMILY_UBUNTU));
    assert_false(advisory_family_by_source(VULN_FAMILY_ALPINE));
    assert_string_equal(advisory_family_name(VULN_FAMILY_REDHAT), "Red Hat");
}

static const struct advisory *
find(const struct advisory_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i]->id, id) == 0)
            return set->items[i];
    return NULL;
}

static void
check_loaded(const struct advisory_set *set, const struct osv_load_stats *st)
{
    const struct advisory *adv;

    assert_int_equal(st->rejected, 1);
    assert_non_null(strstr(st->first_reject, "broken.json: affected[0].ranges[0].events: no 'introduced'"));
    adv = find(set, "DLA-3008-1");
    assert_non_null(adv);
    assert_int_equal(adv->n_aliases, 1);
    assert_string_equal(adv->aliases[0], "CVE-2022-1292");
    assert_string_equal(adv->affected[0].ecosystem.release, "9");
    assert_int_equal(adv->affected[0].n_versions, 2);
    adv = find(set, "ALPINE-CVE-2024-0001");
    assert_non_null(adv);
    assert_int_equal(adv->severity.score10, 98);
    assert_int_equal(adv->modified_ms, 1706778000000LL);    /* 09:00Z */
}

static void
test_load_dir(void **state)
{
    struct advisory_set set;
    struct osv_load_stats st = { 0 };
    char path[512], why[OSV_WHY_MAX];

    (void)state;
    advisory_set_init(&set);
    assert_int_equal(osv_load_dir(data_path("vuln/osv", path, sizeof(path)), &set, &st, why,
        sizeof(why)), 0);
    assert_int_equal(st.loaded, 2);
    assert_int_equal(set.n, 2);
    check_loaded(&set, &st);
    advisory_set_free(&set);
    assert_int_equal(osv_load_dir("/nonexistent/dir", &set, &st, why, sizeof(why)), ODS_E_IO);
    assert_non_null(strstr(why, "/nonexistent/dir"));
}

static void
test_load_zip(void **state)
{
    struct advisory_set set;
    struct osv_load_stats st = { 0 };
    char path[512], why[OSV_WHY_MAX];

    (void)state;
    advisory_set_init(&set);
    assert_int_equal(osv_load_zip(data_path("vuln/osv.zip", path, sizeof(path)), &set, &st, why,
        sizeof(why)), 0);
    assert_int_equal(st.loaded, 3);                 /* two deflated, one stored */
    check_loaded(&set, &st);
    assert_non_null(find(&set, "STORED-1"));
    advisory_set_free(&set);
    /* Not a zip at all. */
    assert_int_equal(osv_load_zip(data_path("vuln/tracker.json", path, sizeof(path)), &set, &st,
        why, sizeof(why)), ODS_E_PARSE);
    assert_non_null(strstr(why, "no end of central directory"));
    assert_int_equal(set.n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_cvss),
        cmocka_unit_test(test_ecosystem),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_load_zip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
