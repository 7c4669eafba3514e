/* test_debtracker.c - the Debian Security Tracker JSON: resolved / open / undetermined,
 * a fixed_version of "0" (not affected), unknown codenames, and malformed input. */
#include "debtracker.h"
#include "err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct advisory *
find(const struct advisory_set *set, const char *pkg, const char *id)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i]->id, id) == 0 &&
            strcmp(set->items[i]->affected[0].package, pkg) == 0)
            return set->items[i];
    return NULL;
}

static const struct vuln_affected *
release(const struct advisory *adv, const char *rel)
{
    for (size_t i = 0; i < adv->n_affected; i++)
        if (strcmp(adv->affected[i].ecosystem.release, rel) == 0)
            return &adv->affected[i];
    return NULL;
}

static void
test_fixture(void **state)
{
    const char *dir = getenv("ODS_TEST_DATA");
    struct advisory_set set;
    struct debtracker_stats st;
    const struct advisory *adv;
    const struct vuln_affected *aff;
    char path[512], why[256];

    (void)state;
    snprintf(path, sizeof(path), "%s/vuln/tracker.json", dir != NULL ? dir : "tests/data");
    advisory_set_init(&set);
    assert_int_equal(debtracker_load_file(path, &set, &st, why, sizeof(why)), 0);
    /* CVE-2014-1424 is "0" everywhere: no advisory at all. */
    assert_int_equal(set.n, 3);
    assert_int_equal(st.advisories, 3);
    assert_int_equal(st.not_affected, 3);
    assert_int_equal(st.unknown_release, 1);       /* woody */
    assert_null(find(&set, "apparmor", "CVE-2014-1424"));

    /* open in bookworm: from the beginning, no fix; resolved in sid. */
    adv = find(&set, "apparmor", "CVE-2016-1585");
    assert_non_null(adv);
    assert_string_equal(adv->summary,
        "In all versions of AppArmor mount rules are accidentally widened when compiled.");
    assert_int_equal(adv->n_affected, 2);
    aff = release(adv, "12");
    assert_non_null(aff);
    assert_int_equal(aff->ecosystem.family, VULN_FAMILY_DEBIAN);
    assert_string_equal(aff->package, "apparmor");
    assert_int_equal(aff->n_ranges, 1);
    assert_int_equal(aff->ranges[0].n_events, 1);
    assert_int_equal(aff->ranges[0].events[0].kind, VULN_EVENT_INTRODUCED);
    assert_string_equal(aff->ranges[0].events[0].version, "0");
    assert_string_equal(aff->severity.urgency, "unimportant");
    assert_false(aff->undetermined);
    aff = release(adv, "unstable");
    assert_non_null(aff);
    assert_int_equal(aff->ranges[0].n_events, 2);
    assert_int_equal(aff->ranges[0].events[1].kind, VULN_EVENT_FIXED);
    assert_string_equal(aff->ranges[0].events[1].version, "3.0.12-1");

    /* resolved with a version in bookworm, "0" in bullseye (left out). */
    adv = find(&set, "glibc", "CVE-2023-4911");
    assert_non_null(adv);
    assert_int_equal(adv->n_affected, 1);
    aff = release(adv, "12");
    assert_string_equal(aff->ranges[0].events[1].version, "2.36-9+deb12u3");
    assert_string_equal(aff->severity.urgency, "high");
    assert_null(release(adv, "11"));

    /* undetermined: affected without a fix, and marked. */
    adv = find(&set, "glibc", "CVE-2099-0001");
    aff = release(adv, "12");
    assert_true(aff->undetermined);
    assert_int_equal(aff->ranges[0].n_events, 1);
    assert_null(aff->severity.urgency);
    assert_null(adv->summary);
    advisory_set_free(&set);
}

static const struct bad_case {
    const char *json;
    const char *why;
} bad_cases[] = {
    { "[]", "not a JSON object" },
    { "{\"p\": []}", "p: not an object" },
    { "{\"p\": {\"CVE-1\": {}}}", "p.CVE-1.releases: missing" },
    { "{\"p\": {\"CVE-1\": {\"releases\": {\"bookworm\": {}}}}}", "p.CVE-1.releases.bookworm.status: missing" },
    { "{\"p\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"fixed\"}}}}}",
      "status: unknown status 'fixed'" },
    { "{\"p\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"resolved\"}}}}}",
      "fixed_version: missing for a resolved" },
    { "{\"p\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"open\", \"urgency\": 3}}}}}",
      "urgency: not a string" },
    { "{\"p\": {\"CVE-1\": {\"description\": 1, \"releases\": {}}}}", "description: not a string" },
    { "{\"p\": {\"CVE-1\": {\"releases\": {\"bookworm\": {\"status\": \"open\"}}}}", "invalid JSON" },
};

static void
test_malformed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct advisory_set set;
        struct debtracker_stats st;
        char why[256];
        int rc;

        advisory_set_init(&set);
        rc = debtracker_parse(bad_cases[i].json, strlen(bad_cases[i].json), &set, &st, why,
            sizeof(why));
        if (rc != ODS_E_PARSE || strstr(why, bad_cases[i].why) == NULL)
            fail_msg("%s: rc %s why '%s'", bad_cases[i].json, err_name(rc), why);
        advisory_set_free(&set);
    }
}

/* The real export writes "releases": [] for an issue with no release yet. */
static void
test_empty_releases(void **state)
{
    const char *json = "{\"chromium-browser\": {\"CVE-2022-0358\": {\"releases\": []}}}";
    struct advisory_set set;
    struct debtracker_stats st;
    char why[256];

    (void)state;
    advisory_set_init(&set);
    assert_int_equal(debtracker_parse(json, strlen(json), &set, &st, why, sizeof(why)), 0);
    assert_int_equal(set.n, 0);
    advisory_set_free(&set);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_empty_releases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
