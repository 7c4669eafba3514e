/* test_store_findings.c - store_findings_write writes only what changed: findings_diff's
 * plan for one asset (table-driven), and the semantics through the store on SQLite and,
 * when ODS_PG_URL_FILE names a cluster, again on PostgreSQL: unchanged findings only
 * move their last seen time, changed ones are updated, gone ones fixed, returning ones
 * reopened. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "store.h"
#include "store_impl.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T1 1714521600000LL
#define ASSET 42

static char cluster_url[512];        /* empty: SQLite only */

/* "ADV/pkg/fixed" -> a finding (installed 1.0, HIGH 75, aliases CVE-<ADV>) */
static struct finding
mk(const char *spec)
{
    struct finding f = { .score10 = 75 };
    char adv[64], pkg[64], fix[64];

    assert_int_equal(sscanf(spec, "%63[^/]/%63[^/]/%63s", adv, pkg, fix), 3);
    snprintf(f.advisory_id, sizeof(f.advisory_id), "%s", adv);
    snprintf(f.package, sizeof(f.package), "%s", pkg);
    snprintf(f.fixed_version, sizeof(f.fixed_version), "%s", fix);
    snprintf(f.installed_version, sizeof(f.installed_version), "1.0");
    snprintf(f.severity, sizeof(f.severity), "HIGH");
    snprintf(f.aliases, sizeof(f.aliases), "CVE-%s", adv);
    return f;
}

/* ---- findings_diff ----------------------------------------------------------------- */

struct diff_case {
    const char *name;
    const char *open[4];    /* stored open findings, NULL-terminated */
    const char *now[5];     /* the new assessment */
    const char *want;       /* "+ADV/pkg" puts, "-ADV/pkg" closes, sorted, comma-joined */
};

static const struct diff_case diff_cases[] = {
    { "nothing", { NULL }, { NULL }, "" },
    { "all new", { NULL }, { "B/q/2", "A/p/1", NULL }, "+A/p,+B/q" },
    { "unchanged", { "A/p/1", "B/q/2", NULL }, { "B/q/2", "A/p/1", NULL }, "" },
    { "fixed version changed", { "A/p/1", "B/q/2", NULL }, { "A/p/1", "B/q/3", NULL }, "+B/q" },
    { "gone", { "A/p/1", "B/q/2", NULL }, { "B/q/2", NULL }, "-A/p" },
    { "all gone", { "A/p/1", "B/q/2", NULL }, { NULL }, "-A/p,-B/q" },
    { "same advisory, other package", { "A/p/1", NULL }, { "A/q/1", NULL }, "+A/q,-A/p" },
    { "assessed twice: the last counts", { "A/p/1", NULL }, { "A/p/2", "A/p/1", NULL }, "" },
    { "assessed twice, changed", { "A/p/1", NULL }, { "A/p/1", "A/p/2", NULL }, "+A/p" },
};

static int
change_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
test_diff(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(diff_cases) / sizeof(diff_cases[0]); c++) {
        const struct diff_case *dc = &diff_cases[c];
        struct finding open[4], now[5];
        struct finding_change *ch = NULL;
        size_t nopen = 0, nnow = 0, n = 0;
        char got[512] = "", item[8][400];
        const char *items[8];

        while (dc->open[nopen] != NULL) {
            open[nopen] = mk(dc->open[nopen]);
            nopen++;
        }
        while (dc->now[nnow] != NULL) {
            now[nnow] = mk(dc->now[nnow]);
            nnow++;
        }
        assert_int_equal(findings_diff(open, nopen, now, nnow, &ch, &n), ODS_E_OK);
        assert_true(n <= 8);
        for (size_t i = 0; i < n; i++) {
            snprintf(item[i], sizeof(item[i]), "%c%s/%s", ch[i].op == FINDING_PUT ? '+' : '-',
                ch[i].f->advisory_id, ch[i].f->package);
            items[i] = item[i];
            /* a PUT carries the assessed finding, a CLOSE the stored one */
            if (ch[i].op == FINDING_PUT)
                assert_true(ch[i].f >= now && ch[i].f < now + nnow);
            else
                assert_true(ch[i].f >= open && ch[i].f < open + nopen);
        }
        qsort(items, n, sizeof(items[0]), change_cmp);
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(got);
            snprintf(got + len, sizeof(got) - len, "%s%s", i > 0 ? "," : "", items[i]);
        }
        if (strcmp(got, dc->want) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", dc->name, got, dc->want);
        free(ch);
    }
}

/* ---- through the store ------------------------------------------------------------- */

struct fixture {
    char     url[600];
    bool     pg;
    store_t *st;
};

static int
setup_common(struct fixture *f)
{
    const char *err = NULL;
    struct asset a = { .id = ASSET };

    if (store_open(f->url, &f->st, &err) != ODS_E_OK)
        fail_msg("store_open %s: %s", f->url, err);
    snprintf(a.hostname, sizeof(a.hostname), "web1");
    snprintf(a.os_family, sizeof(a.os_family), "linux");
    assert_int_equal(store_asset_add(f->st, &a), ODS_E_OK);
    return 0;
}

static int
setup_sqlite(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *tmp = getenv("TMPDIR");
    static int seq;

    assert_non_null(f);
    snprintf(f->url, sizeof(f->url), "sqlite:%s/findings_%d_%d.db", tmp ? tmp : "/tmp",
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
    snprintf(name, sizeof(name), "findings_%d_%d", (int)getpid(), seq++);
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

static void
write_at(store_t *st, int64_t now, const char *const *specs)
{
    struct finding fs[8];
    size_t n = 0;

    while (specs[n] != NULL) {
        fs[n] = mk(specs[n]);
        n++;
    }
    struct asset_findings af = { .asset_id = ASSET, .findings = fs, .n = n };
    assert_int_equal(store_findings_write(st, &af, 1, now), ODS_E_OK);
}

/* expect: the stored finding adv/pkg has these fixed version and times */
static void
expect(store_t *st, const char *adv, const char *pkg, const char *fix, int64_t first,
    int64_t last, int64_t fixed)
{
    struct finding_query q = { .asset_id = ASSET };
    struct finding *fs = NULL;
    size_t n = 0;
    bool found = false;

    assert_int_equal(store_findings_list(st, &q, &fs, &n), ODS_E_OK);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fs[i].advisory_id, adv) != 0 || strcmp(fs[i].package, pkg) != 0)
            continue;
        found = true;
        if (strcmp(fs[i].fixed_version, fix) != 0 || fs[i].first_seen_ms != first ||
            fs[i].last_seen_ms != last || fs[i].fixed_ms != fixed)
            fail_msg("%s/%s: fixed version %s, first %lld, last %lld, fixed %lld; want %s,"
                " %lld, %lld, %lld", adv, pkg, fs[i].fixed_version,
                (long long)fs[i].first_seen_ms, (long long)fs[i].last_seen_ms,
                (long long)fs[i].fixed_ms, fix, (long long)first, (long long)last,
                (long long)fixed);
        assert_string_equal(fs[i].severity, "HIGH");
        assert_int_equal(fs[i].score10, 75);
    }
    free(fs);
    if (!found)
        fail_msg("%s/%s not stored", adv, pkg);
}

static void
test_write(void **state)
{
    struct fixture *f = *state;
    const int64_t t2 = T1 + 1000, t3 = T1 + 2000, t4 = T1 + 3000;

    write_at(f->st, T1, (const char *[]){ "A/p/1.1", "B/q/2.0", "C/r/3.0", NULL });
    expect(f->st, "A", "p", "1.1", T1, T1, 0);
    /* unchanged: only last seen moves */
    write_at(f->st, t2, (const char *[]){ "C/r/3.0", "B/q/2.0", "A/p/1.1", NULL });
    expect(f->st, "A", "p", "1.1", T1, t2, 0);
    expect(f->st, "B", "q", "2.0", T1, t2, 0);
    expect(f->st, "C", "r", "3.0", T1, t2, 0);
    /* A's fixed version changed, C gone, D new */
    write_at(f->st, t3, (const char *[]){ "A/p/1.2", "B/q/2.0", "D/s/4.0", NULL });
    expect(f->st, "A", "p", "1.2", T1, t3, 0);
    expect(f->st, "B", "q", "2.0", T1, t3, 0);
    expect(f->st, "C", "r", "3.0", T1, t2, t3);
    expect(f->st, "D", "s", "4.0", t3, t3, 0);
    /* C back: reopened, first seen kept; nothing assessed closes everything else */
    write_at(f->st, t4, (const char *[]){ "C/r/3.0", NULL });
    expect(f->st, "C", "r", "3.0", T1, t4, 0);
    expect(f->st, "A", "p", "1.2", T1, t3, t4);
    expect(f->st, "D", "s", "4.0", t3, t3, t4);
    write_at(f->st, t4 + 1000, (const char *[]){ NULL });
    expect(f->st, "C", "r", "3.0", T1, t4, t4 + 1000);
    expect(f->st, "B", "q", "2.0", T1, t3, t4);
}

int
main(void)
{
    const char *file = getenv("ODS_PG_URL_FILE");
    int rc;

    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test(test_diff),
        cmocka_unit_test_setup_teardown(test_write, setup_sqlite, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_write, setup_pg, teardown),
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
