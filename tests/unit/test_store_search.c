/* test_store_search.c - store_asset_search / store_asset_count / store_asset_set_modules
 * and store_asset_tags: every filter field and operator, scopes, paging and the module
 * rules, on SQLite and, when ODS_PG_URL_FILE names a cluster, again on PostgreSQL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "scan.h"
#include "store.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY_MS     86400000LL
#define MAY1       1714521600000LL   /* 2024-05-01T00:00:00Z */

static char cluster_url[512];        /* empty: SQLite only */

struct fixture {
    char     url[600];
    bool     pg;
    store_t *st;
    int64_t  custom_profile;
};

static void
raw_exec(const struct fixture *f, const char *sql)
{
    if (f->pg) {
        PGconn *pg = PQconnectdb(f->url);
        PGresult *res = PQexec(pg, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            fail_msg("%s: %s", sql, PQerrorMessage(pg));
        PQclear(res);
        PQfinish(pg);
        return;
    }
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(f->url + strlen("sqlite:"), &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static void
add(store_t *st, int64_t id, const char *host, const char *fqdn, const char *family,
    const char *os_name, unsigned mods, int64_t checkin, const char *version,
    const char *uuid, const char *address)
{
    struct asset a = { .id = id, .modules = mods, .last_checkin_ms = checkin };

    snprintf(a.hostname, sizeof(a.hostname), "%s", host);
    snprintf(a.fqdn, sizeof(a.fqdn), "%s", fqdn);
    snprintf(a.os_family, sizeof(a.os_family), "%s", family);
    snprintf(a.os_name, sizeof(a.os_name), "%s", os_name);
    snprintf(a.agent_version, sizeof(a.agent_version), "%s", version);
    snprintf(a.agent_uuid, sizeof(a.agent_uuid), "%s", uuid);
    snprintf(a.last_address, sizeof(a.last_address), "%s", address);
    assert_int_equal(store_asset_add(st, &a), ODS_E_OK);
}

static int
setup_common(struct fixture *f)
{
    const char *err = NULL;
    struct profile p = { .cpu_limit = 50, .cpu_throttle = 0, .checkin_hold_s = 30,
        .lease_s = 300, .max_concurrent = 1 };

    if (store_open(f->url, &f->st, &err) != ODS_E_OK)
        fail_msg("store_open %s: %s", f->url, err);
    add(f->st, 1, "web1", "web1.example.com", "linux", "Debian GNU/Linux", MOD_VM,
        MAY1 + 12 * 3600000LL, "1.2.0", "0a1b-uuid-1", "192.0.2.1");
    add(f->st, 2, "DB2", "", "windows", "Windows Server 2022", MOD_PC, 0, "1.3.0", "",
        "192.0.2.2");
    add(f->st, 3, "web3", "", "linux", "Alpine Linux", 0, MAY1 + DAY_MS, "1.2.0", "",
        "192.0.2.3");
    raw_exec(f, "INSERT INTO tags(id, name, created_ms) VALUES (7, 'Cloud Agent', 0), (8, 'prod', 0)");
    raw_exec(f, "INSERT INTO asset_tags(asset_id, tag_id) VALUES (1, 7), (3, 7), (3, 8)");
    raw_exec(f, "INSERT INTO actkeys(id, token, name, created_ms) VALUES (5, 'tok-5', 'Linux key', 0)");
    raw_exec(f, "UPDATE assets SET key_id = 5 WHERE id = 3");
    snprintf(p.name, sizeof(p.name), "custom");
    assert_int_equal(store_profile_add(f->st, &p), ODS_E_OK);
    f->custom_profile = p.id;
    assert_int_equal(store_profile_assign(f->st, 2, "custom"), ODS_E_OK);
    return 0;
}

static int
setup_sqlite(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    static int seq;

    assert_non_null(f);
    snprintf(f->url, sizeof(f->url), "sqlite:%s/search_%d_%d.db", tmp ? tmp : "/tmp",
        (int)getpid(), seq++);
    unlink(f->url + strlen("sqlite:"));
    *state = f;
    return setup_common(f);
}

static int
setup_pg(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    static int seq;
    char name[64], sql[128];
    const char *slash = strrchr(cluster_url, '/');

    assert_non_null(f);
    assert_non_null(slash);
    snprintf(name, sizeof(name), "search_%d_%d", (int)getpid(), seq++);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    PGconn *pg = PQconnectdb(cluster_url);
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
    snprintf(f->url, sizeof(f->url), "%.*s/%s", (int)(slash - cluster_url), cluster_url, name);
    f->pg = true;
    *state = f;
    return setup_common(f);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->st);
    if (!f->pg)
        unlink(f->url + strlen("sqlite:"));
    free(f);
    return 0;
}

/* One case: up to two criteria (field -1: unused) and the ids expected, as text. */
struct search_case {
    const char *name;
    struct { int field; enum filter_op op; const char *v[3]; } c[2];
    const char *want;
};

static const struct search_case cases[] = {
    { "id IN", { { FF_ID, FO_IN, { "1", "3" } }, { -1, 0, { NULL } } }, "1,3" },
    { "id GREATER", { { FF_ID, FO_GREATER, { "1" } }, { -1, 0, { NULL } } }, "2,3" },
    { "id LESSER", { { FF_ID, FO_LESSER, { "2" } }, { -1, 0, { NULL } } }, "1" },
    { "id NOT EQUALS", { { FF_ID, FO_NOT_EQUALS, { "2" } }, { -1, 0, { NULL } } }, "1,3" },
    { "name EQUALS any case", { { FF_NAME, FO_EQUALS, { "db2" } }, { -1, 0, { NULL } } }, "2" },
    { "name CONTAINS", { { FF_NAME, FO_CONTAINS, { "WEB" } }, { -1, 0, { NULL } } }, "1,3" },
    { "name injection", { { FF_NAME, FO_EQUALS, { "x' OR 1=1 --" } }, { -1, 0, { NULL } } }, "" },
    { "name CONTAINS %", { { FF_NAME, FO_CONTAINS, { "%" } }, { -1, 0, { NULL } } }, "" },
    { "os CONTAINS", { { FF_OS, FO_CONTAINS, { "linux" } }, { -1, 0, { NULL } } }, "1,3" },
    { "os EQUALS family", { { FF_OS, FO_EQUALS, { "Windows" } }, { -1, 0, { NULL } } }, "2" },
    { "os EQUALS name", { { FF_OS, FO_EQUALS, { "alpine linux" } }, { -1, 0, { NULL } } }, "3" },
    { "os NOT EQUALS", { { FF_OS, FO_NOT_EQUALS, { "linux" } }, { -1, 0, { NULL } } }, "2" },
    { "tagName EQUALS", { { FF_TAG_NAME, FO_EQUALS, { "cloud agent" } }, { -1, 0, { NULL } } }, "1,3" },
    { "tagName NOT EQUALS", { { FF_TAG_NAME, FO_NOT_EQUALS, { "prod" } }, { -1, 0, { NULL } } }, "1,2" },
    { "tagName CONTAINS", { { FF_TAG_NAME, FO_CONTAINS, { "ro" } }, { -1, 0, { NULL } } }, "3" },
    { "tagId IN", { { FF_TAG_ID, FO_IN, { "8", "99" } }, { -1, 0, { NULL } } }, "3" },
    { "tagId EQUALS", { { FF_TAG_ID, FO_EQUALS, { "7" } }, { -1, 0, { NULL } } }, "1,3" },
    { "lastCheckedIn GREATER day", { { FF_LAST_CHECKED_IN, FO_GREATER,
        { "1714521600000", "1714608000000" } }, { -1, 0, { NULL } } }, "3" },
    { "lastCheckedIn LESSER day", { { FF_LAST_CHECKED_IN, FO_LESSER,
        { "1714608000000", "1714694400000" } }, { -1, 0, { NULL } } }, "1" },
    { "lastCheckedIn EQUALS day", { { FF_LAST_CHECKED_IN, FO_EQUALS,
        { "1714521600000", "1714608000000" } }, { -1, 0, { NULL } } }, "1" },
    { "lastCheckedIn NOT EQUALS day (never matches)", { { FF_LAST_CHECKED_IN, FO_NOT_EQUALS,
        { "1714521600000", "1714608000000" } }, { -1, 0, { NULL } } }, "2,3" },
    { "lastCheckedIn EQUALS second", { { FF_LAST_CHECKED_IN, FO_EQUALS,
        { "1714564800000", "1714564801000" } }, { -1, 0, { NULL } } }, "1" },
    { "agentVersion EQUALS", { { FF_AGENT_VERSION, FO_EQUALS, { "1.3.0" } }, { -1, 0, { NULL } } }, "2" },
    { "agentUuid IN", { { FF_AGENT_UUID, FO_IN, { "0A1B-UUID-1", "zzz" } }, { -1, 0, { NULL } } }, "1" },
    { "agentUuid NOT EQUALS", { { FF_AGENT_UUID, FO_NOT_EQUALS, { "0a1b-uuid-1" } }, { -1, 0, { NULL } } },
      "2,3" },
    { "activationKey name", { { FF_ACTIVATION_KEY, FO_EQUALS, { "linux key" } }, { -1, 0, { NULL } } }, "3" },
    { "activationKey token", { { FF_ACTIVATION_KEY, FO_IN, { "tok-5" } }, { -1, 0, { NULL } } }, "3" },
    { "activationKey NOT EQUALS", { { FF_ACTIVATION_KEY, FO_NOT_EQUALS, { "tok-5" } }, { -1, 0, { NULL } } },
      "1,2" },
    { "dnsHostName fqdn", { { FF_DNS_HOST_NAME, FO_EQUALS, { "web1.example.com" } }, { -1, 0, { NULL } } }, "1" },
    { "dnsHostName falls back to hostname", { { FF_DNS_HOST_NAME, FO_EQUALS, { "web3" } },
      { -1, 0, { NULL } } }, "3" },
    { "address CONTAINS", { { FF_ADDRESS, FO_CONTAINS, { "192.0.2." } }, { -1, 0, { NULL } } }, "1,2,3" },
    { "created GREATER 2020", { { FF_CREATED, FO_GREATER, { "1577836800000", "1577923200000" } },
      { -1, 0, { NULL } } }, "1,2,3" },
    { "updated LESSER 2020", { { FF_UPDATED, FO_LESSER, { "1577836800000", "1577923200000" } },
      { -1, 0, { NULL } } }, "" },
    { "lastVulnScan LESSER (never)", { { FF_LAST_VULN_SCAN, FO_LESSER,
        { "1893456000000", "1893542400000" } }, { -1, 0, { NULL } } }, "" },
    { "lastVulnScan NOT EQUALS", { { FF_LAST_VULN_SCAN, FO_NOT_EQUALS,
        { "1893456000000", "1893542400000" } }, { -1, 0, { NULL } } }, "1,2,3" },
    { "agentConfigurationName own", { { FF_AGENT_CONFIGURATION_NAME, FO_EQUALS, { "custom" } },
      { -1, 0, { NULL } } }, "2" },
    { "agentConfigurationName default", { { FF_AGENT_CONFIGURATION_NAME, FO_EQUALS,
        { "linux-default" } }, { -1, 0, { NULL } } }, "1,3" },
    { "AND of two", { { FF_OS, FO_CONTAINS, { "linux" } }, { FF_TAG_NAME, FO_EQUALS, { "prod" } } },
      "3" },
};

static void
ids_text(const int64_t *ids, size_t n, char *dst, size_t cap)
{
    size_t used = 0;

    dst[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(dst + used, cap - used, "%s%lld", i ? "," : "", (long long)ids[i]);
}

static void
check_search(store_t *st, const struct asset_query *q, const char *want, const char *name)
{
    int64_t *ids = NULL;
    size_t n = 0, count = 0;
    bool more = true;
    char got[256];

    int rc = store_asset_search(st, q, &ids, &n, &more);
    if (rc != ODS_E_OK)
        fail_msg("%s: store_asset_search returned %s", name, err_name(rc));
    ids_text(ids, n, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("%s: got [%s], want [%s]", name, got, want);
    assert_false(more);
    assert_int_equal(store_asset_count(st, q, &count), ODS_E_OK);
    if (count != n)
        fail_msg("%s: count %zu, search %zu", name, count, n);
    free(ids);
}

static void
test_fields(void **state)
{
    struct fixture *f = *state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct criterion c[2];
        size_t nc = 0;
        for (int k = 0; k < 2; k++) {
            if (cases[i].c[k].field < 0)
                continue;
            c[nc].field = (enum filter_field)cases[i].c[k].field;
            c[nc].op = cases[i].c[k].op;
            c[nc].values = (char **)cases[i].c[k].v;
            c[nc].nvalues = 0;
            while (c[nc].nvalues < 3 && cases[i].c[k].v[c[nc].nvalues] != NULL)
                c[nc].nvalues++;
            nc++;
        }
        struct asset_query q = { .criteria = c, .ncriteria = nc, .scope_all = true };
        check_search(f->st, &q, cases[i].want, cases[i].name);
    }
    /* the profile id in force */
    char id[24];
    char *v[] = { id };
    snprintf(id, sizeof(id), "%lld", (long long)f->custom_profile);
    struct criterion c = { FF_AGENT_CONFIGURATION_ID, FO_EQUALS, 1, v };
    struct asset_query q = { .criteria = &c, .ncriteria = 1, .scope_all = true };
    check_search(f->st, &q, "2", "agentConfigurationId");
}

static void
test_scope_and_paging(void **state)
{
    struct fixture *f = *state;
    int64_t prod[] = { 8 }, *ids = NULL;
    size_t n;
    bool more;
    char got[64];

    struct asset_query q = { .scope_all = false, .scope_tags = prod, .scope_n = 1 };
    check_search(f->st, &q, "3", "scope prod");
    q.scope_n = 0;
    check_search(f->st, &q, "", "empty scope");

    struct asset_query p = { .scope_all = true, .limit = 2 };
    assert_int_equal(store_asset_search(f->st, &p, &ids, &n, &more), ODS_E_OK);
    ids_text(ids, n, got, sizeof(got));
    assert_string_equal(got, "1,2");
    assert_true(more);
    free(ids);
    p.after_id = 2;
    assert_int_equal(store_asset_search(f->st, &p, &ids, &n, &more), ODS_E_OK);
    ids_text(ids, n, got, sizeof(got));
    assert_string_equal(got, "3");
    assert_false(more);
    free(ids);
    struct asset_query o = { .scope_all = true, .limit = 1, .offset = 1 };
    assert_int_equal(store_asset_search(f->st, &o, &ids, &n, &more), ODS_E_OK);
    ids_text(ids, n, got, sizeof(got));
    assert_string_equal(got, "2");
    assert_true(more);
    free(ids);
}

static unsigned
mods_of(store_t *st, int64_t id)
{
    struct asset a;

    assert_int_equal(store_asset_get(st, id, &a), ODS_E_OK);
    return a.modules;
}

static void
test_modules(void **state)
{
    struct fixture *f = *state;
    const char *why = NULL;
    int64_t one[] = { 1 }, three[] = { 3 }, both[] = { 3, 1 }, missing[] = { 3, 99 };

    assert_int_equal(store_asset_set_modules(f->st, one, 1, MOD_PC, 0, &why), ODS_E_OK);
    assert_int_equal(mods_of(f->st, 1), MOD_VM | MOD_PC);
    /* SCA next to PC: refused, nothing changed, on any asset of the request */
    assert_int_equal(store_asset_set_modules(f->st, both, 2, MOD_SCA, 0, &why), ODS_E_PERM);
    assert_non_null(why);
    assert_int_equal(mods_of(f->st, 3), 0);
    assert_int_equal(mods_of(f->st, 1), MOD_VM | MOD_PC);
    /* SWCA needs VM, also when VM goes away */
    assert_int_equal(store_asset_set_modules(f->st, three, 1, MOD_SWCA, 0, &why), ODS_E_PERM);
    assert_int_equal(store_asset_set_modules(f->st, three, 1, MOD_SWCA | MOD_VM, 0, &why), ODS_E_OK);
    assert_int_equal(store_asset_set_modules(f->st, three, 1, 0, MOD_VM, &why), ODS_E_PERM);
    assert_int_equal(store_asset_set_modules(f->st, three, 1, 0, MOD_VM | MOD_SWCA, &why), ODS_E_OK);
    assert_int_equal(mods_of(f->st, 3), 0);
    assert_int_equal(store_asset_set_modules(f->st, missing, 2, MOD_VM, 0, &why), ODS_E_NOTFOUND);
    assert_int_equal(mods_of(f->st, 3), 0);
}

static void
test_asset_tags(void **state)
{
    struct fixture *f = *state;
    struct tag *tags = NULL;
    size_t n = 0;

    assert_int_equal(store_asset_tags(f->st, 3, &tags, &n), ODS_E_OK);
    assert_int_equal(n, 2);
    assert_string_equal(tags[0].name, "Cloud Agent");
    assert_int_equal(tags[0].id, 7);
    assert_string_equal(tags[1].name, "prod");
    free(tags);
    assert_int_equal(store_asset_tags(f->st, 2, &tags, &n), ODS_E_OK);
    assert_int_equal(n, 0);
    free(tags);
}

int
main(void)
{
    const char *file = getenv("ODS_PG_URL_FILE");
    int rc;

    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test_setup_teardown(test_fields, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_scope_and_paging, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_modules, setup_sqlite, teardown),
        cmocka_unit_test_setup_teardown(test_asset_tags, setup_sqlite, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_fields, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_scope_and_paging, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_modules, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_asset_tags, setup_pg, teardown),
    };
    rc = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
    if (rc != 0 || file == NULL)
        return rc;
    FILE *fp = fopen(file, "r");
    if (fp == NULL || fgets(cluster_url, sizeof(cluster_url), fp) == NULL) {
        if (fp != NULL)
            fclose(fp);
        printf("ok - skipped PostgreSQL: no cluster URL in %s\n", file);
        return 0;
    }
    fclose(fp);
    cluster_url[strcspn(cluster_url, "\r\n")] = '\0';
    return cmocka_run_group_tests_name("postgresql", pg_tests, NULL, NULL);
}
