/* test_agent_inventory.c - the inventory collectors on the fixture tree
 * tests/data/agent/root (dpkg, apk, os-release, passwd, /proc/net, /proc/<pid>/fd,
 * systemd cgroups), and on the live host: the dpkg package count equals dpkg-query's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "scans/inventory.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char root[1024];

/* expect_rows compares an array of objects with rows of strings; a row is a NULL-
 * terminated list of "key=value" (integers compared as text, "key=" is null). */
static void
expect_rows(json_t *arr, const char *const rows[][8], size_t nrows)
{
    if (json_array_size(arr) != nrows) {
        char *dump = json_dumps(arr, JSON_INDENT(1));
        fail_msg("got %zu rows, want %zu: %s", json_array_size(arr), nrows, dump);
    }
    for (size_t r = 0; r < nrows; r++) {
        json_t *o = json_array_get(arr, r);
        for (size_t k = 0; k < 8 && rows[r][k] != NULL; k++) {
            char key[64], got[512];
            const char *eq = strchr(rows[r][k], '=');
            assert_non_null(eq);
            snprintf(key, sizeof(key), "%.*s", (int)(eq - rows[r][k]), rows[r][k]);
            json_t *v = json_object_get(o, key);
            if (v == NULL)
                fail_msg("row %zu: no member %s", r, key);
            if (json_is_integer(v))
                snprintf(got, sizeof(got), "%lld", (long long)json_integer_value(v));
            else if (json_is_null(v))
                got[0] = '\0';
            else
                snprintf(got, sizeof(got), "%s", json_string_value(v));
            if (strcmp(got, eq + 1) != 0)
                fail_msg("row %zu: %s is '%s', want '%s'", r, key, got, eq + 1);
        }
    }
}

static void
test_dpkg(void **state)
{
    static const char *const want[][8] = {
        { "manager=dpkg", "name=alpha", "version=1.0-1", "arch=amd64", "source=alpha", "source_version=1.0-1" },
        { "manager=dpkg", "name=libgamma1", "version=3.1-2+b1", "arch=amd64", "source=gamma", "source_version=3.1-2" },
        { "manager=dpkg", "name=delta-doc", "version=4.0-1", "arch=all", "source=delta", "source_version=4.0-1" },
        { "manager=dpkg", "name=eta", "version=7:1.2~rc1-3", "arch=arm64", "source=eta", "source_version=7:1.2~rc1-3" },
    };
    json_t *packages = json_array();
    bool found = false;

    (void)state;
    assert_int_equal(inventory_pkg_dpkg(root, packages, &found), ODS_E_OK);
    assert_true(found);
    expect_rows(packages, want, sizeof(want) / sizeof(want[0]));
    json_decref(packages);
}

static void
test_apk(void **state)
{
    static const char *const want[][8] = {
        { "manager=apk", "name=musl", "version=1.2.4-r2", "arch=x86_64", "source=musl", "source_version=1.2.4-r2" },
        { "manager=apk", "name=libcrypto3", "version=3.1.4-r5", "arch=x86_64", "source=openssl", "source_version=3.1.4-r5" },
    };
    json_t *packages = json_array();
    bool found = false;

    (void)state;
    assert_int_equal(inventory_pkg_apk(root, packages, &found), ODS_E_OK);
    assert_true(found);
    expect_rows(packages, want, sizeof(want) / sizeof(want[0]));
    json_decref(packages);
}

static void
test_missing_files(void **state)
{
    json_t *arr = json_array();
    bool found = true;

    (void)state;
    assert_int_equal(inventory_pkg_dpkg("/nonexistent-root", arr, &found), ODS_E_OK);
    assert_false(found);
    assert_int_equal(inventory_pkg_apk("/nonexistent-root", arr, &found), ODS_E_OK);
    assert_false(found);
    assert_int_equal(inventory_users("/nonexistent-root", arr), ODS_E_OK);
    assert_int_equal(inventory_listening("/nonexistent-root", arr), ODS_E_OK);
    assert_int_equal(json_array_size(arr), 0);
    assert_false(inventory_rpm_present("/nonexistent-root"));
    assert_true(inventory_rpm_present(root));
    json_decref(arr);
}

static void
test_os(void **state)
{
    static const char *const want[][8] = {
        { "name=Debian GNU/Linux", "version=12", "id=debian",
          "pretty_name=Debian GNU/Linux 12 (bookworm)", "codename=bookworm" },
    };
    json_t *os = json_object(), *arr = json_array();

    (void)state;
    assert_int_equal(inventory_os(root, os), ODS_E_OK);
    assert_int_equal(json_array_append(arr, os), 0);
    expect_rows(arr, want, 1);
    assert_non_null(json_string_value(json_object_get(os, "kernel")));
    assert_non_null(json_string_value(json_object_get(os, "arch")));
    json_decref(os);
    json_decref(arr);
}

static void
test_host(void **state)
{
    static const char *const want[][8] = {
        { "machine_id=0123456789abcdef0123456789abcdef", "cpu_model=Test CPU @ 3.00GHz",
          "memory_bytes=2097152000", "uptime_s=12345", "boot_time=2023-11-14T22:13:20Z" },
    };
    json_t *host = json_object(), *arr = json_array();

    (void)state;
    assert_int_equal(inventory_host(root, host), ODS_E_OK);
    assert_int_equal(json_array_append(arr, host), 0);
    expect_rows(arr, want, 1);
    assert_true(json_integer_value(json_object_get(host, "cpu_count")) >= 1);
    json_decref(host);
    json_decref(arr);
}

static void
test_users(void **state)
{
    static const char *const want[][8] = {
        { "name=root", "uid=0", "gid=0", "home=/root", "shell=/bin/bash" },
        { "name=daemon", "uid=1", "gid=1", "home=/usr/sbin", "shell=/usr/sbin/nologin" },
        { "name=alice", "uid=1000", "gid=1000", "home=/home/alice", "shell=/bin/zsh" },
    };
    json_t *users = json_array();

    (void)state;
    assert_int_equal(inventory_users(root, users), ODS_E_OK);
    expect_rows(users, want, sizeof(want) / sizeof(want[0]));
    json_decref(users);
}

static void
test_listening(void **state)
{
    static const char *const want[][8] = {
        { "proto=tcp", "address=127.0.0.1", "port=22", "pid=4242", "process=sshd" },
        { "proto=tcp", "address=0.0.0.0", "port=80", "pid=77", "process=nginx" },
        { "proto=tcp6", "address=::", "port=22", "pid=4242", "process=sshd" },
        { "proto=tcp6", "address=::1", "port=631", "pid=", "process=" },
        { "proto=udp", "address=127.0.0.53", "port=53", "pid=", "process=" },
    };
    json_t *listening = json_array();

    (void)state;
    assert_int_equal(inventory_listening(root, listening), ODS_E_OK);
    expect_rows(listening, want, sizeof(want) / sizeof(want[0]));
    json_decref(listening);
}

static void
test_services(void **state)
{
    static const char *const want[][8] = {
        { "name=ssh.service", "state=running" },
    };
    json_t *services = json_array();
    bool systemd = false;

    (void)state;
    assert_int_equal(inventory_services(root, services, &systemd), ODS_E_OK);
    assert_true(systemd);
    expect_rows(services, want, 1);
    json_decref(services);
    services = json_array();
    assert_int_equal(inventory_services("/nonexistent-root", services, &systemd), ODS_E_OK);
    assert_false(systemd);
    assert_int_equal(json_array_size(services), 0);
    json_decref(services);
}

static void
test_document_on_fixture(void **state)
{
    json_t *doc = NULL;

    (void)state;
    assert_int_equal(inventory_collect(root, &doc), ODS_E_OK);
    json_t *counts = json_object_get(doc, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "packages")), 6);
    assert_int_equal(json_integer_value(json_object_get(counts, "listening")), 5);
    assert_int_equal(json_integer_value(json_object_get(counts, "users")), 3);
    json_t *managers = json_object_get(doc, "package_managers");
    assert_string_equal(json_string_value(json_object_get(managers, "dpkg")), "read");
    assert_string_equal(json_string_value(json_object_get(managers, "apk")), "read");
    assert_string_equal(json_string_value(json_object_get(managers, "rpm")), "unsupported");
    assert_true(json_is_array(json_object_get(doc, "interfaces")));
    assert_non_null(json_string_value(json_object_get(doc, "collected_at")));
    json_decref(doc);
}

/* On the live host the dpkg count matches dpkg-query -W (skipped without dpkg). */
static void
test_live_dpkg_count(void **state)
{
    FILE *p = popen("command -v dpkg-query >/dev/null 2>&1 && dpkg-query -W | wc -l", "r");
    unsigned long want = 0;
    json_t *packages = json_array();
    bool found = false;

    (void)state;
    assert_non_null(p);
    int got = fscanf(p, "%lu", &want);
    pclose(p);
    if (got != 1 || want == 0) {
        json_decref(packages);
        skip();
    }
    assert_int_equal(inventory_pkg_dpkg("", packages, &found), ODS_E_OK);
    assert_true(found);
    assert_int_equal(json_array_size(packages), want);
    json_decref(packages);
}

int
main(void)
{
    const char *data = getenv("ODS_TEST_DATA");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dpkg),
        cmocka_unit_test(test_apk),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_os),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_listening),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_document_on_fixture),
        cmocka_unit_test(test_live_dpkg_count),
    };

    int n = snprintf(root, sizeof(root), "%s/agent/root", data != NULL ? data : "tests/data");
    if (n < 0 || (size_t)n >= sizeof(root))
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
